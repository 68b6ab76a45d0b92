"""A resumed run whose exchange was restarted empty (``sim serve`` killed and started again) is refused at
recovery, with nothing changed: the new exchange lacks the fills the store booked, numbers its orders from 1
again, and trading on would cut every holding as sold outside maemae."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.engine.recovery import _shares_by_number
from maemae.ports.broker import BrokerFill
from tests.engine.test_paper import DAY, KEY, _config, _serve, _wait_for_cursor
from tests.user_errors import one_error_line


def _book(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        orders = db.execute("select * from orders order by order_id").fetchall()
        fills = db.execute("select * from fills order by fill_id").fetchall()
        positions = db.execute("select * from positions order by code").fetchall()
    return [*orders, *fills, *positions]


def _filled_shares(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("select coalesce(sum(quantity), 0) from fills").fetchone()[0])


@pytest.mark.whole_day
def test_resume_when_the_exchange_was_restarted_empty_then_refused_with_the_store_unchanged(
    market_root: Path, tmp_path: Path
) -> None:
    config_file = _config(market_root, tmp_path)
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    database = tmp_path / "state.db"
    server, exchange = _serve(config_file, env)
    paper = [sys.executable, "-m", "maemae.cli", "paper", "--config", str(config_file)]
    paper += ["--replay", DAY.isoformat(), "--exchange", exchange]
    try:
        first = subprocess.Popen([*paper, "--speed", "3000"], env=env, stdout=subprocess.PIPE)
        _wait_for_cursor(f"sqlite:///{database}", 150, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        server.kill()
        server.wait(10)
    assert _filled_shares(database) > 0  # the case: fills booked that a new exchange cannot have
    before = _book(database)

    server, again = _serve(config_file, env)  # a new, empty exchange
    try:
        paper[-1] = again
        second = subprocess.run(
            [*paper, "--speed", "0"], env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        server.kill()
        server.wait(10)
    assert second.returncode == 6, second.stderr
    line = one_error_line(second.stderr)
    assert "the venue sim lacks fills this store booked today" in line
    assert " shares filled here, 0 there" in line
    assert "it is not the venue this store traded with (restarted empty?), so nothing was changed" in line
    assert "or give the day a new store (--store URL" in line
    assert _book(database) == before  # no order, fill or position changed


def test_shares_by_number_when_running_totals_or_executions_then_each_number_counted_once() -> None:
    at = datetime(2025, 12, 3, 9, 30, tzinfo=KST)
    code = StockCode("005930")

    def fill(fill_id: str, number: str, quantity: int, total: int | None = None) -> BrokerFill:
        return BrokerFill(fill_id, number, code, Side.BUY, quantity, 70_000, at, total, None)

    fills = [
        fill("e1", "0001", 3),
        fill("e2", "0001", 4),
        fill("e1", "0001", 3),  # the same execution found twice
        fill("t1", "0002", 5, total=5),
        fill("t2", "0002", 2, total=7),
        fill("t1", "0002", 5, total=5),  # an older total, late
    ]
    assert _shares_by_number(fills) == {"0001": 7, "0002": 7}
