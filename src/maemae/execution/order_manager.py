"""The order manager: turns approved intents into orders, sends them, and follows them to the end.

Every order is created and moved to SUBMITTED (and announced to listeners, which persist it) *before* the
request leaves, so a crash in between leaves a SUBMITTED order to settle by query, never an order nobody knows
about (DESIGN 1.6). Broker events (fills, cancels, expiries) move orders through the state table; unfilled
orders are re-priced or cancelled after a timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from maemae.compiled import pickle_by_fields
from maemae.config.execution import ExecutionConfig
from maemae.domain.clock_time import dated_id, moment_ns
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.events import DomainEvent, FillReceived, OrderStateChanged
from maemae.domain.fill import Fill
from maemae.domain.intents import IntentSource, OrderIntent
from maemae.domain.order import Order
from maemae.domain.order_states import OPEN_STATES, TRANSITIONS, OrderEvent, OrderState
from maemae.errors import (
    BrokerError,
    ConfirmationInterrupted,
    OrderNotSent,
    OrderRejected,
    RetryableBrokerError,
    SubmitOutcomeUnknown,
)
from maemae.krx.costs import Costs
from maemae.ports.broker import (
    Broker,
    BrokerEvent,
    BrokerFill,
    BrokerOrder,
    BrokerOrderStatus,
    OrderRequest,
    OrderUpdate,
)

Listener = Callable[[DomainEvent], None]
CostFunction = Callable[[BrokerFill], Costs]
TickMover = Callable[[StockCode, int, int, datetime], int]

SETTLED_BY_QUERY = "settled by query:"  # the note of every transition a broker query (not an event) made

_CLOSING_EVENTS: Final = {
    BrokerOrderStatus.CANCELLED: OrderEvent.CANCEL_CONFIRMED,
    BrokerOrderStatus.EXPIRED: OrderEvent.EXPIRE,
    BrokerOrderStatus.REJECTED: OrderEvent.REJECT,
}


@dataclass(slots=True)
class _Tracking:
    priced_at: datetime
    replaces: int = 0

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, priced_at: datetime, replaces: int = 0) -> None:
        self.priced_at, self.replaces = priced_at, replaces


def order_request(order: Order, quantity: int) -> OrderRequest:
    """``order`` as it goes to the broker, for ``quantity`` shares (all of it when it is sent; what one
    broker number carries, for the simulated exchange that takes over a stopped run's book)."""
    return OrderRequest(
        order.order_id, order.code, order.side, quantity, order.order_type, order.limit_price, order.condition
    )


class OrderManager:
    """Owns every order of the run; the only code that talks to the broker about orders."""

    def __init__(
        self,
        broker: Broker,
        config: ExecutionConfig,
        costs_of: CostFunction,
        move_ticks: TickMover,
        listeners: list[Listener] | None = None,
    ) -> None:
        self.broker = broker
        self.config = config
        self._costs_of = costs_of
        self._move_ticks = move_ticks
        self.listeners: list[Listener] = listeners or []
        self.orders: dict[str, Order] = {}
        self._by_number: dict[str, str] = {}
        self._open: dict[str, Order] = {}  # open orders by id, kept in step with every state change
        # how many each code has, and of them buys (asked every visit and step); a code with none has no key.
        # Plain dicts: the compiled code reads and writes them directly, where a Counter goes through the
        # generic mapping calls and its Python ``__missing__`` for a new code (about three times the cost)
        self._open_per_code: dict[StockCode, int] = {}
        self._open_buys_per_code: dict[StockCode, int] = {}
        self._tracking: dict[str, _Tracking] = {}
        # (epoch ns, code, side, source) of every order made: an int, where an aware datetime's hash asks its
        # zone for the offset on every order
        self._decisions: set[tuple[int, StockCode, Side, IntentSource]] = set()
        self._sequence = 0
        # the last moment a decision was keyed by, and its epoch ns (``_moment_ns``)
        self._last_moment: datetime | None = None
        self._last_ns = 0

    # ----- new orders

    @property
    def config(self) -> ExecutionConfig:
        return self._config

    @config.setter
    def config(self, config: ExecutionConfig) -> None:
        """Take new settings (``maemae params set`` swaps them while a live loop runs); the timeout is kept
        as a ``timedelta``, as every working step compares with it (a pydantic field read costs far more than
        the comparison), and so are the re-prices allowed."""
        self._config = config
        self._timeout = timedelta(seconds=config.unfilled_timeout_s)
        # how many re-prices a timed-out order may have: none unless the settings say to re-price
        self._max_replaces = config.max_replaces if config.on_timeout == "replace" else 0

    def _new_order(self, intent: OrderIntent, quantity: int, now: datetime) -> Order:
        self._sequence += 1
        order = Order(
            order_id=dated_id(now, self._sequence),
            code=intent.code,
            side=intent.side,
            quantity=quantity,
            order_type=intent.order_type,
            limit_price=intent.limit_price,
            created_at=now,
            condition=intent.condition,
            strategy=intent.strategy,
            source=intent.source,
            reason=intent.reason,
            asked_quantity=intent.quantity,
        )
        self.orders[order.order_id] = order
        self._decisions.add((self._moment_ns(now), intent.code, intent.side, intent.source))
        return order

    def _moment_ns(self, now: datetime) -> int:
        """``now`` in epoch ns, for a decision's key. The kernel asks :meth:`was_decided` and then submits or
        records a denial at the same ``now``, and its exits and strategy decide at one step's moment: the
        last one is kept, so each is converted once (about 2,400 instructions a conversion, compiled)."""
        if now is not self._last_moment:
            self._last_moment, self._last_ns = now, moment_ns(now)
        return self._last_ns

    def knows_number(self, broker_order_no: str) -> bool:
        return broker_order_no in self._by_number

    def was_decided(self, intent: OrderIntent, now: datetime) -> bool:
        """Whether an order (sent or denied) was already made for this stock, side and source at ``now``.

        A restarted process that redoes the step it crashed in asks this first, so the decision it already
        made (and saved) is not made, and sent, a second time.
        """
        return (self._moment_ns(now), intent.code, intent.side, intent.source) in self._decisions

    def restore(self, orders: list[Order]) -> None:
        """Take back the orders saved before a restart: their numbers, open index, timeouts and decisions."""
        for order in orders:
            self.orders[order.order_id] = order
            if order.broker_order_no is not None:
                self._by_number[order.broker_order_no] = order.order_id
            self._track_open(order)
            self._decisions.add((moment_ns(order.created_at), order.code, order.side, order.source))
            priced = [
                t.at for t in order.history if t.event in (OrderEvent.ACCEPT, OrderEvent.MODIFY_CONFIRMED)
            ]
            if order.is_open and priced:
                replaces = sum(1 for t in order.history if t.event is OrderEvent.MODIFY_CONFIRMED)
                self._tracking[order.order_id] = _Tracking(priced[-1], replaces)
            self._sequence = max(self._sequence, int(order.order_id.rsplit("-", 1)[-1]))

    def record_denial(self, intent: OrderIntent, reason: str, now: datetime) -> Order:
        """Keep a denied intent as a DENIED order, so reports list it with its reason.

        An order holds at least one share (``Order``'s rule), so a buy left to the gate's sizing, or an intent
        that asked for 0 shares or fewer, is made an order of one; it keeps what its intent asked for
        (``Order.asked_quantity``, saved with it), which is what the lists show."""
        order = self._new_order(intent, max(intent.quantity or 0, 1), now)
        self._apply(order, OrderEvent.DENY, now, reason)
        return order

    def submit(self, intent: OrderIntent, quantity: int, now: datetime, note: str = "") -> Order:
        """Create, announce and send one order; its state afterwards says what happened. ``note``: what the
        gate did to the intent (a sell clipped to the shares held), kept after its reason in the order's
        history, as the order alone no longer shows it."""
        order = self._new_order(intent, quantity, now)
        said = f"{intent.reason}; {note}" if note and intent.reason else note or intent.reason
        self._apply(order, OrderEvent.SUBMIT, now, said)
        request = order_request(order, order.quantity)
        try:
            ack = self.broker.submit(request)
        except OrderRejected as error:
            self._apply(order, OrderEvent.REJECT, now, str(error))
            return order
        except SubmitOutcomeUnknown as error:
            self._apply(order, OrderEvent.SUBMIT_TIMEOUT, now, str(error))
            return order
        except OrderNotSent as error:  # held back before the broker: the order ends here and the run stops
            self._apply(order, OrderEvent.REJECT, now, str(error))
            raise
        except RetryableBrokerError as error:  # nothing was sent: the order ends here, the strategy may retry
            self._apply(order, OrderEvent.REJECT, now, f"not sent: {error}")
            return order
        order.broker_order_no = ack.broker_order_no
        self._by_number[ack.broker_order_no] = order.order_id
        self._tracking[order.order_id] = _Tracking(priced_at=now)
        self._apply(order, OrderEvent.ACCEPT, ack.at, f"broker order {ack.broker_order_no}")
        return order

    # ----- broker events
    def process_events(self) -> list[Fill]:
        """Apply every pushed broker event; returns the new fills in arrival order."""
        fills: list[Fill] = []
        for event in self.broker.poll_events():
            self._take_event(event, fills)
        return fills

    def apply_broker_event(self, event: BrokerEvent) -> list[Fill]:
        """Apply one fill or order update, pushed or found by a query; returns the fills that were new.

        A fill already recorded (same fill id, or a running total that adds nothing) changes nothing, so the
        push and the query after a restart may both deliver it.
        """
        fills: list[Fill] = []
        self._take_event(event, fills)
        return fills

    def _take_event(self, event: BrokerEvent, fills: list[Fill]) -> None:
        """``apply_broker_event``, adding the new fills to ``fills``: a poll's events share one list, where a
        list made and joined for each (an update's empty one too) cost about 1.5 M instructions a backtest."""
        order = self.orders.get(self._by_number.get(event.broker_order_no, ""))
        if order is None:
            return  # an order maemae did not place (external trading): reconciliation reports it
        if isinstance(event, OrderUpdate):
            if event.broker_order_no == order.broker_order_no:  # not a number a modify has replaced
                self._on_update(order, event)
            return
        if event.cumulative_quantity is None:
            fill = self._to_fill(order, event)
            if self._record(order, fill):
                fills.append(fill)
            return
        for fill in self._catch_up(order, event):
            if self._record(order, fill):
                fills.append(fill)

    def _record(self, order: Order, fill: Fill) -> bool:
        if not order.record_fill(fill):
            return False
        if not order.is_open:  # a fill leaves an open order open or ends it: only the end moves the index
            self._track_open(order)
        self._announce_state(order, fill.ts)
        self._emit(FillReceived(fill))
        if order.is_terminal:
            self._tracking.pop(order.order_id, None)
        return True

    def _catch_up(self, order: Order, event: BrokerFill) -> list[Fill]:
        """The fills a running total adds to what the order has under that broker number: none when the
        total is not ahead (a duplicate or a late notice). When several executions at different prices are
        folded into one total, the shares are split over the two whole-won prices around the average so the
        recorded amount equals the broker's to the won."""
        assert event.cumulative_quantity is not None
        assert event.cumulative_amount is not None
        number = event.broker_order_no
        shares, won = order.filled_by_number.get(number, (0, 0))
        added = event.cumulative_quantity - shares
        if added <= 0:
            return []
        price, odd = divmod(event.cumulative_amount - won, added)
        key = f"{number}:{event.cumulative_quantity}"
        parts = (
            [(key, added, price)]
            if odd == 0
            else [(f"{key}a", added - odd, price), (f"{key}b", odd, price + 1)]
        )
        return [
            self._to_fill(order, replace(event, fill_id=fill_id, quantity=quantity, price=each))
            for fill_id, quantity, each in parts
            if quantity > 0
        ]

    def settle_unknown(self, order: Order, found: BrokerOrder | None, now: datetime) -> None:
        """Settle an order whose submit outcome is unknown (SUBMITTED or UNKNOWN after a crash or a lost
        reply) with what a broker query found: its number, or that the broker never got it."""
        self._outcome_unknown(order, now)
        if found is None:
            self._apply(
                order,
                OrderEvent.NOT_FOUND,
                now,
                f"{SETTLED_BY_QUERY} the broker has no such order: never sent",
            )
            return
        order.broker_order_no = found.broker_order_no
        self._by_number[found.broker_order_no] = order.order_id
        self._tracking[order.order_id] = _Tracking(priced_at=found.submitted_at)
        # dated when the broker accepted it: the unfilled timeout runs from then, before and after a restart
        self._apply(
            order,
            OrderEvent.ACCEPT,
            found.submitted_at,
            f"{SETTLED_BY_QUERY} found at the broker as {found.broker_order_no}",
        )

    def _outcome_unknown(self, order: Order, now: datetime) -> None:
        """An order still SUBMITTED when a query settles it: its reply never came, so it is UNKNOWN first
        (the state table moves only an unknown submit on to found, never sent or expired)."""
        if order.state is OrderState.SUBMITTED:
            self._apply(order, OrderEvent.SUBMIT_TIMEOUT, now, f"{SETTLED_BY_QUERY} submit outcome unknown")

    def settle_pending(
        self, order: Order, broker_view: BrokerOrder | None, replacement: BrokerOrder | None, now: datetime
    ) -> None:
        """Settle a cancel or modify whose reply was lost: a modify the broker carried out is confirmed with
        the replacement's number and price; a request the broker never saw returns the order to working."""
        if order.state is OrderState.PENDING_MODIFY:
            if replacement is not None:
                order.modify_terms(replacement.price, None, replacement.broker_order_no)
                self._by_number[replacement.broker_order_no] = order.order_id
                track = self._tracking.setdefault(order.order_id, _Tracking(replacement.submitted_at))
                track.priced_at, track.replaces = replacement.submitted_at, track.replaces + 1
                self._apply(
                    order,
                    OrderEvent.MODIFY_CONFIRMED,
                    replacement.submitted_at,
                    f"{SETTLED_BY_QUERY} modified at the broker as {replacement.broker_order_no}",
                )
            elif broker_view is not None and broker_view.status is BrokerOrderStatus.WORKING:
                self._apply(
                    order,
                    OrderEvent.MODIFY_REJECTED,
                    now,
                    f"{SETTLED_BY_QUERY} modify never reached the broker",
                )
        elif (
            order.state is OrderState.PENDING_CANCEL
            and broker_view is not None
            and broker_view.status is BrokerOrderStatus.WORKING
        ):
            self._apply(
                order, OrderEvent.CANCEL_REJECTED, now, f"{SETTLED_BY_QUERY} cancel never reached the broker"
            )

    def close_from_status(self, order: Order, status: BrokerOrder, now: datetime) -> None:
        """After the fills are in: close an order the broker reports cancelled, rejected or expired."""
        closing = _CLOSING_EVENTS.get(status.status)
        if closing is not None and not order.is_terminal:
            note = f"{SETTLED_BY_QUERY} broker reports {status.status.value}"
            asked = _cancel_asked(order, closing)
            self._apply(order, closing, now, note if asked is None else f"{note} ({asked})")
            self._tracking.pop(order.order_id, None)

    def numbers_of(self, order: Order) -> list[str]:
        """Every broker number ``order`` has had (a modify gives it a new one)."""
        return [number for number, order_id in self._by_number.items() if order_id == order.order_id]

    def adopt_numbers(self, order: Order, numbers: list[str]) -> None:
        """Broker numbers found to be ``order``'s (a modify's replacement whose reply was lost; an earlier
        number a restart does not keep): events under them are the order's."""
        for number in numbers:
            self._by_number[number] = order.order_id

    def end_past_session(
        self, order: Order, current: BrokerOrder | None, *, asked: bool, now: datetime
    ) -> None:
        """Close an order of an earlier session once the fills its day's orders at the broker show are in:
        KRX orders are day orders, so it ended with that session, and KIS and Creon drop the day's unfilled
        orders without a notice (nothing else would ever close it). ``current`` is the row it ended under
        among that day's orders (None: not listed); ``asked`` False when the broker cannot be asked about that
        day, so a submit whose outcome was never known may not have reached it at all, and the note does not
        claim which. Its broker numbers are let go: brokers number each day's orders afresh, and one of
        today's must not be taken for it."""
        if not order.is_terminal:
            self._outcome_unknown(order, now)
            event = _past_session_end(order, current)
            self._apply(order, event, now, _past_session_note(order, current, asked, event))
            self._tracking.pop(order.order_id, None)
        for number in self.numbers_of(order):
            del self._by_number[number]

    def _on_update(self, order: Order, update: OrderUpdate) -> None:
        closing = _CLOSING_EVENTS.get(update.status)
        if closing is None or order.is_terminal:
            return
        asked = _cancel_asked(order, closing)
        note = update.reason if asked is None else f"{asked} (broker: {update.reason})"
        self._apply(order, closing, update.at, note)
        self._tracking.pop(order.order_id, None)

    def _to_fill(self, order: Order, event: BrokerFill) -> Fill:
        costs = self._costs_of(event)
        return Fill(
            event.fill_id,
            order.order_id,
            event.broker_order_no,
            event.code,
            event.side,
            event.quantity,
            event.price,
            event.at,
            costs.commission,
            costs.tax,
        )

    # ----- working orders
    def open_orders(self) -> list[Order]:
        return list(self._open.values())

    def has_open_orders(self) -> bool:
        return bool(self._open)

    def has_open_order(self, code: StockCode) -> bool:
        return code in self._open_per_code

    def working_codes(self) -> list[StockCode]:
        """The codes with an open order."""
        return list(self._open_per_code)

    def buying_codes(self) -> list[StockCode]:
        """The codes with an open buy order."""
        return list(self._open_buys_per_code)

    def buying_count(self) -> int:
        """How many codes have an open buy order."""
        return len(self._open_buys_per_code)

    def check_timeouts(self, now: datetime) -> None:
        """Re-price or cancel every working order unfilled for longer than the timeout."""
        limit = self._timeout
        for order_id, track in list(self._tracking.items()):
            order = self.orders[order_id]
            if not order.is_open or now < track.priced_at + limit:
                continue
            if order.state not in (OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED):
                continue
            can_replace = (
                track.replaces < self._max_replaces
                and order.order_type is OrderType.LIMIT
                and order.limit_price is not None
            )
            if can_replace:
                self._replace(order, track, now)
            else:
                self.cancel(order, now, "unfilled timeout")

    def _replace(self, order: Order, track: _Tracking, now: datetime) -> None:
        assert order.limit_price is not None
        assert order.broker_order_no is not None
        price = self._move_ticks(
            order.code, order.limit_price, self.config.replace_ticks * order.side.sign, now
        )
        self._apply(order, OrderEvent.REQUEST_MODIFY, now, f"re-price {order.limit_price:,} -> {price:,}")
        try:
            ack = self.broker.modify(order.broker_order_no, order.code, price)
        except SubmitOutcomeUnknown:
            return  # stays PENDING_MODIFY: settled by a query of the broker's orders (engine.recovery)
        except BrokerError as error:
            self._apply(order, OrderEvent.MODIFY_REJECTED, now, str(error))
            self.cancel(order, now, "unfilled timeout (re-price refused)")
            if isinstance(error, ConfirmationInterrupted):  # Ctrl-C at the prompt: the cancel, then the stop
                raise
            return
        order.modify_terms(price, None, ack.broker_order_no)
        self._by_number[ack.broker_order_no] = order.order_id
        track.priced_at, track.replaces = now, track.replaces + 1
        self._apply(order, OrderEvent.MODIFY_CONFIRMED, ack.at, f"broker order {ack.broker_order_no}")

    def cancel(self, order: Order, now: datetime, reason: str) -> None:
        """Ask the broker to cancel; the order is CANCELLED when the broker confirms."""
        if order.broker_order_no is None or order.state not in (
            OrderState.ACCEPTED,
            OrderState.PARTIALLY_FILLED,
        ):
            return
        self._apply(order, OrderEvent.REQUEST_CANCEL, now, reason)
        try:
            self.broker.cancel(order.broker_order_no, order.code)
        except SubmitOutcomeUnknown:
            return  # stays PENDING_CANCEL: settled by a query of the broker's orders (engine.recovery)
        except BrokerError as error:
            self._apply(order, OrderEvent.CANCEL_REJECTED, now, str(error))

    # ----- plumbing
    def _apply(self, order: Order, event: OrderEvent, at: datetime, note: str) -> None:
        old = order.state
        new = order.apply(event, at, note)
        if (old in OPEN_STATES) is not (new in OPEN_STATES):  # most moves keep an order open (or closed)
            self._track_open(order)
        self._emit(OrderStateChanged(order.order_id, order.code, old, new, event, at, note))

    def _track_open(self, order: Order) -> None:
        """Keep the open index in step with ``order``'s state: called for a restored order and after a
        transition or fill that opens or ends one (the others leave the index as it is, and ``_apply`` tells
        them by the two states alone); a compiled ``dict.pop`` with a default is a generic method call."""
        order_id = order.order_id
        if order.is_open:
            known = self._open.get(order_id)
            if known is None:
                _count_up(self._open_per_code, order.code)
                if order.side is Side.BUY:
                    _count_up(self._open_buys_per_code, order.code)
            if known is not order:  # new, or a restored order in the place of the one it stands for
                self._open[order_id] = order
        elif order_id in self._open:
            del self._open[order_id]
            _count_down(self._open_per_code, order.code)
            if order.side is Side.BUY:
                _count_down(self._open_buys_per_code, order.code)

    def _announce_state(self, order: Order, at: datetime) -> None:
        last = order.history[-1]
        previous = order.history[-2].state if len(order.history) > 1 else OrderState.CREATED
        self._emit(
            OrderStateChanged(order.order_id, order.code, previous, order.state, last.event, at, last.note)
        )

    def _emit(self, event: DomainEvent) -> None:
        for listener in self.listeners:
            listener(event)


def _past_session_end(order: Order, current: BrokerOrder | None) -> OrderEvent:
    """How an order of an earlier session ends: rejected if the broker refused it, cancelled if maemae's
    cancel went through; otherwise it expired with the session, whatever the broker's row calls an order
    with nothing left (KIS's reads as cancelled)."""
    if current is not None:
        if current.status is BrokerOrderStatus.REJECTED and (order.state, OrderEvent.REJECT) in TRANSITIONS:
            return OrderEvent.REJECT
        if current.status is BrokerOrderStatus.CANCELLED and order.state is OrderState.PENDING_CANCEL:
            return OrderEvent.CANCEL_CONFIRMED
    return OrderEvent.EXPIRE


def _past_session_note(order: Order, current: BrokerOrder | None, asked: bool, event: OrderEvent) -> str:
    """Why an order of an earlier session closed: what its day's orders at the broker show of it."""
    session = order.created_at.date().isoformat()
    listed = f"{SETTLED_BY_QUERY} the broker's orders of {session}"
    if not asked:
        ended = "it ended" if order.broker_order_no is not None else "sent or not, it ended"
        return (
            f"{SETTLED_BY_QUERY} the broker cannot list the orders of {session}; {ended} with that session "
            "(KRX orders are day orders)"
        )
    if current is None:
        return f"{listed} do not list it; it ended with that session"
    if event is OrderEvent.REJECT:
        return f"{listed} show it rejected"
    if event is OrderEvent.CANCEL_CONFIRMED:
        note = f"{listed} show it cancelled"
        asked_for = _cancel_asked(order, event)
        return note if asked_for is None else f"{note} ({asked_for})"
    return (
        f"{listed} show {order.filled_quantity:,} of {order.quantity:,} filled; the rest ended with that "
        "session (KRX orders are day orders)"
    )


def _cancel_asked(order: Order, closing: OrderEvent) -> str | None:
    """Why maemae asked to cancel ``order``, when ``closing`` confirms that cancel: the note of its pending
    request (the unfilled timeout, a refused re-price, the kill switch), which is the order's reason to end.
    The broker's confirmation only says the cancel went through, in its own words ("cancelled on request",
    "KIS order query", "Creon cancel confirmed"). None when no cancel of maemae's is pending, or the order
    ends otherwise (expired with the session, an IOC's remainder): the broker's reason is then the reason."""
    if closing is not OrderEvent.CANCEL_CONFIRMED or order.state is not OrderState.PENDING_CANCEL:
        return None
    for line in reversed(order.history):
        if line.event is OrderEvent.REQUEST_CANCEL:
            return line.note
    return None


def _count_up(counts: dict[StockCode, int], code: StockCode) -> None:
    """One more open order for ``code``."""
    counts[code] = counts.get(code, 0) + 1


def _count_down(counts: dict[StockCode, int], code: StockCode) -> None:
    """One fewer open order for ``code``; at none its key goes, so the keys are the codes with some."""
    left = counts[code] - 1
    if left:
        counts[code] = left
    else:
        del counts[code]


pickle_by_fields(_Tracking)  # see maemae.compiled
