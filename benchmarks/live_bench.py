"""The live loop's 10-second cycle for 100 stocks (issue 6 target: <= 200 ms of CPU, network excluded).

A stored day of the default sample is played back as 10-second price snapshots (``ReplayedQuotes``) to the
live loop (``engine.live.LiveDay``) on a simulated clock, trading on the simulated exchange, every change
persisted to SQLite. Each timer is timed on its own: the price refresh (snapshots into forming minute bars,
the trading since the last snapshot to the exchange), the minute cycle (fills, timeouts, exits and the minute
strategy for every stock, the portfolio stop, the checkpoint), the daily strategy on the live price (every
minute) and the reconciliation (every minute).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from benchmarks.report import Figures
from maemae.backtest.service import load_market
from maemae.config.loader import parse_config
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import replayed_day_in_process
from maemae.engine.scheduler import Scheduler
from maemae.store.repository import SqlStateStore


def _timed(spent: list[float], call: Callable[[datetime], None]) -> Callable[[datetime], None]:
    def run(now: datetime) -> None:
        start = time.process_time()
        call(now)
        spent.append(time.process_time() - start)

    return run


def bench_live_cycle_100(work: Path) -> Figures:
    root = work / "market"  # the default sample written by the first benchmark
    config = parse_config(
        {"mode": "paper", "data": {"root": str(root)}, "universe": {"safe_asset_code": "357870"}}
    )
    _, days = load_market(config, None, None)
    day = days[-1]
    market, _ = load_market(config, day, day)
    with tempfile.TemporaryDirectory() as directory:
        store = SqlStateStore(f"sqlite:///{directory}/live.db")
        clock = SimulatedClock(datetime.combine(day, datetime.min.time(), tzinfo=KST).replace(hour=8))
        live, _ = replayed_day_in_process(config, market, day, clock, store)
        spent: dict[str, list[float]] = {"refresh": [], "minute": [], "daily": [], "reconcile": []}
        live.refresh = _timed(spent["refresh"], live.refresh)  # type: ignore[method-assign]
        live.cycle = _timed(spent["minute"], live.cycle)  # type: ignore[method-assign]
        live.evaluate_daily = _timed(spent["daily"], live.evaluate_daily)  # type: ignore[method-assign]
        live.reconcile = _timed(spent["reconcile"], live.reconcile)  # type: ignore[method-assign]
        scheduler = Scheduler(clock)
        live.plan(scheduler)
        wall = time.perf_counter()
        scheduler.run_until(datetime.combine(day, datetime.min.time(), tzinfo=KST).replace(hour=16))
        wall = time.perf_counter() - wall
        store.close()

    def mean_ms(name: str) -> float:
        values = spent[name]
        return sum(values) / len(values) * 1000 if values else 0.0

    # one 10-second cycle: a refresh and a minute cycle, plus a sixth of the once-a-minute work
    cycle = mean_ms("refresh") + mean_ms("minute") + (mean_ms("daily") + mean_ms("reconcile")) / 6
    cycles = sorted(r + m for r, m in zip(spent["refresh"], spent["minute"], strict=False))
    worst, p99 = cycles[-1] * 1000, cycles[int(len(cycles) * 0.99)] * 1000
    first = (spent["refresh"][0] + spent["minute"][0]) * 1000
    return {
        "day": day.isoformat(),
        "stocks in the universe": len(live.stocks),
        "10-second cycles": live.report.cycles,
        "orders sent": live.report.orders,
        "price refresh, mean (ms CPU)": mean_ms("refresh"),
        "minute cycle incl. checkpoint, mean (ms CPU)": mean_ms("minute"),
        "daily strategy on live prices, mean (ms CPU, every minute)": mean_ms("daily"),
        "reconciliation, mean (ms CPU, every minute)": mean_ms("reconcile"),
        "one 10 s cycle, mean (ms CPU)": cycle,
        "refresh + minute cycle, 99th percentile (ms CPU)": p99,
        "the first cycle, which compiles the indicators (ms CPU)": first,
        "slowest refresh + minute cycle (ms CPU)": worst,
        "wall time of the simulated day (s)": wall,
    }
