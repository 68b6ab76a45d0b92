"""KIS unreachable: a closed port on 127.0.0.1 is a lost connection (exit 7) from the first request on.

The reviewer's failures: `maemae run` against a KIS that does not answer exited 3 ("broker error", final for
``--supervise``) because the token request, made before any other, turned the refused connection into a
retryable error; and `maemae data fetch --source kis` exited 2 ("bad input"), every code failed as if its
data were bad.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import pytest

from maemae.brokers.kis.adapter import KisBroker
from maemae.brokers.kis.mock.server import mock_environment
from maemae.cli import main
from maemae.config import load_config
from maemae.config.broker import KisBrokerConfig
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import RunOptions, run_trading_day
from maemae.errors import BrokerConnectionLost
from tests.brokers.conftest import DAY
from tests.engine.test_run import _config as run_config


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that nothing listens on: bound (so no other test takes it) but never listening,
    so a connection to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def _unreachable(port: int, tmp_path: Path, **changes: object) -> KisBrokerConfig:
    return KisBrokerConfig(
        base_url=f"http://127.0.0.1:{port}",
        ws_url=f"ws://127.0.0.1:{port}/tryitout",
        token_cache=tmp_path / "token.json",
        timeout_seconds=2.0,
        **changes,
    )


def test_token_and_approval_key_when_kis_refuses_the_connection_then_connection_lost(
    closed_port: int, tmp_path: Path
) -> None:
    config = _unreachable(closed_port, tmp_path, websocket=False)
    kis = KisBroker.from_config(config, clock=lambda: datetime.now(KST), environ=mock_environment(config))
    try:
        with pytest.raises(BrokerConnectionLost, match="/oauth2/tokenP: cannot connect") as token:
            kis.cash()  # the first request needs a token
        with pytest.raises(BrokerConnectionLost, match="/oauth2/Approval: cannot connect"):
            kis.rest.approval_key()
    finally:
        kis.close()
    assert token.value.exit_code == 7
    assert kis.rest.tokens.issued == 0


def test_live_run_when_kis_unreachable_at_the_start_then_connection_lost_for_the_supervisor(
    market_root: Path, tmp_path: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`maemae run --config live_bad.toml --confirm` on a trading morning, KIS not listening."""
    config = _unreachable(closed_port, tmp_path)
    for variable, value in mock_environment(config).items():
        monkeypatch.setenv(variable, value)
    path = run_config(market_root, tmp_path, mode="live")
    with path.open("a", encoding="utf-8") as toml:
        toml.write(
            f'\n[broker]\nkind = "kis"\n\n[broker.kis]\npaper = false\nbase_url = "{config.base_url}"\n'
            f'ws_url = "{config.ws_url}"\ntoken_cache = "{tmp_path}/token.json"\ntimeout_seconds = 2\n'
        )
    morning = SimulatedClock(datetime.combine(DAY, time(8), tzinfo=KST))
    with pytest.raises(BrokerConnectionLost, match="cannot connect"):
        run_trading_day(load_config(path), RunOptions(clock=morning, confirmed=True))


def test_data_fetch_when_kis_unreachable_then_one_line_and_exit_7_not_bad_input(
    tmp_path: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _unreachable(closed_port, tmp_path)
    for variable, value in mock_environment(config).items():
        monkeypatch.setenv(variable, value)
    path = tmp_path / "fetch.toml"
    path.write_text(
        f'[broker]\nkind = "kis"\n\n[broker.kis]\nbase_url = "{config.base_url}"\n'
        f'ws_url = "{config.ws_url}"\ntoken_cache = "{tmp_path}/token.json"\ntimeout_seconds = 2\n',
        encoding="utf-8",
    )
    args = ["data", "fetch", "--source", "kis", "--codes", "005930,000660", "--start", "2025-12-01"]
    args += ["--end", DAY.isoformat(), "--config", str(path), "--dir", str(tmp_path / "market")]
    assert main(args) == 7
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("error: KIS /oauth2/tokenP: cannot connect")
