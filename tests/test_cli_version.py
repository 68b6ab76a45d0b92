"""``maemae --version`` prints the version, as ``maemae version`` does (a new user tried the option first and
got "No such option")."""

from __future__ import annotations

import pytest

from maemae import __version__
from maemae.cli import main


@pytest.mark.parametrize("argv", [["--version"], ["version"]])
def test_version_when_asked_either_way_then_prints_it_and_exits_0(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (f"{__version__}\n", "")
