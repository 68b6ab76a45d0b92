"""A trading day stopped before the close reports the orders and fills it made (they were counted only at the
close, so a stopped run printed "orders 0, fills 0" over a store holding both), and says it did not close."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time as wall
from datetime import date, datetime, time
from pathlib import Path

import pytest

from maemae.backtest.service import load_market
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import replayed_day_in_process
from maemae.engine.scheduler import Scheduler
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config
from tests.engine.test_run import _config, _live_cursor_at

DAY = date(2025, 12, 3)


def _saved_totals(url: str) -> tuple[int, int]:
    """Today's orders sent to the broker and their fills, as the store holds them."""
    store = SqlStateStore(url, create=False)
    try:
        today = [o for o in store.load(DAY).orders if o.created_at.date() == DAY]
    finally:
        store.close()
    return sum(1 for o in today if o.broker_order_no), sum(len(o.fill_ids) for o in today)


@pytest.mark.whole_day
def test_day_report_when_stopped_mid_day_then_counts_the_orders_and_fills_so_far(
    market_root: Path, tmp_path: Path
) -> None:
    config = make_config(market_root, execution={"halt_file": str(tmp_path / "HALT")})
    market, _ = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(7, 0), tzinfo=KST))
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = SqlStateStore(url)
    try:
        live, _ = replayed_day_in_process(config, market, DAY, clock, store)
        scheduler = Scheduler(clock)
        assert live.plan(scheduler)
        scheduler.run_until(datetime.combine(DAY, time(11, 0), tzinfo=KST))
        report = live.report
        assert not live.closed
        assert (report.closed, report.equity) == (False, None)
        assert report.orders > 0
        assert report.fills > 0
        assert (report.orders, report.fills) == _saved_totals(url)
        scheduler.run_until(datetime.combine(DAY, time(16, 0), tzinfo=KST))
        assert report.closed
        assert report.equity is not None
        (result,) = store.daily_results()
    finally:
        store.close()
    assert (report.orders, report.fills) == (result.orders, result.fills) == _saved_totals(url)


@pytest.mark.whole_day
def test_run_when_stopped_by_sigterm_mid_replay_then_prints_what_the_store_holds(
    market_root: Path, tmp_path: Path
) -> None:
    config = _config(market_root, tmp_path, f'[logging]\ndir = "{tmp_path}/log"\nconsole = false\n')
    url = f"sqlite:///{tmp_path}/state.db"
    args = [sys.executable, "-m", "maemae.cli", "run", "--config", str(config)]
    child = subprocess.Popen(
        [*args, "--replay", DAY.isoformat(), "--speed", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        deadline = wall.monotonic() + 90
        while (at := _live_cursor_at(url)) is None or at.time() < time(10, 30):
            assert child.poll() is None, child.communicate()
            assert wall.monotonic() < deadline, "the run did not reach 10:30"
            wall.sleep(0.05)
        child.send_signal(signal.SIGTERM)  # how the dashboard's Stop and service managers end a run
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert child.returncode == 0, err
    assert f"{DAY}: stopped before the close by SIGTERM" in out
    assert "book:" not in out  # a day stopped half-way is not judged
    found = re.search(r"orders (\d+), fills (\d+); equity at the close \(not closed\)", out)
    assert found, out
    orders, fills = int(found[1]), int(found[2])
    assert orders > 0
    assert (orders, fills) == _saved_totals(url)
