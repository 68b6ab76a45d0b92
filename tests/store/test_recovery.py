"""Recovery and reconciliation against an in-process simulated exchange: the union of codes, external
holdings left alone, shares sold outside maemae written off, and a failed broker query never read as flat."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from maemae.alerts.messages import Alert, AlertKind
from maemae.backtest.market import BacktestMarket
from maemae.backtest.service import load_market
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.matching import MarketBar
from maemae.config import MaemaeConfig
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.events import FillReceived
from maemae.domain.fill import Fill
from maemae.domain.order import Order
from maemae.domain.order_states import OrderState
from maemae.domain.position import Position
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import Engine, build_backtest_engine, make_sim_exchange
from maemae.engine.persistence import StateRecorder
from maemae.engine.recovery import RecoveryReport, _latest, _rows_of, recover
from maemae.errors import RetryableBrokerError, StoreError
from maemae.execution.order_manager import order_request
from maemae.krx.limits import PriceLimits
from maemae.ports.broker import BrokerOrder, BrokerOrderStatus, CashBalance, Holding, OrderRequest
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
    today = _open_order("20251203-000001", "S0000903", OrderState.ACCEPTED, clock.now())
    _works(broker, today)
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


def _works(broker: _Account, order: Order) -> None:
    """``order`` working at ``broker``'s exchange under its number, as the exchange a restart finds holds it
    (handed over as the store keeps it, ``SimExchange.carry_over``)."""
    exchange = broker._exchange
    assert isinstance(exchange, SimExchange)
    assert order.broker_order_no is not None
    shown = BrokerOrder(
        order.broker_order_no,
        order.code,
        order.side,
        order.quantity,
        order.limit_price,
        order.order_type,
        0,
        BrokerOrderStatus.WORKING,
        order.created_at,
    )
    exchange.carry_over(DAY, exchange.account, {}, [(order_request(order, order.quantity), shown)], 0)


def _today_working(clock: SimulatedClock) -> Order:
    return _open_order("20251203-000001", "S0000903", OrderState.ACCEPTED, clock.now())


def test_recover_when_an_order_working_today_is_unknown_to_the_broker_then_refused_with_nothing_changed(
    market_root: Path, tmp_path: Path
) -> None:
    """An exchange restarted empty (``sim serve`` or ``kis-mock`` killed and started again) with only
    unfilled orders in the store: no fill is missing, but the order the store waits on is worked by nobody,
    and the new exchange's numbers, counted from 1 again, would fall on numbers the store gave to others."""
    engine, broker, store, recorder, saved, clock = _setup(market_root, tmp_path, [], 12_345_678)
    working = _today_working(clock)
    saved = replace(saved, orders=[working])
    with pytest.raises(StoreError) as refused:
        recover(engine.kernel, saved, broker, recorder, clock.now())  # type: ignore[arg-type]
    assert str(refused.value) == (
        "the broker sim lacks orders still working in this store, 1 order number (order 20251203-000001 "
        "(S0000903): working here, unknown there): it is not the broker this store traded with (restarted "
        "empty?), so nothing was changed: start the run against the broker that took these orders, or give "
        "the day a new store (--store URL, or the config's store.url)"
    )
    assert working.state is OrderState.ACCEPTED
    assert len(working.history) == 0
    assert store.audit_entries() == []
    assert store.load(DAY).orders == []
    store.close()


class _ListsLate(_Account):
    """A broker whose list of the day's orders is a moment behind: an order just sent is not in it yet, but
    a query by its number finds it."""

    def orders_of_day(self, day: date) -> list[BrokerOrder]:
        return []


def test_recover_when_the_day_s_list_lacks_a_working_order_its_number_finds_then_not_refused(
    market_root: Path, tmp_path: Path
) -> None:
    engine, broker, store, recorder, saved, clock = _setup(market_root, tmp_path, [], 12_345_678)
    working = _today_working(clock)
    _works(broker, working)
    late = _ListsLate(broker._exchange, [], 12_345_678)
    recover(engine.kernel, replace(saved, orders=[working]), late, recorder, clock.now())  # type: ignore[arg-type]
    assert engine.kernel.orders.orders[working.order_id].state is OrderState.ACCEPTED
    store.close()


class _Sink:
    def __init__(self, sent: list[Alert]) -> None:
        self.sent = sent

    def send(self, alert: Alert) -> None:
        self.sent.append(alert)


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
    alerts: list[Alert] = []
    report = recover(engine.kernel, saved, broker, recorder, clock.now(), _Sink(alerts))  # type: ignore[arg-type]
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
    (alert,) = [a for a in alerts if a.title.startswith("orders of")]  # the rest: the differences, one each
    assert len(alerts) == 1 + len(report.differences)
    assert (alert.kind, alert.title) == (AlertKind.RECONCILIATION, "orders of 2025-12-02 unchecked")
    assert alert.text == (
        "the broker cannot list the orders of 2025-12-02: maemae's orders of that day still open at the "
        "start were expired unchecked; a fill of theirs shows as shares held outside maemae"
    )
    store.close()


def test_recover_when_the_broker_lists_no_day_then_an_unknown_working_order_is_not_taken_for_another_broker(
    market_root: Path, tmp_path: Path
) -> None:
    """Creon lists no day's orders, and its query by number covers unfilled orders only: a working order it
    does not show may have filled meanwhile, which its fills tell (step 4)."""
    engine, broker, store, recorder, saved, clock = _setup(market_root, tmp_path, [], 12_345_678)
    working = _today_working(clock)
    creon_like = _TodayOnly(broker._exchange, [], 12_345_678)
    recover(engine.kernel, replace(saved, orders=[working]), creon_like, recorder, clock.now())  # type: ignore[arg-type]
    assert engine.kernel.orders.orders[working.order_id].state is OrderState.ACCEPTED
    store.close()


@dataclass
class _DayBefore:
    """The session before DAY at the simulated exchange, from 15:10: maemae's orders go to the exchange, and
    maemae's state is what a stop at that moment left (``orders``, written by the test)."""

    config: MaemaeConfig
    market: BacktestMarket
    day: date
    clock: SimulatedClock
    exchange: SimExchange
    price: int  # the base price, on the tick grid
    limits: PriceLimits

    def at(self, hour: int, minute: int) -> datetime:
        return datetime.combine(self.day, time(hour, minute), tzinfo=KST)

    def send(self, order: Order, limit: int, *, reply: bool = True) -> str:
        """``order`` sent at the exchange; maemae knows its number unless the reply was lost."""
        request = OrderRequest(order.order_id, HELD, Side.BUY, order.quantity, OrderType.LIMIT, limit)
        number = self.exchange.submit(request).broker_order_no
        order.limit_price = limit
        if reply:
            order.broker_order_no = number
        return number

    def trade(self, hour: int, minute: int, volume: int, *, auction: bool = False) -> None:
        price = self.price
        self.exchange.on_bar(
            HELD, MarketBar(self.at(hour, minute), price, price, price, price, volume, self.limits, auction)
        )

    def next_start(
        self, orders: list[Order], tmp_path: Path
    ) -> tuple[Engine, RecoveryReport, list[Fill], SqlStateStore]:
        """The close, then maemae's start at 08:00 of DAY with ``orders`` saved open: the engine, the
        recovery's report, the fills it booked and the store."""
        self.trade(15, 30, 1_000_000, auction=True)
        self.exchange.end_day()
        self.clock.set(datetime.combine(DAY, time(8, 0), tzinfo=KST))
        self.exchange.start_day(DAY, {HELD: self.price})
        market = self.market
        engine = build_backtest_engine(
            self.config, market.calendar, market.instruments, DAY, venue=self.exchange, clock=self.clock
        )
        store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
        recorder = StateRecorder(store, engine.kernel)
        booked: list[Fill] = []
        engine.orders.listeners.append(
            lambda e: booked.append(e.fill) if isinstance(e, FillReceived) else None
        )
        saved = SavedState(DAY, orders, frozenset(), [], None, {})
        report = recover(engine.kernel, saved, self.exchange, recorder, self.clock.now())
        return engine, report, booked, store


@pytest.fixture
def day_before(market_root: Path) -> _DayBefore:
    config = make_config(market_root)
    market, _ = load_market(config, DAY, DAY)
    before = market.calendar.previous_session(DAY)
    price = int(market.history.daily_before(HELD, before, 1).close[-1])
    clock = SimulatedClock(datetime.combine(before, time(15, 10), tzinfo=KST))
    exchange = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
    exchange.start_day(before, {HELD: price})
    limits = exchange.limits(HELD)
    assert limits is not None
    return _DayBefore(config, market, before, clock, exchange, price, limits)


def test_recover_when_orders_filled_after_an_earlier_session_s_last_notice_then_the_fills_are_booked(
    day_before: _DayBefore, tmp_path: Path
) -> None:
    """A stop (or a crash) before the close left orders working at the broker, and they filled at the closing
    auction, after maemae's last look. Today's fills at the broker do not have them, so maemae expired the
    orders and counted the shares as held outside maemae: never managed (no stop loss), never sold."""
    sent = day_before.at(15, 10)
    filled = _open_order("20251202-000001", None, OrderState.ACCEPTED, sent)
    unfilled = _open_order("20251202-000002", None, OrderState.ACCEPTED, sent)
    unknown = _open_order("20251202-000003", None, OrderState.SUBMITTED, sent)  # its reply never came
    day_before.send(filled, day_before.price)
    day_before.send(unfilled, day_before.limits.lower)
    day_before.send(unknown, day_before.price, reply=False)
    engine, report, booked, store = day_before.next_start([filled, unfilled, unknown], tmp_path)

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
    auction = day_before.at(15, 30)
    assert {(f.ts, f.quantity, f.price) for f in booked} == {(auction, 5, day_before.price)}  # on their day
    assert all(f.commission > 0 for f in booked)
    assert unfilled.history[-1].note == (
        "settled by query: the broker's orders of 2025-12-02 show 0 of 5 filled; the rest ended with that "
        "session (KRX orders are day orders)"
    )
    assert engine.portfolio.account.cash == day_before.exchange.account.cash  # the fills' cash, to the won
    stored = store.load(DAY)
    assert {p.code: p.owned_quantity for p in stored.positions} == {HELD: 10}
    store.close()


def test_recover_when_an_earlier_session_s_modify_reply_was_lost_then_the_replacement_s_fill_is_booked(
    day_before: _DayBefore, tmp_path: Path
) -> None:
    """A re-price at 15:19 whose reply never came (PENDING_MODIFY), then a stop; the replacement, under a
    number maemae never heard of, filled at the closing auction. Its old number's row shows it cancelled."""
    order = _open_order("20251202-000001", None, OrderState.ACCEPTED, day_before.at(15, 10))
    old = day_before.send(order, day_before.limits.lower)
    day_before.clock.set(day_before.at(15, 19))
    new = day_before.exchange.modify(old, HELD, day_before.price).broker_order_no
    order.state = OrderState.PENDING_MODIFY
    engine, report, booked, store = day_before.next_start([order], tmp_path)
    assert order.state is OrderState.FILLED
    assert [(f.broker_order_no, f.quantity) for f in booked] == [(new, 5)]
    assert any(t.note == f"settled by query: modified at the broker as {new}" for t in order.history)
    assert engine.portfolio.owned(HELD) == 5
    assert report.differences == []
    store.close()


def test_recover_when_an_earlier_session_s_order_filled_under_its_number_before_a_modify_then_both_count(
    day_before: _DayBefore, tmp_path: Path
) -> None:
    """2 shares filled under the first number (their notice not read yet), a re-price gave the rest a new
    number (maemae saw that), then a stop; the rest filled at the closing auction. A restart knows the order
    by its current number only, so the 2 shares were missed."""
    order = _open_order("20251202-000001", None, OrderState.ACCEPTED, day_before.at(15, 10))
    first = day_before.send(order, day_before.price)
    day_before.trade(15, 11, 20)  # 10 % of a bar's volume: 2 shares
    day_before.clock.set(day_before.at(15, 12))
    second = day_before.exchange.modify(first, HELD, day_before.price).broker_order_no
    order.modify_terms(day_before.price, None, second)
    engine, report, booked, store = day_before.next_start([order], tmp_path)
    assert order.state is OrderState.FILLED
    assert sorted((f.broker_order_no, f.quantity) for f in booked) == [(first, 2), (second, 3)]
    assert engine.portfolio.owned(HELD) == 5
    assert report.differences == []
    store.close()


def test_recover_when_an_earlier_session_s_unknown_submit_was_refused_then_it_ends_rejected(
    market_root: Path, tmp_path: Path
) -> None:
    """A submit whose reply never came, that the broker refused: its day's orders show it rejected, so it ends
    rejected (not accepted, then expired with 0 shares filled)."""
    engine, broker, store, recorder, saved, clock = _setup(market_root, tmp_path, [], 12_345_678)
    yesterday = datetime.combine(date(2025, 12, 2), time(15, 10), tzinfo=KST)
    unknown = _open_order("20251202-000001", None, OrderState.UNKNOWN, yesterday)
    refused = BrokerOrder(
        "0000901",
        HELD,
        Side.BUY,
        5,
        100_000,
        OrderType.LIMIT,
        0,
        BrokerOrderStatus.REJECTED,
        yesterday,
        unknown.order_id,
    )
    broker = _Listing(broker._exchange, [], 12_345_678, {yesterday.date(): [refused]})
    report = recover(engine.kernel, replace(saved, orders=[unknown]), broker, recorder, clock.now())  # type: ignore[arg-type]
    assert unknown.state is OrderState.REJECTED
    assert unknown.history[-1].note == "settled by query: the broker's orders of 2025-12-02 show it rejected"
    assert report.found == [unknown.order_id]
    store.close()


class _Listing(_Account):
    """An account whose orders of earlier days are the rows given."""

    def __init__(
        self, exchange: object, holdings: list[Holding], deposit: int, days: dict[date, list[BrokerOrder]]
    ) -> None:
        super().__init__(exchange, holdings, deposit)
        self._days = days

    def orders_of_day(self, day: date) -> list[BrokerOrder]:
        return self._days.get(day, [])


def _row(number: str, original: str | None, filled: int) -> BrokerOrder:
    """A KIS-like row of a day's orders: no client id; a modify names the number it replaced."""
    at = datetime.combine(date(2025, 12, 2), time(15, 10), tzinfo=KST)
    return BrokerOrder(
        number,
        HELD,
        Side.BUY,
        5,
        100_000,
        OrderType.LIMIT,
        filled,
        BrokerOrderStatus.CANCELLED,
        at,
        None,
        original,
        filled * 100_000,
    )


def test_rows_of_an_order_when_modified_twice_then_found_from_any_of_its_numbers() -> None:
    """KIS keeps no client id: an order's rows are linked by the number each modify replaced, and a restart
    (which keeps only the current number) or a lost modify reply (which never told the new one) leaves maemae
    knowing one number of the chain."""
    order = _open_order("20251202-000001", "0000003", OrderState.ACCEPTED, datetime.now(KST))
    chain = [_row("0000001", None, 1), _row("0000002", "0000001", 2), _row("0000003", "0000002", 0)]
    other = _row("0000004", None, 5)  # another order of the day, same stock and terms
    listed = [chain[0], other, chain[1], chain[2]]
    for known in ("0000001", "0000002", "0000003"):
        assert _rows_of(order, listed, {known}) == chain
    assert _latest(chain) == chain[2]
