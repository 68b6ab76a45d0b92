"""A supervised run that ends in a user error ends with the worker's one error line, as an unsupervised run
does: the supervisor adds no line after it (it used to add "worker exited with code 2")."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from maemae.engine.supervisor import Supervisor
from tests.engine.test_paper import DAY
from tests.engine.test_run import _config


class _Ended:
    pid = 4242

    def __init__(self, code: int) -> None:
        self.code = code

    def wait(self) -> int:
        return self.code


@pytest.mark.parametrize("code", [1, 2, 3, 6])
def test_supervisor_when_the_worker_fails_for_good_then_says_nothing_after_it(code: int) -> None:
    lines: list[str] = []

    def start(_: Sequence[str]) -> _Ended:
        return _Ended(code)

    assert Supervisor(["worker"], lines.append, start=start).run() == code  # type: ignore[arg-type]
    assert lines == ["supervisor: worker pid 4242 started"]


def test_run_supervised_when_the_config_is_refused_then_the_error_line_is_the_last_line(
    market_root: Path, tmp_path: Path
) -> None:
    config = _config(market_root, tmp_path, mode="backtest")
    command = [sys.executable, "-m", "maemae.cli", "run", "--config", str(config)]
    plain = subprocess.run(
        [*command, "--replay", DAY.isoformat()], capture_output=True, text=True, timeout=120
    )
    supervised = subprocess.run(
        [*command, "--replay", DAY.isoformat(), "--supervise"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # as a terminal shows both
        text=True,
        timeout=120,
    )
    assert plain.returncode == supervised.returncode == 2
    (error,) = plain.stderr.strip().splitlines()
    assert error.startswith('error: mode = "backtest"')
    lines = supervised.stdout.strip().splitlines()
    assert lines[-1] == error
    assert [line for line in lines if not line.startswith("supervisor: worker pid ")] == [error]
    assert "Traceback" not in supervised.stdout
