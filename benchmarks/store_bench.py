"""State-store benchmarks (issue 5): how fast a change is made durable, and what persisting every change
costs a replayed trading day compared with the in-memory backtest of the same day.

A backtest keeps its state in memory (nothing to recover); a paper or live run writes every order event,
fill and step through the store, one transaction each, SQLite in WAL mode with ``synchronous=FULL``.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.support.postgres import new_database, postgres_server

from benchmarks.report import Figures
from maemae.backtest.service import load_market, run_backtest
from maemae.config import parse_config
from maemae.data.sample import generate_sample_market
from maemae.data.universe import select_stocks
from maemae.domain.account import Account
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange, universe_selector
from maemae.engine.replay import run_persisted_replay
from maemae.ports.state import AccountTotals, AuditEntry, StateChange
from maemae.store.repository import SqlStateStore

COMMITS = 2_000


def _commit_rate(url: str) -> float:
    """Order state changes per second, each a full change: order row, history line, account, runtime
    documents and an audit record with its hash link."""
    store = SqlStateStore(url)
    at = datetime(2025, 12, 3, 9, 0, tzinfo=KST)
    account = AccountTotals(Account(100_000_000), 0, 0, 0)
    runtime = {"risk": {"version": 1, "trades_total": 3}, "exits": {}, "cursor": {"day": "2025-12-03"}}
    started = time.perf_counter()
    for n in range(COMMITS):
        order = Order(f"20251203-{n:06d}", StockCode("005930"), Side.BUY, 10, OrderType.LIMIT, 70_000, at)
        order.apply(OrderEvent.SUBMIT, at + timedelta(microseconds=n))
        audit = AuditEntry(at, "order", order.order_id, {"event": "submit", "quantity": 10})
        store.commit(StateChange(orders=[order], account=account, runtime=runtime, audit=[audit]))
    seconds = time.perf_counter() - started
    store.close()
    return COMMITS / seconds


def bench_store_commits(work: Path) -> Figures:
    sqlite_rate = _commit_rate(f"sqlite:///{work / 'commits.db'}")
    with postgres_server() as server:
        postgres_rate = _commit_rate(new_database(server))
    return {
        "changes written": COMMITS,
        "SQLite (WAL, synchronous=FULL): changes per second": sqlite_rate,
        "SQLite: ms per change": 1000 / sqlite_rate,
        "PostgreSQL 127.0.0.1 (test server, fsync off): changes per second": postgres_rate,
        "PostgreSQL: ms per change": 1000 / postgres_rate,
    }


def bench_persisted_replay(work: Path) -> Figures:
    """One trading day of 20 stocks: the in-memory backtest vs the replay that persists every change."""
    root = work / "store-replay"
    generate_sample_market(root, stocks=20, days=30, seed=11)
    config = parse_config(
        {
            "data": {"root": str(root)},
            "universe": {"max_stocks": 20, "safe_asset_code": "357870"},
            "strategies": {"daily": {"class": "sma_daily", "params": {"short": 3, "long": 10}}},
        }
    )
    market, days = load_market(config, None, None)
    day = days[-1]
    started = time.perf_counter()
    plain = run_backtest(config, start=day, end=day, every_bar=True)
    plain_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as directory:
        store = SqlStateStore(f"sqlite:///{directory}/replay.db")
        market, _ = load_market(config, day, day)
        from maemae.engine.clock import SimulatedClock
        from maemae.engine.composition import make_sim_exchange

        clock = SimulatedClock(datetime.combine(day, datetime.min.time(), tzinfo=KST))
        venue = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
        started = time.perf_counter()
        outcome = run_persisted_replay(config, market, [day], venue, store, clock)
        replay_seconds = time.perf_counter() - started
        records = store.verify_audit().records
        store.close()
    plain_orders = len(plain.engine.orders.orders)
    assert len(outcome.engine.orders.orders) == plain_orders, (
        "the persisted replay must trade like the backtest"
    )
    return {
        "day": day.isoformat(),
        "orders (sent and denied)": plain_orders,
        "in-memory backtest, every bar (s)": plain_seconds,
        "persisted replay, every change written (s)": replay_seconds,
        "audit records written": records,
        "overhead of persistence (s)": replay_seconds - plain_seconds,
    }


def bench_replay_cycle_100(work: Path) -> Figures:
    """CPU per step of a persisted paper replay on the default 100-stock sample (every stock visited every
    minute, every change written): the live loop's cycle without network time (issue 6 target <= 200 ms)."""
    root = work / "market"  # the default sample written by the first benchmark
    config = parse_config({"data": {"root": str(root)}, "universe": {"safe_asset_code": "357870"}})
    market, days = load_market(config, None, None)
    day = days[-1]
    market, _ = load_market(config, day, day)
    with tempfile.TemporaryDirectory() as directory:
        store = SqlStateStore(f"sqlite:///{directory}/cycle.db")
        clock = SimulatedClock(datetime.combine(day, datetime.min.time(), tzinfo=KST))
        venue = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
        cpu, wall = time.process_time(), time.perf_counter()
        outcome = run_persisted_replay(config, market, [day], venue, store, clock)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        store.close()
    steps = 381
    # the day's universe as the runner selects it (the kernel lets go of the day's data at the close)
    universe = select_stocks(
        day,
        market.daily,
        market.instruments,
        universe_selector(config, market.calendar),
        max_stocks=config.universe.max_stocks,
        safe_asset=config.universe.safe_asset_code,
    )
    codes = len(universe.codes)
    return {
        "day": day.isoformat(),
        "stocks in the universe": codes,
        "steps (minutes)": steps,
        "orders (sent and denied)": len(outcome.engine.orders.orders),
        "CPU per step, incl. loading the day (ms)": cpu / steps * 1000,
        "wall time of the day (s)": wall,
    }
