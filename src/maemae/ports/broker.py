"""The broker port: what the order manager and the trader need from any broker, simulated or real.

Every adapter (``sim``, ``kis``, ``creon``) implements :class:`Broker` with the same meaning:

============================  =====================================================================
method                        contract
============================  =====================================================================
``submit``                    send one new order; returns the broker's order number. Raises
                              ``OrderRejected`` (the broker refused it: no order exists),
                              ``RetryableBrokerError`` (nothing was sent, safe to retry) or
                              ``SubmitOutcomeUnknown`` (it may have been sent: settle by query,
                              never by sending again)
``cancel`` / ``modify``       act on an order by its broker number; ``quantity=None`` means all of
                              the remaining quantity. A modify returns the number of the order that
                              replaces it (KRX brokers give a modify its own number)
``open_orders``               orders of today still working at the broker
``order_status``              one order by broker number, or ``None`` when the broker never saw it
``find_orders``               today's orders for a code and side, to settle an UNKNOWN submit
``fills_today``               every fill of the trading day so far (the safety net after a reconnect)
``cash`` / ``holdings``       the account as the broker sees it (holdings include external trades)
``current_prices``            quotes for many codes in as few calls as the broker allows
``poll_events``               fills and order updates pushed since the last poll, in broker order
============================  =====================================================================

The port is synchronous on purpose: the trading loop is one thread that owns the state, and real-time feeds
deliver into a queue that ``poll_events`` drains. This keeps the loop deterministic, which is what lets the
backtest and the live loop run the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

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


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The broker's receipt: its number for the order and when it accepted the request."""

    broker_order_no: str
    at: datetime


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


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A pushed change of an order other than a fill: accepted, cancelled (with the quantity that was
    cancelled), rejected or expired."""

    broker_order_no: str
    status: BrokerOrderStatus
    at: datetime
    cancelled_quantity: int = 0
    reason: str = ""


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


@runtime_checkable
class Broker(Protocol):
    """The one interface every broker adapter implements (see the module docstring for the contract)."""

    name: str

    def submit(self, request: OrderRequest) -> OrderAck: ...

    def cancel(self, broker_order_no: str, code: StockCode, quantity: int | None = None) -> OrderAck: ...

    def modify(
        self, broker_order_no: str, code: StockCode, price: int, quantity: int | None = None
    ) -> OrderAck: ...

    def open_orders(self) -> list[BrokerOrder]: ...

    def order_status(self, broker_order_no: str) -> BrokerOrder | None: ...

    def find_orders(self, code: StockCode, side: Side) -> list[BrokerOrder]: ...

    def fills_today(self) -> list[BrokerFill]: ...

    def cash(self) -> CashBalance: ...

    def holdings(self) -> list[Holding]: ...

    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]: ...

    def poll_events(self) -> list[BrokerEvent]: ...
