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
``orders_of_day``             every order of an earlier trading day as the broker last reported it
                              (filled totals, final status), or ``None`` when the broker cannot be
                              asked about that day: recovery settles orders a stop left open with it
``cash`` / ``holdings``       the account as the broker sees it (holdings include external trades)
``current_prices``            quotes for many codes in as few calls as the broker allows
``poll_events``               fills and order updates pushed since the last poll, in broker order
============================  =====================================================================

The port is synchronous on purpose: the trading loop is one thread that owns the state, and real-time feeds
deliver into a queue that ``poll_events`` drains. This keeps the loop deterministic, which is what lets the
backtest and the live loop run the same code.

The values that cross the port (requests, receipts, orders, fills, updates, account, quotes) are defined in
:mod:`maemae.ports.messages`, which the engine's compiled build takes, and are imported from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol, runtime_checkable

from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.ports.messages import (
    BrokerEvent,
    BrokerFill,
    BrokerOrder,
    BrokerOrderStatus,
    CashBalance,
    Holding,
    OrderAck,
    OrderRequest,
    OrderUpdate,
    Quote,
)

__all__ = [
    "Broker",
    "BrokerEvent",
    "BrokerFill",
    "BrokerOrder",
    "BrokerOrderStatus",
    "CashBalance",
    "Holding",
    "OrderAck",
    "OrderRequest",
    "OrderUpdate",
    "Quote",
]


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

    def orders_of_day(self, day: date) -> list[BrokerOrder] | None: ...

    def cash(self) -> CashBalance: ...

    def holdings(self) -> list[Holding]: ...

    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]: ...

    def poll_events(self) -> list[BrokerEvent]: ...
