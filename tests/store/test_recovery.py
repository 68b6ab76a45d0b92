"""Recovery and reconciliation against an in-process simulated exchange: the union of codes, external
holdings left alone, shares sold outside maemae written off, and a failed broker query never read as flat."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from maemae.backtest.service import load_market
from maemae.brokers.sim.matching import MarketBar
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.events import FillReceived
from maemae.domain.fill import Fill
from maemae.domain.order import Order
from maemae.domain.order_states import OrderState
from maemae.domain.position import Position
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import build_backtest_engine, make_sim_exchange
from maemae.engine.persistence import StateRecorder
from maemae.engine.recovery import recover
from maemae.errors import RetryableBrokerError
from maemae.ports.broker import CashBalance, Holding, OrderRequest
from maemae.ports.state import SavedState
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config

DAY = date(2025, 12, 3)
HELD, EXTERNAL = StockCode("120570"), StockCode("137630")


class _Account:
    """The in-process exchange with the holdings and cash a broker would report (external trades included)."""

    def __init__(self, exchange: object, holdings: list[Holding], deposit: int, fail: bool = False) -> None:
        self._exchange = exchange
        self._holdings = holdings
        self._deposit = deposit
        self._fail = fail

    def __getattr__(self, name: str) -> object:
        return getattr(self._exchange, name)

    def holdings(self) -> list[Holding]:
        if self._fail:
            raise RetryableBrokerError("balance query timed out")
        return self._holdings

    def cash(self) -> CashBalance:
        return CashBalance(self._deposit, self._deposit)


def _setup(market_root: Path, tmp_path: Path, holdings: list[Holding], deposit: int, fail: bool = False):  # type: ignore[no-untyped-def]
    config = make_config(market_root)
    market, _ = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(8, 0), tzinfo=KST))
    exchange = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
    broker = _Account(exchange, holdings, deposit, fail)
    engine = build_backtest_engine(
        config, market.calendar, market.instruments, DAY, venue=broker, clock=clock
    )  # type: ignore[arg-type]
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    recorder = StateRecorder(store, engine.kernel)
    saved = SavedState(
        DAY, [], frozenset(), [Position(HELD, 10, 10, 1_000_000, 0, clock.now(), "s")], None, {}
    )
    return engine, broker, store, recorder, saved, clock


def test_recover_when_account_holds_external_and_fewer_shares_then_rule_applied_and_audited(
    market_root: Path, tmp_path: Path
) -> None:
    holdings = [Holding(HELD, 6, 6, Decimal(100_000)), Holding(EXTERNAL, 50, 50, Decimal(8_000))]
    engine, broker, store, recorder, saved, clock = _setup(market_root, tmp_path, holdings, 12_345_678)
    report = recover(engine.kernel, saved, broker, recorder, clock.now())  # type: ignore[arg-type]
    positions = engine.portfolio.positions
    assert (positions[HELD].owned_quantity, positions[HELD].account_quantity) == (6, 6)
    assert positions[HELD].cost_basis == 600_000  # the written-off shares take their part of the cost
    assert (positions[EXTERNAL].owned_quantity, positions[EXTERNAL].account_quantity) == (0, 50)
    assert engine.portfolio.owned(EXTERNAL) == 0  # maemae never sells shares it does not own
    assert engine.portfolio.account.settled_cash == 12_345_678
    assert len(report.differences) == 4
    (recovery,) = [e for e in store.audit_entries() if e.kind == "recovery"]
    assert recovery.data["differences"] == report.differences
    reconciled = [e for e in store.audit_entries() if e.kind == "reconcile"]
    assert {(e.subject, e.data["field"]) for e in reconciled} == {
        ("120570", "account_quantity"),
        ("120570", "owned_quantity"),
        ("137630", "account_quantity"),
        ("cash", "settled_cash"),
    }
    stored = {p.code: (p.owned_quantity, p.account_quantity) for p in store.load(DAY).positions}
    assert stored == {HELD: (6, 6), EXTERNAL: (0, 50)}
    store.close()


def test_recover_when_broker_query_fails_then_error_and_nothing_taken_as_flat(
    market_root: Path, tmp_path: Path
) -> None:
    engine, broker, store, recorder, saved, clock = _setup(market_root, tmp_path, [], 0, fail=True)
    with pytest.raises(RetryableBrokerError, match="balance query timed out"):
        recover(engine.kernel, saved, broker, recorder, clock.now())  # type: ignore[arg-type]
    assert engine.portfolio.positions[HELD].owned_quantity == 10
    assert not [e for e in store.audit_entries() if e.kind == "reconcile"]
    store.close()


def _open_order(order_id: str, number: str | None, state: OrderState, created: datetime) -> Order:
    """An order sent on ``created``'s day and still open in maemae's store, as a crash or a stop before the
    close leaves it (``number`` None: its submit reply never came)."""
    order = Order(order_id, HELD, Side.BUY, 5, OrderType.LIMIT, 100_000, created, state=state)
    order.broker_order_no = number
    return order


def test_recover_when_an_earlier_session_left_orders_open_then_that_day_s_orders_end_them(
    market_root: Path, tmp_path: Path
) -> None:
    """KRX orders are day orders: one sent in an earlier session ended with it, and today's orders at the
    broker no longer list it. A broker that reports no expiry (KIS and Creon drop the day's unfilled orders
    without a notice) left it open in maemae for good, blocking its stock and, for a pending cancel, every
    restart. The broker's orders of its own day say how it ended: here, that it was never there."""
    engine, broker, store, recorder, saved, clock = _setup(market_root, tmp_path, [], 12_345_678)
    yesterday = datetime.combine(date(2025, 12, 2), time(15, 10), tzinfo=KST)
    accepted = _open_order("20251202-000001", "0000901", OrderState.ACCEPTED, yesterday)
    cancelling = _open_order("20251202-000002", "0000902", OrderState.PENDING_CANCEL, yesterday)
    submitted = _open_order("20251202-000003", None, OrderState.SUBMITTED, yesterday)
    unknown = _open_order("20251202-000004", None, OrderState.UNKNOWN, yesterday)
    today = _open_order("20251203-000001", "0000903", OrderState.ACCEPTED, clock.now())
    saved = replace(saved, orders=[accepted, cancelling, submitted, unknown, today])
    report = recover(engine.kernel, saved, broker, recorder, clock.now())  # type: ignore[arg-type]
    states = {o.order_id: o.state for o in engine.kernel.orders.orders.values()}
    assert states == {
        accepted.order_id: OrderState.EXPIRED,
        cancelling.order_id: OrderState.EXPIRED,
        submitted.order_id: OrderState.REJECTED,  # its day's orders do not have it: never sent
        unknown.order_id: OrderState.REJECTED,
        today.order_id: OrderState.ACCEPTED,  # today's: the broker's word is awaited (a query, a notice)
    }
    assert report.closed == [accepted.order_id, cancelling.order_id]
    assert report.never_sent == [submitted.order_id, unknown.order_id]
    assert report.unasked_days == []
    assert accepted.history[-1].note == (
        "settled by query: the broker's orders of 2025-12-02 do not list it; it ended with that session"
    )
    assert submitted.history[-1].note == "settled by query: the broker has no such order: never sent"
    assert not engine.kernel.orders.knows_number("0000901")  # a number of today's may be the same
    stored = {o.order_id: o.state for o in store.load(yesterday.date()).orders}  # saved as they changed
    assert stored == {o.order_id: states[o.order_id] for o in (accepted, cancelling, submitted, unknown)}
    store.close()


class _TodayOnly(_Account):
    """A broker whose order query lists today's orders only (Creon's ``CpTd5341``)."""

    def orders_of_day(self, day: date) -> None:
        return None


def test_recover_when_the_broker_cannot_list_an_earlier_day_then_its_orders_expire_and_the_day_is_reported(
    market_root: Path, tmp_path: Path
) -> None:
    engine, broker, store, recorder, saved, clock = _setup(market_root, tmp_path, [], 12_345_678)
    broker = _TodayOnly(broker._exchange, [], 12_345_678)
    yesterday = datetime.combine(date(2025, 12, 2), time(15, 10), tzinfo=KST)
    accepted = _open_order("20251202-000001", "0000901", OrderState.ACCEPTED, yesterday)
    submitted = _open_order("20251202-000002", None, OrderState.SUBMITTED, yesterday)
    saved = replace(saved, orders=[accepted, submitted])
    report = recover(engine.kernel, saved, broker, recorder, clock.now())  # type: ignore[arg-type]
    assert (accepted.state, submitted.state) == (OrderState.EXPIRED, OrderState.EXPIRED)
    assert report.closed == [accepted.order_id, submitted.order_id]
    assert report.never_sent == []  # it may have gone out: not claimed unsent
    assert report.unasked_days == ["2025-12-02"]
    assert accepted.history[-1].note == (
        "settled by query: the broker cannot list the orders of 2025-12-02; it ended with that session "
        "(KRX orders are day orders)"
    )
    assert submitted.history[-1].note == (
        "settled by query: the broker cannot list the orders of 2025-12-02; sent or not, it ended with that "
        "session (KRX orders are day orders)"
    )
    (audited,) = [e for e in store.audit_entries() if e.kind == "recovery"]
    assert audited.data["unasked_days"] == ["2025-12-02"]
    store.close()


def test_recover_when_orders_filled_after_an_earlier_session_s_last_notice_then_the_fills_are_booked(
    market_root: Path, tmp_path: Path
) -> None:
    """A stop (or a crash) before the close left orders working at the broker, and they filled at the closing
    auction, after maemae's last look. Today's fills at the broker do not have them, so maemae expired the
    orders and counted the shares as held outside maemae: never managed (no stop loss), never sold."""
    config = make_config(market_root)
    market, _ = load_market(config, DAY, DAY)
    before = market.calendar.previous_session(DAY)
    base = {HELD: int(market.history.daily_before(HELD, before, 1).close[-1])}
    clock = SimulatedClock(datetime.combine(before, time(15, 10), tzinfo=KST))
    exchange = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
    exchange.start_day(before, base)
    price, limits = base[HELD], exchange.limits(HELD)
    assert limits is not None
    # maemae's state as the stop left it: two orders accepted, one whose submit reply never came
    filled = _open_order("20251202-000001", None, OrderState.ACCEPTED, clock.now())
    unfilled = _open_order("20251202-000002", None, OrderState.ACCEPTED, clock.now())
    unknown = _open_order("20251202-000003", None, OrderState.SUBMITTED, clock.now())
    for order, limit in ((filled, price), (unfilled, limits.lower), (unknown, price)):
        request = OrderRequest(order.order_id, HELD, Side.BUY, 5, OrderType.LIMIT, limit)
        number = exchange.submit(request).broker_order_no
        order.limit_price = limit
        if order is not unknown:
            order.broker_order_no = number
    auction = datetime.combine(before, time(15, 30), tzinfo=KST)
    exchange.on_bar(HELD, MarketBar(auction, price, price, price, price, 1_000_000, limits, True))
    exchange.end_day()
    clock.set(datetime.combine(DAY, time(8, 0), tzinfo=KST))
    exchange.start_day(DAY, {HELD: price})

    engine = build_backtest_engine(
        config, market.calendar, market.instruments, DAY, venue=exchange, clock=clock
    )
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    recorder = StateRecorder(store, engine.kernel)
    saved = SavedState(DAY, [filled, unfilled, unknown], frozenset(), [], None, {})
    booked: list[Fill] = []
    engine.orders.listeners.append(lambda e: booked.append(e.fill) if isinstance(e, FillReceived) else None)
    report = recover(engine.kernel, saved, exchange, recorder, clock.now())

    assert (filled.state, unfilled.state, unknown.state) == (
        OrderState.FILLED,
        OrderState.EXPIRED,
        OrderState.FILLED,
    )
    assert report.found == [unknown.order_id]
    assert len(report.recovered_fills) == 2
    assert report.differences == []  # the shares are maemae's, not outside it: nothing to reconcile
    assert engine.portfolio.owned(HELD) == 10
    assert [f.order_id for f in booked] == [filled.order_id, unknown.order_id]
    assert {(f.ts, f.quantity, f.price) for f in booked} == {(auction, 5, price)}  # dated on their day
    assert all(f.commission > 0 for f in booked)
    assert unfilled.history[-1].note == (
        "settled by query: the broker's orders of 2025-12-02 show 0 of 5 filled; the rest ended with that "
        "session (KRX orders are day orders)"
    )
    assert engine.portfolio.account.cash == exchange.account.cash  # the fills' cash, to the won
    stored = store.load(DAY)
    assert {p.code: p.owned_quantity for p in stored.positions} == {HELD: 10}
    store.close()
