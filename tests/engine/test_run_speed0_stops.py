"""``maemae run --replay DAY`` at the default speed 0 (a simulated clock, as fast as it goes) stopped by
Ctrl-C or SIGTERM says so in the same line as a run on the wall clock: where it stopped, and, its exchange
having run inside the process, that this day cannot be resumed and what to do instead. Ctrl-C used to escape
as a bare KeyboardInterrupt: exit 130 with nothing on stdout or stderr."""

from __future__ import annotations

import re
import signal
import sys
from datetime import time
from pathlib import Path

import pytest

from tests.engine.test_run import _closed_days
from tests.engine.test_run import _config as run_config
from tests.engine.test_run_stops import stopped_at

GONE = (
    "the state is saved, but the exchange ran inside this process and is gone, so this day cannot be "
    "resumed: replay it into a new store (--store URL, or the config's store.url)"
)


def _stopped(market_root: Path, tmp_path: Path, number: signal.Signals) -> tuple[int, str, str]:
    """A speed-0 replay with the default cadences (long enough to be caught half-way), stopped by
    ``number`` once its saved cycle has passed 10:00."""
    config = _config(market_root, tmp_path)
    url = f"sqlite:///{tmp_path}/state.db"
    args = [sys.executable, "-m", "maemae.cli", "run", "--config", str(config), "--replay", "2025-12-03"]
    return stopped_at(args, url, time(10, 0), number)


def _config(market_root: Path, tmp_path: Path) -> Path:
    """test_run's config at its default cadences (a timer every 10 s), its log beside its store."""
    return run_config(market_root, tmp_path, f'[logging]\ndir = "{tmp_path}/logs"')


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_run_replay_at_speed_0_when_ctrl_c_then_exit_130_with_the_stop_line(
    market_root: Path, tmp_path: Path
) -> None:
    code, out, err = _stopped(market_root, tmp_path, signal.SIGINT)
    assert code == 130, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert re.match(
        r"error: 2025-12-03: stopped before the close by SIGINT after \d+ orders? and \d+ fills?; ", lines[0]
    ), lines[0]
    assert GONE in lines[0]
    assert "the day is closed" not in out
    assert "book difference" not in err
    assert _closed_days(tmp_path) == []


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM handling is POSIX")
def test_run_replay_at_speed_0_when_sigterm_then_exit_0_with_the_stop_line(
    market_root: Path, tmp_path: Path
) -> None:
    code, out, err = _stopped(market_root, tmp_path, signal.SIGTERM)
    assert code == 0, err
    assert re.search(
        r"2025-12-03: stopped before the close by SIGTERM after \d+ orders? and \d+ fills?; ", out
    )
    assert GONE in out
    assert "Traceback" not in err
    assert "book difference" not in err
    assert _closed_days(tmp_path) == []
