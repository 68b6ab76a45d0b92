"""The ``Order`` entity: one order's identity, terms, fills and history, moved only by the state table.

It is a mutable entity on purpose: an order lives for a day and changes many times, and the order manager
holds exactly one instance per order id. Every change goes through ``apply`` or ``record_fill``, both of which
consult the transition table, so no code path can put an order in a state the table does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

from maemae.compiled import pickle_by_fields
from maemae.domain.clock_time import KST, require_kst
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.domain.fill import Fill
from maemae.domain.intents import IntentSource
from maemae.domain.order_states import OPEN_STATES, TERMINAL_STATES, OrderEvent, OrderState, next_state
from maemae.errors import DomainError

_PRICED_TYPES: Final = (OrderType.LIMIT, OrderType.CONDITIONAL_LIMIT)


@dataclass(frozen=True, slots=True)
class Transition:
    """One line of an order's history; the order path makes three or four per order."""

    at: datetime
    event: OrderEvent
    state: OrderState
    note: str = ""

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, at: datetime, event: OrderEvent, state: OrderState, note: str = "") -> None:
        object.__setattr__(self, "at", at)
        object.__setattr__(self, "event", event)
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "note", note)


@dataclass(slots=True)
class Order:
    """An order from creation to its terminal state."""

    order_id: str
    code: StockCode
    side: Side
    quantity: int
    order_type: OrderType
    limit_price: int | None
    created_at: datetime
    condition: OrderCondition = OrderCondition.NONE
    strategy: str = ""
    source: IntentSource = IntentSource.STRATEGY
    reason: str = ""
    state: OrderState = OrderState.CREATED
    broker_order_no: str | None = None
    filled_quantity: int = 0
    filled_amount: int = 0
    commission: int = 0
    tax: int = 0
    fill_ids: set[str] = field(default_factory=set)
    # shares and won filled under each broker number (a modify gives the order a new number): what a
    # broker's running totals per number are compared with
    filled_by_number: dict[str, tuple[int, int]] = field(default_factory=dict)
    history: list[Transition] = field(default_factory=list)
    # what the intent behind the order asked for: None where it left the number to the gate's sizing. It
    # differs from ``quantity`` where that intent was denied without a positive quantity of its own: the
    # order still holds one share (``__post_init__``), which no one asked for and no list may show
    asked_quantity: int | None = None

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        order_id: str,
        code: StockCode,
        side: Side,
        quantity: int,
        order_type: OrderType,
        limit_price: int | None,
        created_at: datetime,
        condition: OrderCondition = OrderCondition.NONE,
        strategy: str = "",
        source: IntentSource = IntentSource.STRATEGY,
        reason: str = "",
        state: OrderState = OrderState.CREATED,
        broker_order_no: str | None = None,
        filled_quantity: int = 0,
        filled_amount: int = 0,
        commission: int = 0,
        tax: int = 0,
        fill_ids: set[str] | None = None,
        filled_by_number: dict[str, tuple[int, int]] | None = None,
        history: list[Transition] | None = None,
        asked_quantity: int | None = None,
    ) -> None:
        self.order_id, self.code, self.side, self.quantity = order_id, code, side, quantity
        self.order_type, self.limit_price, self.created_at = order_type, limit_price, created_at
        self.condition, self.strategy, self.source, self.reason = condition, strategy, source, reason
        self.state, self.broker_order_no = state, broker_order_no
        self.filled_quantity, self.filled_amount = filled_quantity, filled_amount
        self.commission, self.tax = commission, tax
        self.fill_ids = set() if fill_ids is None else fill_ids
        self.filled_by_number = {} if filled_by_number is None else filled_by_number
        self.history = [] if history is None else history
        self.asked_quantity = asked_quantity
        self.__post_init__()

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise DomainError(f"order {self.order_id}: quantity {self.quantity}, expected a positive number")
        if self.order_type in _PRICED_TYPES and (self.limit_price is None or self.limit_price <= 0):
            raise DomainError(
                f"order {self.order_id}: {self.order_type.value} order needs a positive limit price"
            )
        if self.created_at.tzinfo is not KST:  # the message is only built when it may be needed
            require_kst(self.created_at, f"order {self.order_id} creation time")

    @property
    def listed_quantity(self) -> int | None:
        """The quantity a list of orders shows: the order's own; a denied one's, what its intent asked for
        (None: left to the gate's sizing), since it never reached the sizing that would have given it one."""
        return self.asked_quantity if self.state is OrderState.DENIED else self.quantity

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def average_fill_price(self) -> Decimal | None:
        if self.filled_quantity == 0:
            return None
        return Decimal(self.filled_amount) / Decimal(self.filled_quantity)

    def apply(self, event: OrderEvent, at: datetime, note: str = "") -> OrderState:
        """Move the order by ``event``; raises ``IllegalTransition`` if the table forbids it.

        Fills must go through ``record_fill``. When a pending cancel or modify is refused (or a modify
        confirmed), the table returns ACCEPTED; an order that already has fills is PARTIALLY_FILLED instead.
        """
        if event in (OrderEvent.FILL_PARTIAL, OrderEvent.FILL_FULL):
            raise DomainError(f"order {self.order_id}: fills are recorded with record_fill, not apply")
        new_state = next_state(self.state, event)
        if new_state is OrderState.ACCEPTED and self.filled_quantity > 0:
            new_state = OrderState.PARTIALLY_FILLED
        self._move(event, new_state, at, note)
        return new_state

    def record_fill(self, fill: Fill) -> bool:
        """Add one fill; returns False (and changes nothing) when this fill id was already recorded."""
        if fill.fill_id in self.fill_ids:
            return False
        if fill.code != self.code or fill.side is not self.side:
            raise DomainError(
                f"order {self.order_id}: fill {fill.fill_id} is {fill.side.value} {fill.code}, "
                f"expected {self.side.value} {self.code}"
            )
        if fill.quantity > self.remaining:
            raise DomainError(
                f"order {self.order_id}: fill {fill.fill_id} of {fill.quantity} exceeds "
                f"the remaining {self.remaining}"
            )
        event = OrderEvent.FILL_FULL if fill.quantity == self.remaining else OrderEvent.FILL_PARTIAL
        new_state = next_state(self.state, event)
        self.fill_ids.add(fill.fill_id)
        self.filled_quantity += fill.quantity
        self.filled_amount += fill.amount
        shares, won = self.filled_by_number.get(fill.broker_order_no, (0, 0))
        self.filled_by_number[fill.broker_order_no] = (shares + fill.quantity, won + fill.amount)
        self.commission += fill.commission
        self.tax += fill.tax
        note = f"fill {fill.fill_id}: {_grouped(fill.quantity)} @ {_grouped(fill.price)}"
        self._move(event, new_state, fill.ts, note)
        return True

    def modify_terms(self, price: int | None, quantity: int | None, broker_order_no: str | None) -> None:
        """Apply a confirmed modify: KRX re-prices the remaining quantity (or part of it) as a new number.

        ``quantity`` is the new remaining quantity when given (a reduction); filled shares stay filled.
        """
        if price is not None:
            if price <= 0:
                raise DomainError(f"order {self.order_id}: modify price {price}, expected a positive number")
            self.limit_price = price
        if quantity is not None:
            if not 0 < quantity <= self.remaining:
                raise DomainError(
                    f"order {self.order_id}: modify quantity {quantity}, expected 1..{self.remaining}"
                )
            self.quantity = self.filled_quantity + quantity
        if broker_order_no is not None:
            self.broker_order_no = broker_order_no

    def _move(self, event: OrderEvent, state: OrderState, at: datetime, note: str) -> None:
        self.state = state
        if at.tzinfo is not KST:
            at = require_kst(at, f"order {self.order_id} event time")
        self.history.append(Transition(at, event, state, note))


def _grouped(number: int) -> str:
    """``f"{number:,}"``, digits grouped in threes by commas, made by slicing: the compiled build turns a
    format spec into a generic ``str.format`` call, and a fill's note made three of them (a sixth of what
    recording a fill cost)."""
    if 0 <= number < 1_000:  # a fill's quantity, mostly: nothing to group
        return str(number)
    digits = str(abs(number))
    head = len(digits) % 3 or 3
    text = digits[:head]
    for at in range(head, len(digits), 3):
        text += "," + digits[at : at + 3]
    return "-" + text if number < 0 else text


pickle_by_fields(Transition, Order)  # see maemae.compiled
