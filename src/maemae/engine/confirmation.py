"""Confirmation before the first live order of a run (SPEC 4): nothing reaches a real broker unless the
config says ``mode = "live"`` and a person has said yes in this run.

The person says yes either up front (``maemae run --confirm``) or when the first order is about to leave, by
typing the account number at the terminal; anything else refuses the order with a one-line error and stops
the run. Only the first order asks: the answer holds for the rest of the run, and a restarted run asks again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.errors import OrderNotSent
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

Ask = Callable[[str], str]


class FirstOrderConfirmation:
    """The broker port, with the first ``submit`` held until a person confirms it."""

    def __init__(self, inner: Broker, account: str, *, confirmed: bool, ask: Ask | None) -> None:
        self.inner = inner
        self.name = inner.name
        self.account = account
        self.confirmed = confirmed
        self._ask = ask

    def submit(self, request: OrderRequest) -> OrderAck:
        if not self.confirmed:
            self._confirm(request)
        return self.inner.submit(request)

    def _confirm(self, request: OrderRequest) -> None:
        price = f"at {request.price:,} won" if request.price else request.order_type.value
        if self._ask is None:
            raise OrderNotSent(
                f"live order {request.side.value} {request.quantity} {request.code} {price} not sent: "
                "a live run needs --confirm or a terminal to confirm its first order"
            )
        order = f"{request.side.value} {request.quantity} {request.code} {price}"
        answer = self._ask(
            f"LIVE ORDER on {self.inner.name} account {self.account}: {order}. "
            "Type the account number to confirm"
        )
        if answer.strip().replace("-", "") != self.account.replace("-", ""):
            raise OrderNotSent(
                f"live order {request.side.value} {request.quantity} {request.code} not sent: "
                "the confirmation did not match the account number"
            )
        self.confirmed = True

    # ----- the rest of the port, unchanged
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

    def cash(self) -> CashBalance:
        return self.inner.cash()

    def holdings(self) -> list[Holding]:
        return self.inner.holdings()

    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]:
        return self.inner.current_prices(codes)

    def poll_events(self) -> list[BrokerEvent]:
        return self.inner.poll_events()
