"""Paper on the clock with the simulated exchange inside the run (``broker.kind = "sim"``, KIS's prices),
stopped half-way and started again.

The reviewer's failure: the restart made a new, empty exchange with ``backtest.initial_cash`` and recovered
against it. Every share the stopped run held was taken for sold outside maemae (owned cut to 0), its cost
booked as a loss, the cash reset, and the portfolio stop ended the day's entries on the loss it made up; the
stop line had said "start the same command again to go on", and ``--supervise`` restarts such a run by
itself after exit 7. The same happened on the next day's first start. Such a store is now refused, as a
replay's with the exchange inside the run is.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from maemae.config import load_config
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import RunOptions, run_trading_day
from maemae.errors import StoreError
from tests.engine.test_run import DAY, kis_paper_server
from tests.engine.test_run_restart_exact import LOGS, _at, _SigtermAt


def _book(directory: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], int]:
    with sqlite3.connect(directory / "state.db") as db:
        positions = list(db.execute("select * from positions order by code"))
        account = list(db.execute("select * from account"))
        audit = db.execute("select count(*) from audit_log").fetchone()[0]
    return positions, account, audit


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to itself is POSIX")
def test_run_on_the_clock_with_sim_when_started_again_holding_shares_then_refused_and_the_book_kept(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock(_at(8, 0))
    _SigtermAt(monkeypatch, _at(13, 0, 30))
    logs = LOGS.format(tmp_path)
    with kis_paper_server(market_root, tmp_path, monkeypatch, clock, logs, "sim") as (path, _):
        stopped = run_trading_day(load_config(path), RunOptions(clock=clock))
        assert stopped.note.startswith(f"{DAY}: stopped before the close by SIGTERM"), stopped.note
        assert "start the same command again" not in stopped.note
        assert "the simulated exchange ran inside this process and is gone" in stopped.note
        before = _book(tmp_path)
        assert any(row for row in before[0]), "the stopped run held shares"
        with pytest.raises(StoreError) as refused:
            run_trading_day(load_config(path), RunOptions(clock=clock))
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith(f"store sqlite:///{tmp_path}/state.db holds shares of ")
    assert 'broker.kind = "kis", broker.kis.paper = true' in line
    assert refused.value.exit_code == 6
    assert _book(tmp_path) == before  # nothing recovered against the empty exchange, nothing audited
