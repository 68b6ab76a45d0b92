"""The values that cross the broker port: orders going out, and the broker's receipts, orders, fills,
updates, account and quotes coming back (:mod:`maemae.ports.broker` is the port itself).

A module of their own because the engine's compiled build (`maemae.compiled`) takes them, built on every
order and fill, while the port's ``Protocol`` stays Python (a compiled class is not a protocol that
``isinstance`` can check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from maemae.compiled import pickle_by_fields
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order as it leaves maemae. ``price`` is the limit price (on a valid tick), or None for market
    and best-price orders. ``client_order_id`` is maemae's id; brokers without client ids ignore it."""

    client_order_id: str
    code: StockCode
    side: Side
    quantity: int
    order_type: OrderType
    price: int | None
    condition: OrderCondition = OrderCondition.NONE

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        client_order_id: str,
        code: StockCode,
        side: Side,
        quantity: int,
        order_type: OrderType,
        price: int | None,
        condition: OrderCondition = OrderCondition.NONE,
    ) -> None:
        object.__setattr__(self, "client_order_id", client_order_id)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "order_type", order_type)
        object.__setattr__(self, "price", price)
        object.__setattr__(self, "condition", condition)


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The broker's receipt: its number for the order and when it accepted the request."""

    broker_order_no: str
    at: datetime

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, broker_order_no: str, at: datetime) -> None:
        object.__setattr__(self, "broker_order_no", broker_order_no)
        object.__setattr__(self, "at", at)


class BrokerOrderStatus(StrEnum):
    """An order's state as a broker reports it in a query (coarser than maemae's own state table)."""

    WORKING = "working"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """One order as the broker's order query reports it."""

    broker_order_no: str
    code: StockCode
    side: Side
    quantity: int
    price: int | None
    order_type: OrderType
    filled_quantity: int
    status: BrokerOrderStatus
    submitted_at: datetime
    client_order_id: str | None = None
    original_order_no: str | None = None  # the order a modify replaced (KIS ``orgn_odno``)
    filled_amount: int | None = None  # total won of the fills, where the broker reports it
    last_fill_at: datetime | None = None  # when the latest fill happened, where the broker reports it

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled_quantity


@dataclass(frozen=True, slots=True)
class BrokerFill:
    """One execution. ``fill_id`` is unique per broker and trading day, so a fill seen twice (pushed, then
    found again by a query) is recognised as the same fill.

    Brokers that report no id per execution (KIS: the notices and the day's order query carry running totals
    per order number) send **cumulative** fills instead: ``cumulative_quantity`` and ``cumulative_amount`` are
    the order number's filled shares and won after this fill. maemae then records only what the totals add
    to what it already has for that number, so a total seen twice, late or out of order counts once, and a
    missed notice is made good by the next total.
    """

    fill_id: str
    broker_order_no: str
    code: StockCode
    side: Side
    quantity: int
    price: int
    at: datetime
    cumulative_quantity: int | None = None
    cumulative_amount: int | None = None

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        fill_id: str,
        broker_order_no: str,
        code: StockCode,
        side: Side,
        quantity: int,
        price: int,
        at: datetime,
        cumulative_quantity: int | None = None,
        cumulative_amount: int | None = None,
    ) -> None:
        object.__setattr__(self, "fill_id", fill_id)
        object.__setattr__(self, "broker_order_no", broker_order_no)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "price", price)
        object.__setattr__(self, "at", at)
        object.__setattr__(self, "cumulative_quantity", cumulative_quantity)
        object.__setattr__(self, "cumulative_amount", cumulative_amount)


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A pushed change of an order other than a fill: accepted, cancelled (with the quantity that was
    cancelled), rejected or expired."""

    broker_order_no: str
    status: BrokerOrderStatus
    at: datetime
    cancelled_quantity: int = 0
    reason: str = ""

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        broker_order_no: str,
        status: BrokerOrderStatus,
        at: datetime,
        cancelled_quantity: int = 0,
        reason: str = "",
    ) -> None:
        object.__setattr__(self, "broker_order_no", broker_order_no)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "at", at)
        object.__setattr__(self, "cancelled_quantity", cancelled_quantity)
        object.__setattr__(self, "reason", reason)


BrokerEvent = BrokerFill | OrderUpdate


@dataclass(frozen=True, slots=True)
class Holding:
    """A stock the account holds. ``quantity`` includes shares bought outside maemae."""

    code: StockCode
    quantity: int
    sellable_quantity: int
    average_price: Decimal


@dataclass(frozen=True, slots=True)
class CashBalance:
    """Cash as the broker reports it: the deposit (settled) and what may be spent on a buy now (which counts
    unsettled sale proceeds and subtracts what open buy orders reserve)."""

    deposit: int
    orderable: int


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest trade price of a stock and the day so far."""

    code: StockCode
    price: int
    at: datetime
    open: int
    high: int
    low: int
    volume: int
    base_price: int


pickle_by_fields(
    OrderRequest, OrderAck, BrokerOrder, BrokerFill, OrderUpdate, Holding, CashBalance, Quote
)  # see maemae.compiled
