"""The broker port passed on to another broker unchanged: the base of the engine's wrappers that add a step
before a few calls (the first live order's confirmation, the instance-lock check) and must pass every other
call through as it is. A subclass overrides only the calls it changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.ports.broker import (
    Broker,
    BrokerEvent,
    BrokerFill,
    BrokerOrder,
    CashBalance,
    Holding,
    OrderAck,
    OrderRequest,
    Quote,
)


class BrokerWrapper:
    """``inner``'s port, call for call."""

    def __init__(self, inner: Broker) -> None:
        self.inner = inner
        self.name = inner.name

    def submit(self, request: OrderRequest) -> OrderAck:
        return self.inner.submit(request)

    def cancel(self, broker_order_no: str, code: StockCode, quantity: int | None = None) -> OrderAck:
        return self.inner.cancel(broker_order_no, code, quantity)

    def modify(
        self, broker_order_no: str, code: StockCode, price: int, quantity: int | None = None
    ) -> OrderAck:
        return self.inner.modify(broker_order_no, code, price, quantity)

    def open_orders(self) -> list[BrokerOrder]:
        return self.inner.open_orders()

    def order_status(self, broker_order_no: str) -> BrokerOrder | None:
        return self.inner.order_status(broker_order_no)

    def find_orders(self, code: StockCode, side: Side) -> list[BrokerOrder]:
        return self.inner.find_orders(code, side)

    def fills_today(self) -> list[BrokerFill]:
        return self.inner.fills_today()

    def orders_of_day(self, day: date) -> list[BrokerOrder] | None:
        return self.inner.orders_of_day(day)

    def cash(self) -> CashBalance:
        return self.inner.cash()

    def holdings(self) -> list[Holding]:
        return self.inner.holdings()

    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]:
        return self.inner.current_prices(codes)

    def poll_events(self) -> list[BrokerEvent]:
        return self.inner.poll_events()


def innermost(broker: Broker) -> Broker:
    """The adapter under every wrapper of this module: the one that talks to the broker."""
    while isinstance(broker, BrokerWrapper):
        broker = broker.inner
    return broker
