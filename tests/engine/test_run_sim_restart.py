"""Paper on the clock with the simulated exchange inside the run (``broker.kind = "sim"``, KIS's prices),
stopped half-way and started again.

The review's failure: the restart made a new, empty exchange with ``backtest.initial_cash`` and recovered
against it. Every share the stopped run held was taken for sold outside maemae (owned cut to 0), its cost
booked as a loss, the cash reset, and the portfolio stop ended the day's entries on the loss it made up.
Such a store was then refused. Now the new exchange takes over the store's book (``engine.sim_book``), so
the restarted day trades exactly as the unbroken day, every order, fill and number alike.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import datetime, time
from pathlib import Path

import pytest

from maemae.config import load_config
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import RunOptions, run_trading_day
from maemae.krx.calendar import default_calendar
from tests.engine.test_run import DAY, kis_paper_server
from tests.engine.test_run_restart_exact import LOGS, _at, day_on_the_clock


def _numbers(directory: Path) -> list[tuple[object, ...]]:
    """Each order's broker number and the exchange's fill ids, as the store holds them."""
    with sqlite3.connect(directory / "state.db") as db:
        orders = list(db.execute("select order_id, broker_order_no from orders order by order_id"))
        fills = list(db.execute("select fill_id, order_id from fills order by fill_id"))
    return orders + fills


def _book(directory: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with sqlite3.connect(directory / "state.db") as db:
        positions = list(
            db.execute("select code, owned_quantity, account_quantity, cost_basis from positions")
        )
        account = list(  # all but when it was written
            db.execute("select settled_cash, pending, reserved, realised_pnl, commission, tax from account")
        )
    return positions, account


def _day_amount(directory: Path) -> tuple[int, dict[str, object]]:
    """The risk state's amount committed on the day, and the working orders it still counts, as saved."""
    with sqlite3.connect(directory / "state.db") as db:
        (data,) = db.execute("select data from runtime_state where name = 'risk'").fetchone()
    risk = json.loads(data)
    return risk["amount_today"], risk["working_orders"]


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to itself is POSIX")
def test_run_on_the_clock_with_sim_when_stopped_and_started_again_then_it_trades_as_the_unbroken_day(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = _at(8, 0)
    unbroken = day_on_the_clock(market_root, tmp_path / "unbroken", monkeypatch, start, None, "sim")
    assert len(unbroken[0]) > 10, "a day with few fills would show little"
    # stopped holding shares, with orders working (it was refused before)
    restarted = day_on_the_clock(
        market_root, tmp_path / "restarted", monkeypatch, start, _at(13, 0, 30), "sim"
    )
    assert restarted == unbroken  # fills, orders (their final states among them) and the day's cycles
    assert _numbers(tmp_path / "restarted") == _numbers(tmp_path / "unbroken")
    assert _book(tmp_path / "restarted") == _book(tmp_path / "unbroken")
    # the orders working at the stop ended after the restart: their unfilled shares were taken back once
    assert _day_amount(tmp_path / "restarted") == _day_amount(tmp_path / "unbroken")
    assert _day_amount(tmp_path / "unbroken")[1] == {}


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to itself is POSIX")
def test_run_on_the_clock_with_sim_when_the_next_day_starts_then_it_holds_what_the_day_before_left(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_day = default_calendar().previous_session(DAY)
    clock = SimulatedClock(datetime.combine(first_day, time(8, 0), KST))
    logs = LOGS.format(tmp_path)
    with kis_paper_server(market_root, tmp_path, monkeypatch, clock, logs, "sim", first_day) as (path, _):
        first = run_trading_day(load_config(path), RunOptions(clock=clock))
    assert first.note == f"{first_day}: the day is closed"
    held, _ = _book(tmp_path)
    held_codes = sorted(str(row[0]) for row in held if row[2])
    assert held_codes, "the first day ends holding shares"
    clock.set(_at(8, 0))
    told: list[str] = []
    with kis_paper_server(market_root, tmp_path, monkeypatch, clock, logs, "sim") as (path, _):
        second = run_trading_day(load_config(path), RunOptions(clock=clock, tell=told.append))
    assert second.note == f"{DAY}: the day is closed"
    # the new exchange held the day before's shares and cash: nothing taken for traded outside maemae
    assert told[0] == (
        "recovery: 0 orders restored, 0 found at the broker, 0 never sent, 0 fills recovered, 0 closed, "
        "0 reconciliation differences"
    )
    assert f"({len(held_codes)} held)" in told[1]
    assert second.book_differences == []
    assert second.book_checked
