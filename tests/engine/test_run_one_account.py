"""A store keeps one account's book: a day on the clock for another account on it is refused before anything
connects.

The reviewer's failure: the store remembered no account. A config switched from KIS's paper server to the
real account (`mode = "live"`, `broker.kis.paper = false`; `store.url` defaults to the same
`var/maemae.db`), or to another account number, recovered the store's orders against the other account: an
order a stopped day left open was looked up by its broker number among the other account's orders, where
numbers restart each day and may be the same, and that order's fills, a trade made outside maemae, were
booked as maemae's own (maemae could then sell those shares); the store's holdings were cut as sold outside
maemae and its cash replaced.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from maemae.config import load_config
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import ACCOUNT_DOCUMENT, RunOptions, run_trading_day
from maemae.errors import StoreError
from tests.engine.test_run import DAY, kis_paper_server
from tests.engine.test_run_restart_exact import LOGS, _at, _SigtermAt


def _rows(directory: Path) -> tuple[list[tuple[object, ...]], ...]:
    with sqlite3.connect(directory / "state.db") as db:
        return tuple(
            list(db.execute(f"select * from {table}"))
            for table in ("orders", "positions", "account", "runtime_state", "audit_log")
        )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to itself is POSIX")
@pytest.mark.parametrize("switch", ["live account", "another account number"])
def test_run_on_the_clock_when_the_store_keeps_another_accounts_book_then_refused_and_nothing_written(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, switch: str
) -> None:
    clock = SimulatedClock(_at(8, 0))
    _SigtermAt(monkeypatch, _at(10, 0, 30))
    logs = LOGS.format(tmp_path)
    with kis_paper_server(market_root, tmp_path, monkeypatch, clock, logs) as (path, server):
        stopped = run_trading_day(load_config(path), RunOptions(clock=clock))
        assert stopped.note.startswith(f"{DAY}: stopped before the close by SIGTERM"), stopped.note
        before = _rows(tmp_path)
        assert any(row[0] == ACCOUNT_DOCUMENT for row in before[3])
        requests = sum(server.state.stats.values())
        if switch == "live account":
            text = path.read_text(encoding="utf-8").replace('mode = "paper"', 'mode = "live"')
            path.write_text(text.replace("[broker.kis]\n", "[broker.kis]\npaper = false\n"), encoding="utf-8")
        else:
            monkeypatch.setenv("KIS_ACCOUNT", "87654321")
        with pytest.raises(StoreError) as refused:
            run_trading_day(load_config(path), RunOptions(clock=clock, confirmed=True))
        assert sum(server.state.stats.values()) == requests  # nothing asked of the broker
    line = str(refused.value)
    assert "\n" not in line
    assert refused.value.exit_code == 6
    assert line.startswith(f"store sqlite:///{tmp_path}/state.db keeps the book of KIS paper account ")
    assert (
        "this run trades KIS real account " if switch == "live account" else "account 8765****-01"
    ) in line
    assert "give this run its own store.url" in line
    assert _rows(tmp_path) == before
