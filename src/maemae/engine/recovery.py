"""Recovery on start: load the saved state, then settle it with the broker before any trading.

The order of the steps matters (DESIGN 1.6, docs/state.md):

1. **Restore** the orders (with their history and fill ids), the portfolio, the risk state (cooldowns, caps,
   the day's halt) and the exit state from the store.
   Then **check the broker is the one the store traded with**: it must have every share the store booked as
   filled today, by order number, and (a broker that lists the day's orders) every order still working here;
   one that lacks any (an exchange restarted empty) is refused before anything is changed.
2. **End the orders of earlier sessions** still open (a stop or a crash before their last notice): KRX
   orders are day orders, and the broker's orders of today no longer list them. Each is looked up among
   the broker's orders of its own day (``orders_of_day``; an unknown submit as in step 3), the fills that
   list shows beyond what maemae has are booked, dated that day, and the order is closed as that day left
   it. A broker that cannot be asked about that day (Creon) leaves them expired, and the day is reported:
   a fill of theirs would show at step 6 as shares held outside maemae.
3. **Settle unknown submits**: an order left SUBMITTED or UNKNOWN may or may not have reached the broker.
   It is looked up among the broker's orders for its stock and side (by maemae's id where the broker keeps
   it, else by its terms among orders maemae does not know): found → it takes the broker's number; not
   found → REJECTED as never sent. It is **never sent again**.
4. **Collect missed fills** from the broker's fills of the day; the ones already stored are recognised by
   fill id and change nothing, the others go through the normal fill path (portfolio, risk state, store).
5. **Close** the orders the broker reports cancelled, rejected or expired.
6. **Reconcile** positions and cash over the union of codes (``execution.reconciliation``).

Any broker query that fails stops recovery with the error: maemae does not trade on a state it could not
confirm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from maemae.alerts.messages import AlertSink
from maemae.brokers.totals import total_fill
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.order import Order
from maemae.domain.order_states import OrderState
from maemae.engine.alerting import alert_recovery
from maemae.engine.kernel import TradingKernel
from maemae.engine.persistence import StateRecorder
from maemae.errors import StoreError
from maemae.execution.order_manager import OrderManager
from maemae.execution.reconciliation import ShortfallWatch, moved_outside, reconcile
from maemae.ports.broker import Broker, BrokerFill, BrokerOrder, BrokerOrderStatus
from maemae.ports.state import MARKS_DOCUMENT, AuditEntry, SavedState
from maemae.risk.state import RiskState
from maemae.wording import NEW_STORE, counted

REGULAR_CLOSE = time(15, 30)
TradesWith = Literal["broker", "venue"]


@dataclass(slots=True)
class RecoveryReport:
    restored_orders: int = 0
    found: list[str] = field(default_factory=list)  # unknown submits the broker had
    never_sent: list[str] = field(default_factory=list)  # unknown submits the broker never got
    recovered_fills: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    unasked_days: list[str] = field(default_factory=list)  # earlier sessions the broker could not list
    # what the run trades with, as its lines name it: "venue" for `maemae paper`, "broker" for `maemae run`
    trades_with: TradesWith = "broker"

    def as_dict(self) -> dict[str, Any]:
        return {
            "restored_orders": self.restored_orders,
            "found": self.found,
            "never_sent": self.never_sent,
            "recovered_fills": self.recovered_fills,
            "closed": self.closed,
            "differences": self.differences,
            "unasked_days": self.unasked_days,
            "trades_with": self.trades_with,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecoveryReport:
        """A report as audited (a start's ``recovery`` record; one of an older maemae lacks later keys)."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    def line(self) -> str:
        """What the start settled (docs/state.md), in one line that ``paper``, ``run`` and the dashboard's
        feed word alike, naming what the run trades with as its book line does."""
        other = self.trades_with
        fills, differences = len(self.recovered_fills), len(self.differences)
        line = (
            f"recovery: {counted(self.restored_orders, 'order')} restored, {len(self.found):,} found at the "
            f"{other}, {len(self.never_sent):,} never sent, {counted(fills, 'fill')} recovered, "
            f"{len(self.closed):,} closed, {counted(differences, 'reconciliation difference')}"
        )
        if self.unasked_days:  # a fill of those days' orders would be among the differences, as not maemae's
            line += (
                f"; the {other} cannot list the orders of {', '.join(self.unasked_days)}: their orders were "
                "expired unchecked"
            )
        return line


def restore(kernel: TradingKernel, saved: SavedState) -> dict[str, Any]:
    """Step 1: put the saved state back into the engine; returns the driver's saved cursor."""
    kernel.orders.restore(saved.orders)
    portfolio = kernel.portfolio
    totals = saved.account
    if totals is None:  # positions without an account row: keep the configured starting cash
        portfolio.restore(portfolio.account, saved.positions, (0, 0, 0), {})
    else:
        portfolio.restore(
            totals.account,
            saved.positions,
            (totals.realised_pnl, totals.commission, totals.tax),
            totals.realised_by_order,
        )
    if "risk" in saved.runtime:
        kernel.gate.state = RiskState.from_dict(saved.runtime["risk"])
    if "exits" in saved.runtime:
        kernel.restore_exit_state(saved.runtime["exits"])
    return dict(saved.runtime.get("cursor", {}))


def recover(
    kernel: TradingKernel,
    saved: SavedState,
    broker: Broker,
    recorder: StateRecorder,
    now: datetime,
    alerts: AlertSink | None = None,
    trades_with: TradesWith = "broker",
) -> RecoveryReport:
    """Steps 1 to 6; every change goes through the recorder, and the report is audited. ``alerts`` hears of
    the differences and the earlier days the broker could not list, as it would during the day;
    ``trades_with`` is how the run's lines name the broker (``RecoveryReport.line``)."""
    report = RecoveryReport(restored_orders=len(saved.orders), trades_with=trades_with)
    recorder.cursor = restore(kernel, saved)
    orders = kernel.orders
    refuse_a_broker_without_the_days_book(orders, broker, now, trades_with)
    _end_past_sessions(orders, broker, now, report)
    found, never_sent = settle_in_doubt(orders, broker, now)
    report.found += found
    report.never_sent += never_sent
    for broker_fill in broker.fills_today():
        report.recovered_fills.extend(fill.fill_id for fill in orders.apply_broker_event(broker_fill))
    for order in orders.open_orders():
        status = None if order.broker_order_no is None else broker.order_status(order.broker_order_no)
        if status is not None and status.status is not BrokerOrderStatus.WORKING:
            orders.close_from_status(order, status, now)
            report.closed.append(order.order_id)
    lines, entries, removed = _reconcile(kernel, broker, now, price_of=_last_marks(saved))
    report.differences = lines
    recorder.checkpoint(
        audit=[AuditEntry(now, "recovery", "start", report.as_dict()), *entries], closed=removed
    )
    if alerts is not None:
        alert_recovery(alerts, report.differences, report.unasked_days, now)
    return report


def refuse_a_broker_without_the_days_book(
    orders: OrderManager, broker: Broker, now: datetime, trades_with: TradesWith
) -> None:
    """Step 1's check, before anything is changed: the broker must have every share this store booked as
    filled today, order number by order number, and, where it lists the day's orders, every order still
    working here under its number. One that has fewer is not the exchange or account the store traded with:
    an exchange restarted empty (``sim serve`` or ``kis-mock`` killed and started again) numbers its orders
    from 1 again, and trading on would cut every holding as sold outside maemae, wait on orders nobody
    works, and book the new exchange's orders under numbers the store already gave to others. maemae
    refuses and changes nothing."""
    today = [order for order in orders.orders.values() if not _of_earlier_session(order, now)]
    filled = [order for order in today if order.filled_by_number]
    working = {
        o.broker_order_no: o for o in today if o.state in _WORKING_THERE and o.broker_order_no is not None
    }
    if not filled and not working:
        return
    listed = broker.orders_of_day(now.date())  # None: a broker that lists no day (Creon): its fills then
    theirs = _shares_by_number(broker.fills_today()) if listed is None else _filled_by_number(listed)
    short = [
        f"order {order.order_id} ({number}): {shares} shares filled here, {theirs.get(number, 0)} there"
        for order in filled
        for number, (shares, _won) in sorted(order.filled_by_number.items())
        if theirs.get(number, 0) < shares
    ]
    if short:
        raise _another_broker(broker, trades_with, "fills this store booked today", short)
    unknown = [] if listed is None else _unknown_there(working, listed, broker)
    if unknown:
        raise _another_broker(broker, trades_with, "orders still working in this store", unknown)


# the states of an order the broker works under its number (one in doubt or never sent is settled at step 3)
_WORKING_THERE = (
    OrderState.ACCEPTED,
    OrderState.PARTIALLY_FILLED,
    OrderState.PENDING_CANCEL,
    OrderState.PENDING_MODIFY,
)


def _unknown_there(working: dict[str, Order], listed: list[BrokerOrder], broker: Broker) -> list[str]:
    """The working orders (by number) whose number is neither among the broker's orders of the day nor found
    when asked for by number (asked again, so that a listing a moment behind an order's arrival refuses
    nothing)."""
    known = {order.broker_order_no for order in listed}
    return [
        f"order {order.order_id} ({number}): working here, unknown there"
        for number, order in sorted(working.items())
        if number not in known and broker.order_status(number) is None
    ]


def _another_broker(broker: Broker, trades_with: TradesWith, lacking: str, found: list[str]) -> StoreError:
    return StoreError(
        f"the {trades_with} {broker.name} lacks {lacking}, "
        f"{counted(len(found), 'order number')} ({found[0]}{', ...' if len(found) > 1 else ''}): it is "
        f"not the {trades_with} this store traded with (restarted empty?), so nothing was changed: start "
        f"the run against the {trades_with} that took these orders, or give the day {NEW_STORE}"
    )


def _filled_by_number(listed: list[BrokerOrder]) -> dict[str, int]:
    """The filled shares of each order number in the broker's orders of the day. Its orders, not its fill
    query: the simulated exchange a day on the clock runs inside its process is handed the store's book at a
    restart, its orders with their filled shares but not the fills themselves."""
    shares: dict[str, int] = {}
    for order in listed:
        number = order.broker_order_no
        shares[number] = max(shares.get(number, 0), order.filled_quantity)
    return shares


def _shares_by_number(fills: list[BrokerFill]) -> dict[str, int]:
    """The filled shares of each order number in a fill query: a running total where the broker gives one
    (KIS, Creon), else the sum of the executions (each counted once by its id)."""
    shares: dict[str, int] = {}
    seen: set[str] = set()
    for fill in fills:
        number = fill.broker_order_no
        if fill.cumulative_quantity is not None:
            shares[number] = max(shares.get(number, 0), fill.cumulative_quantity)
        elif fill.fill_id not in seen:
            seen.add(fill.fill_id)
            shares[number] = shares.get(number, 0) + fill.quantity
    return shares


def _end_past_sessions(orders: OrderManager, broker: Broker, now: datetime, report: RecoveryReport) -> None:
    """Step 2: the open orders of earlier sessions, each ended as the broker's orders of its day show it."""
    by_day: dict[date, list[Order]] = {}
    for order in orders.open_orders():
        if _of_earlier_session(order, now):
            by_day.setdefault(order.created_at.date(), []).append(order)
    for day, earlier in sorted(by_day.items()):
        listed = broker.orders_of_day(day)
        if listed is None:
            report.unasked_days.append(day.isoformat())
            for order in earlier:
                orders.end_past_session(order, None, asked=False, now=now)
                report.closed.append(order.order_id)
            continue
        # a fill the broker reports no time for is dated at the day's regular close: on that day, and after
        # any fill it could have followed
        close = datetime.combine(day, REGULAR_CLOSE, tzinfo=KST)
        for order in earlier:
            if _end_on_its_day(order, listed, orders, close, now, report):
                report.closed.append(order.order_id)


def _end_on_its_day(
    order: Order,
    listed: list[BrokerOrder],
    orders: OrderManager,
    close: datetime,
    now: datetime,
    report: RecoveryReport,
) -> bool:
    """End one order of an earlier session with ``listed``, the broker's orders of its day: its fills booked,
    then closed as that day left it. False for an unknown submit that day never had (never sent)."""
    known = {*orders.numbers_of(order), *order.filled_by_number}
    if order.state in (OrderState.SUBMITTED, OrderState.UNKNOWN):
        found = _find_among(order, _same_stock_and_side(order, listed), orders)
        (report.found if found else report.never_sent).append(order.order_id)
        if found is None:
            orders.settle_unknown(order, None, now)
            return False
        if found.status is not BrokerOrderStatus.REJECTED:  # a refused one ends rejected, never accepted
            orders.settle_unknown(order, found, now)
        known.add(found.broker_order_no)
    rows = _rows_of(order, listed, known)
    orders.adopt_numbers(order, [row.broker_order_no for row in rows])
    current = _latest(rows)
    # a modify that went through, its reply lost: confirmed with the number the order ended under
    moved = current is not None and current.broker_order_no != order.broker_order_no
    if order.state is OrderState.PENDING_MODIFY and moved:
        orders.settle_pending(order, None, current, now)
    for row in rows:
        fill = total_fill(row, close)
        if fill is not None:
            report.recovered_fills.extend(f.fill_id for f in orders.apply_broker_event(fill))
    orders.end_past_session(order, current, asked=True, now=now)
    return True


def _latest(rows: list[BrokerOrder]) -> BrokerOrder | None:
    """The row an order ended under: the one no modify replaced (where the broker names the originals),
    the latest placed, the later listed on a tie (brokers give whole seconds)."""
    replaced = {row.original_order_no for row in rows}
    last = [row for row in rows if row.broker_order_no not in replaced]
    return max(reversed(last), key=lambda row: row.submitted_at, default=None)


def _rows_of(order: Order, listed: list[BrokerOrder], known: set[str]) -> list[BrokerOrder]:
    """``order``'s rows among a day's orders at the broker: those under a number it is known by, with its id
    where the broker keeps one, and every row a modify links to them (KRX gives a modified order a new
    number, its original named in ``original_order_no``), in both directions: a restart keeps only the
    current number, and a lost modify reply never told maemae the new one."""
    numbers = set(known)
    numbers.update(row.broker_order_no for row in listed if row.client_order_id == order.order_id)
    growing = True
    while growing:
        linked = {
            number
            for row in listed
            for number in (row.broker_order_no, row.original_order_no)
            if number is not None and (row.broker_order_no in numbers or row.original_order_no in numbers)
        }
        growing = not linked <= numbers
        numbers |= linked
    return [row for row in listed if row.broker_order_no in numbers]


def settle_in_doubt(orders: OrderManager, broker: Broker, now: datetime) -> tuple[list[str], list[str]]:
    """Step 3, also run during the day: settle by query every order whose last request's outcome is unknown
    (a submit, cancel or modify whose reply never came). Returns the ids of the unknown submits the broker
    had, and of those it never got."""
    found_ids: list[str] = []
    never_sent: list[str] = []
    for order in orders.open_orders():
        # one of an earlier session is not among the broker's orders of today, whether or not it was sent:
        # recovery settles it with the orders of its own day (step 2)
        if order.state in (OrderState.SUBMITTED, OrderState.UNKNOWN) and not _of_earlier_session(order, now):
            found = _find_at_broker(order, broker, orders)
            orders.settle_unknown(order, found, now)
            (found_ids if found else never_sent).append(order.order_id)
    for order in orders.open_orders():
        if order.state in (OrderState.PENDING_CANCEL, OrderState.PENDING_MODIFY):
            assert order.broker_order_no is not None
            view = broker.order_status(order.broker_order_no)
            orders.settle_pending(order, view, _replacement(order, view, broker), now)
    return found_ids, never_sent


def in_doubt(orders: OrderManager) -> bool:
    return any(
        o.state
        in (OrderState.SUBMITTED, OrderState.UNKNOWN, OrderState.PENDING_CANCEL, OrderState.PENDING_MODIFY)
        for o in orders.open_orders()
    )


def reconcile_and_record(
    kernel: TradingKernel,
    broker: Broker,
    recorder: StateRecorder,
    now: datetime,
    shortfalls: ShortfallWatch,
    price_of: Callable[[StockCode], int | None] | None,
) -> list[str]:
    """Reconcile during the day by the documented rule (a shortfall cut once two rounds see it) and save the
    result with an audit record per difference, in one change; returns the differences as lines.
    ``price_of``: the prices maemae values its holdings at now (None before the first day's prices)."""
    lines, entries, removed = _reconcile(kernel, broker, now, shortfalls, price_of)
    recorder.checkpoint(audit=entries, closed=removed)
    return lines


def _reconcile(
    kernel: TradingKernel,
    broker: Broker,
    now: datetime,
    shortfalls: ShortfallWatch | None = None,
    price_of: Callable[[StockCode], int | None] | None = None,
) -> tuple[list[str], list[AuditEntry], list[StockCode]]:
    """Apply the reconciliation rule; the differences as lines and as audit records, and the codes whose
    position no longer exists. What it moved into or out of maemae's equity without a trade (shares sold
    outside maemae at ``price_of``, cash taken from the broker's figure) moves today's start equity too
    (``RiskState.move_day_start``): the portfolio stop judges maemae's trading, not the operator's."""
    kernel.orders.process_events()  # the pushes so far, so that the holdings read next agree with the book
    differences, removed = reconcile(
        kernel.portfolio, broker, lambda: book_missed_fills(kernel.orders, broker), shortfalls
    )
    state = kernel.gate.state
    if price_of is not None and state.day == now.date():  # a first start's day begins after this
        state.move_day_start(moved_outside(differences, price_of))
    entries = [AuditEntry(now, "reconcile", d.subject, d.facts()) for d in differences]
    lines = [d.line() for d in differences]
    return lines, entries, removed


def _last_marks(saved: SavedState) -> Callable[[StockCode], int | None]:
    """The prices the stopped run last valued the held stocks at (its equity counted them at those)."""
    marks = saved.runtime.get(MARKS_DOCUMENT) or {}
    prices = {str(code): int(price) for code, price in dict(marks.get("prices", {})).items()}
    return lambda code: prices.get(str(code))


def book_missed_fills(orders: OrderManager, broker: Broker) -> set[StockCode]:
    """Book the fills pushed since the last look and those only the broker's fill query has (a push that was
    lost or is late); returns the codes that had new fills. Fills already booked change nothing. One fill
    query a reconciliation: on KIS it is a page per 100 of the day's orders, out of a REST budget of 2
    requests a second on the paper server."""
    fills = orders.process_events()
    for broker_fill in broker.fills_today():
        fills.extend(orders.apply_broker_event(broker_fill))
    return {fill.code for fill in fills}


def _of_earlier_session(order: Order, now: datetime) -> bool:
    """Whether ``order`` was made on a day before ``now``'s (both in KST): a KRX session it cannot outlive."""
    return order.created_at.date() < now.date()


def _find_at_broker(order: Order, broker: Broker, orders: OrderManager) -> BrokerOrder | None:
    """The broker's record of an order whose submit reply never came, or None if it has none."""
    return _find_among(order, broker.find_orders(order.code, order.side), orders)


def _same_stock_and_side(order: Order, listed: list[BrokerOrder]) -> list[BrokerOrder]:
    return [o for o in listed if o.code == order.code and o.side is order.side]


def _find_among(order: Order, candidates: list[BrokerOrder], orders: OrderManager) -> BrokerOrder | None:
    """Of the broker's orders for the stock and side of an order whose submit reply never came, its own:
    the one with maemae's id, else the earliest with its terms placed after it that maemae does not know."""
    for candidate in candidates:
        if candidate.client_order_id == order.order_id:
            return candidate
    unclaimed = [
        c
        for c in candidates
        if c.client_order_id is None
        and not orders.knows_number(c.broker_order_no)
        and c.quantity == order.quantity
        and c.order_type is order.order_type
        and c.price == order.limit_price
        and c.submitted_at >= order.created_at.replace(microsecond=0)  # brokers report whole seconds
    ]
    return min(unclaimed, key=lambda c: c.submitted_at) if unclaimed else None


def _replacement(order: Order, current: BrokerOrder | None, broker: Broker) -> BrokerOrder | None:
    """The order a lost modify created at the broker (KRX gives a modified order a new number): the one
    the broker names as replacing the current number (KIS ``orgn_odno``), else one with maemae's id placed
    after the order it replaces. Earlier numbers of the same order (from earlier modifies) are not
    replacements."""
    if order.state is not OrderState.PENDING_MODIFY:
        return None
    found = [
        c
        for c in broker.find_orders(order.code, order.side)
        if c.broker_order_no != order.broker_order_no
        and (
            c.original_order_no == order.broker_order_no
            or (
                c.client_order_id == order.order_id
                and (current is None or c.submitted_at > current.submitted_at)
            )
        )
    ]
    return max(found, key=lambda c: c.submitted_at) if found else None
