"""``maemae sim serve`` without its shared secret is refused at once, before the config is read and the
engine imported (it took about ten seconds, loading the market, and looked like a hang under a timeout)."""

from __future__ import annotations

import sys

import pytest

from maemae.cli import main
from tests.user_errors import refused


def test_sim_serve_when_the_secret_is_missing_then_refused_before_anything_is_loaded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MAEMAE_SIM_AUTHKEY", raising=False)
    monkeypatch.delitem(sys.modules, "maemae.engine.paper", raising=False)
    line = refused(main(["sim", "serve", "--config", "absent.toml", "--port", "0"]), capsys)
    assert line.startswith(
        "error: --authkey-env MAEMAE_SIM_AUTHKEY: the variable must hold a secret of at least"
    )
    assert "maemae.engine.paper" not in sys.modules
