"""The trading day on a clock (the live loop), run on a simulated clock over a stored day played back as
10-second price snapshots: the minute bars it builds are the stored ones, it trades through the same kernel,
and at the close maemae's book equals the exchange's."""

from __future__ import annotations

import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pytest

from maemae.alerts.messages import Alert, AlertKind
from maemae.backtest.service import load_market
from maemae.brokers.sim.exchange import SimExchange
from maemae.config import MaemaeConfig
from maemae.data.bars import BAR_COLUMNS, BarArrays, Timeframe, day_ns
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.order_states import OrderState
from maemae.domain.position import Position
from maemae.engine.books import book_differences
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import build_backtest_engine
from maemae.engine.live import LiveDay
from maemae.engine.operator import request_state
from maemae.engine.persistence import StateRecorder
from maemae.engine.runtime import replayed_day_in_process
from maemae.engine.scheduler import Scheduler
from maemae.risk.state import TradingState
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config

DAY = date(2025, 12, 3)


@dataclass
class Run:
    live: LiveDay
    sim: SimExchange
    store: SqlStateStore
    scheduler: Scheduler
    clock: SimulatedClock


class Collected:
    """An alert sink that keeps what it is sent."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def kinds(self) -> set[AlertKind]:
        return {a.kind for a in self.alerts}


def start(
    config: MaemaeConfig,
    tmp_path: Path,
    day: date = DAY,
    alerts: Collected | None = None,
    *,
    carried: bool = True,
) -> Run:
    market, _ = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(day, time(7, 0), tzinfo=KST))
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    live, sim = replayed_day_in_process(config, market, day, clock, store, alerts, carried=carried)
    return Run(live, sim, store, Scheduler(clock), clock)


@pytest.fixture
def config(market_root: Path, tmp_path: Path) -> MaemaeConfig:
    return make_config(market_root, execution={"halt_file": str(tmp_path / "HALT")})


@pytest.mark.whole_day
def test_live_day_when_run_on_the_clock_then_trades_and_book_equals_exchange(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    run = start(config, tmp_path)
    try:
        assert run.live.plan(run.scheduler)
        run.scheduler.run_until(datetime.combine(DAY, time(16, 0), tzinfo=KST))
        live, core = run.live, run.live.core
        assert live.closed
        assert live.report.cycles == 6 * 380  # every 10 s from 09:00 to 15:19:50
        assert live.report.refreshes == 6 * 380
        # the minute bars built from the snapshots are the stored bars
        for code, stock in live.stocks.items():
            stored = live.market.minute_day(code, DAY)
            built = stock.minutes.completed
            assert [b.close for b in built] == [int(c) for c in stored.close], code
            assert [b.high for b in built] == [int(h) for h in stored.high], code
            assert [b.volume for b in built] == [int(v) for v in stored.volume], code
        orders = list(core.orders.orders.values())
        assert any(o.state is OrderState.FILLED for o in orders)
        assert not [o for o in orders if o.is_open]
        assert book_differences(core.orders, core.portfolio, run.sim, run.sim.all_orders()) == []
        with sqlite3.connect(tmp_path / "state.db") as db:
            days = db.execute("select trading_day, equity from daily_results").fetchall()
        assert days == [(DAY.isoformat(), live.report.equity)]
        assert run.store.verify_audit().ok
    finally:
        run.store.close()


@pytest.mark.whole_day
def test_live_day_when_halted_then_open_orders_cancelled_and_nothing_new(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    run = start(config, tmp_path)
    try:
        assert run.live.plan(run.scheduler)
        run.scheduler.run_until(datetime.combine(DAY, time(11, 0), tzinfo=KST))
        before = len(run.live.core.orders.orders)
        (tmp_path / "HALT").touch()
        run.scheduler.run_until(datetime.combine(DAY, time(16, 0), tzinfo=KST))
        core = run.live.core
        after = [o for o in core.orders.orders.values() if o.created_at.time() > time(11, 0)]
        assert all(o.state is OrderState.DENIED for o in after)
        assert len(core.orders.orders) >= before
        assert run.live.report.halted_cycles > 0
    finally:
        run.store.close()


def test_live_day_when_not_a_trading_day_then_nothing_runs(config: MaemaeConfig, tmp_path: Path) -> None:
    run = start(config, tmp_path, day=date(2025, 12, 6))  # a Saturday
    try:
        assert not run.live.plan(run.scheduler)
        assert run.scheduler.next_due() is None
    finally:
        run.store.close()


@pytest.mark.whole_day
def test_live_day_when_things_happen_then_the_operator_is_alerted(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    alerts = Collected()
    run = start(config, tmp_path, alerts=alerts)
    try:
        assert run.live.plan(run.scheduler)
        outside = StockCode("137630")

        def trade_outside(now: datetime) -> None:
            run.sim.external_trade(outside, Side.BUY, 40, run.live.price_of(outside))

        run.scheduler.at(datetime.combine(DAY, time(10, 30, 5), tzinfo=KST), trade_outside, name="outside")
        run.scheduler.at(
            datetime.combine(DAY, time(13, 0, 5), tzinfo=KST),
            lambda now: (tmp_path / "HALT").touch(),
            name="halt",
        )
        run.scheduler.run_until(datetime.combine(DAY, time(16, 0), tzinfo=KST))
    finally:
        run.store.close()
    kinds = alerts.kinds()
    assert {AlertKind.FILL, AlertKind.RECONCILIATION, AlertKind.HALT, AlertKind.REPORT} <= kinds
    differences = [a for a in alerts.alerts if a.kind is AlertKind.RECONCILIATION]
    assert differences[0].title == "137630 account_quantity"
    assert "account_quantity" in differences[0].text
    halts = [a for a in alerts.alerts if a.kind is AlertKind.HALT]
    assert halts[0].title == "trading halted"
    (report,) = [a for a in alerts.alerts if a.kind is AlertKind.REPORT]
    assert report.title == f"{DAY} closed"
    fills = [a for a in alerts.alerts if a.kind is AlertKind.FILL]
    assert len(fills) == sum(len(o.fill_ids) for o in run.live.core.orders.orders.values())


def test_live_day_when_the_first_session_of_the_year_then_it_opens_an_hour_late(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    run = start(config, tmp_path, day=date(2026, 1, 2))
    try:
        assert run.live.plan(run.scheduler)
        assert run.scheduler.next_due() == datetime(2026, 1, 2, 9, 50, tzinfo=KST)  # prepare: 10 min early
        firsts = sorted({e.due for e in run.scheduler._heap if e.timer.name == "prices"})
        assert firsts == [datetime(2026, 1, 2, 10, 0, tzinfo=KST)]
    finally:
        run.store.close()


def test_live_day_when_yesterday_missed_minutes_reads_them_filled_as_the_backtest_does(
    market_root: Path, tmp_path: Path
) -> None:
    """The minute strategy's yesterday is the same bars live and in a backtest: the minutes a stock did not
    trade are flat bars at the last price (as today's bars form from snapshots), not left out."""
    root = tmp_path / "market"
    shutil.copytree(market_root, root)
    config = make_config(root, execution={"halt_file": str(tmp_path / "HALT")})
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = start(config, tmp_path / "first")
    first.live.prepare(datetime.combine(DAY, time(8, 50), tzinfo=KST))
    code = next(c for c in sorted(first.live.stocks) if c != config.universe.safe_asset_code)
    first.store.close()
    previous = first.live.calendar.previous_session(DAY)
    store = BarStore(root)
    everything = store.read_arrays(code, Timeframe.MINUTE)
    quiet = (everything.ts >= day_ns(previous) + (10 * 60 + 5) * 60 * 10**9) & (
        everything.ts < day_ns(previous) + (10 * 60 + 25) * 60 * 10**9
    )  # 10:05 to 10:24 of yesterday: twenty minutes without a trade
    store.write_arrays(
        code, Timeframe.MINUTE, BarArrays(*(getattr(everything, n)[~quiet] for n in BAR_COLUMNS))
    )

    run = start(config, tmp_path / "second")
    try:
        run.live.prepare(datetime.combine(DAY, time(8, 50), tzinfo=KST))
        yesterday = run.live.stocks[code].yesterday
        market, _ = load_market(config, DAY, DAY, backtest=True)
        joined, today_start = market.day_bars(DAY, [code]).joined[code]
        assert len(yesterday) == today_start == len(market.grid(previous))
        for name in BAR_COLUMNS:
            assert getattr(yesterday, name).tolist() == getattr(joined, name)[:today_start].tolist(), name
        filled = (yesterday.ts >= everything.ts[quiet][0]) & (yesterday.ts <= everything.ts[quiet][-1])
        assert int(filled.sum()) == 20
        assert set(yesterday.volume[filled].tolist()) == {0}
        assert len(set(yesterday.close[filled].tolist())) == 1  # the last price before the quiet minutes
    finally:
        run.store.close()


def test_live_day_when_the_start_finds_a_difference_then_it_is_alerted_as_one_during_the_day_would_be(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    """The store says maemae owns 10 shares the account does not hold (sold in the broker's app while maemae
    was down): the start's reconciliation settles it by the rule, and the operator hears of it as of a
    difference found during the day. A start's differences were only printed and audited."""
    market, _ = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(7, 0), tzinfo=KST))
    held = StockCode(next(iter(market.daily)))
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    before = build_backtest_engine(config, market.calendar, market.instruments, DAY, clock=clock)
    shares = Position(held, 10, 10, 1_000_000, 0, clock.now(), "sma_daily")
    before.portfolio.restore(before.portfolio.account, [shares], (0, 0, 0), {})
    StateRecorder(store, before.kernel).checkpoint()
    store.close()
    alerts = Collected()
    run = start(config, tmp_path, alerts=alerts, carried=False)  # the account holds none of them
    try:
        reconciled = [a for a in alerts.alerts if a.kind is AlertKind.RECONCILIATION]
        # what the account holds and what maemae owns, both cut to the broker's 0
        assert [a.title for a in reconciled] == [f"{held} account_quantity", f"{held} owned_quantity"]
        assert all(a.text.startswith(f"{held} ") and "broker 0" in a.text for a in reconciled)
        assert run.live.core.portfolio.owned(held) == 0
    finally:
        run.store.close()


@pytest.mark.whole_day
def test_live_day_when_the_operator_halts_then_the_alert_says_who_and_why(
    config: MaemaeConfig, tmp_path: Path
) -> None:
    """``maemae halt --reason "live test"``: the alert carries the reason the status shows. Before, it read
    ``by operator`` alone, and whoever it reached had to open ``maemae status`` to learn why."""
    alerts = Collected()
    run = start(config, tmp_path, alerts=alerts)
    try:
        assert run.live.plan(run.scheduler)
        run.scheduler.at(
            datetime.combine(DAY, time(13, 0, 5), tzinfo=KST),
            lambda now: request_state(run.store, TradingState.HALTED, "live test", "alice", now),
            name="halt",
        )
        run.scheduler.run_until(datetime.combine(DAY, time(13, 5), tzinfo=KST))
    finally:
        run.store.close()
    (halt,) = [a for a in alerts.alerts if a.kind is AlertKind.HALT]
    assert halt.title == "trading halted"
    assert re.fullmatch(r"by operator alice: live test(; \d+ open order\(s\) cancelled)?", halt.text), (
        halt.text
    )
