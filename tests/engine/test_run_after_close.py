"""A day on the clock stopped before its close (killed, the machine down over the close) and started again
after the close: the start closes the day, as the unbroken run would have.

The reviewer's failure: any start after 15:30:30 said `the session of DAY is over: nothing to do` and exited
0 without opening the store, so the day stopped half-way was never closed: no day's result, no end-of-day
report (`maemae report DAY`: no closed day), no book check, and the fills its open orders had after the
stop (the closing auction's among them) unbooked until the next morning's recovery.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from maemae.config import load_config
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import RunOptions, run_trading_day
from tests.engine.test_run import DAY, _closed_days, kis_paper_server
from tests.engine.test_run_restart_exact import LOGS, _at, _SigtermAt


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to itself is POSIX")
def test_run_on_the_clock_when_started_after_the_close_of_a_day_left_open_then_it_closes_the_day(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock(_at(8, 0))
    _SigtermAt(monkeypatch, _at(13, 0, 30))
    logs = LOGS.format(tmp_path)
    with kis_paper_server(market_root, tmp_path, monkeypatch, clock, logs) as (path, _):
        stopped = run_trading_day(load_config(path), RunOptions(clock=clock))
        assert stopped.note.startswith(f"{DAY}: stopped before the close by SIGTERM"), stopped.note
        assert _closed_days(tmp_path) == []
        clock.set(_at(16, 10))
        summary = run_trading_day(load_config(path), RunOptions(clock=clock))
        assert summary.note == f"{DAY}: the day is closed"
        assert summary.book_checked
        assert summary.book_differences == []
        assert summary.report is not None
        assert summary.report.cycles > 0
        assert summary.report_path is not None
        assert summary.report_path.exists()
        assert _closed_days(tmp_path) == [DAY.isoformat()]
        with sqlite3.connect(tmp_path / "state.db") as db:
            open_orders = db.execute(
                "select count(*) from orders where state in ('created', 'submitted', 'unknown', 'accepted', "
                "'partially_filled', 'pending_cancel', 'pending_modify')"
            ).fetchone()[0]
        assert open_orders == 0
        # a closed day stays closed: a start after it has nothing to do
        again = run_trading_day(load_config(path), RunOptions(clock=clock))
    assert again.note == f"the session of {DAY} is over: nothing to do"
    assert _closed_days(tmp_path) == [DAY.isoformat()]
