"""Confirmation before the first live order of a run (SPEC 4): nothing reaches a real broker unless the
config says ``mode = "live"`` and a person has said yes in this run.

The person says yes either up front (``maemae run --confirm``) or when the first order is about to leave, by
typing the account number at the terminal; anything else refuses the order with a one-line error and stops
the run. Only the first order asks: the answer holds for the rest of the run, and a restarted run asks again,
also before it modifies (re-prices) an order an earlier run placed.
"""

from __future__ import annotations

from collections.abc import Callable

from maemae.domain.codes import StockCode
from maemae.engine.broker_wrapper import BrokerWrapper
from maemae.errors import OrderNotSent
from maemae.ports.broker import Broker, OrderAck, OrderRequest

Ask = Callable[[str], str]


class FirstOrderConfirmation(BrokerWrapper):
    """The broker port, with the first ``submit`` held until a person confirms it."""

    def __init__(self, inner: Broker, account: str, *, confirmed: bool, ask: Ask | None) -> None:
        super().__init__(inner)
        self.account = account
        self.confirmed = confirmed
        self._ask = ask

    def submit(self, request: OrderRequest) -> OrderAck:
        if not self.confirmed:
            price = f"at {request.price:,} won" if request.price else request.order_type.value
            self._confirm(f"{request.side.value} {request.quantity} {request.code}", price)
        return self.inner.submit(request)

    def modify(
        self, broker_order_no: str, code: StockCode, price: int, quantity: int | None = None
    ) -> OrderAck:
        """A modify is an order too: KRX gives it a new number, and a re-priced buy pays more. In a run no
        one has confirmed yet (a restart re-pricing an order an earlier run placed, on its unfilled timeout)
        it asks as the first order does; refused, nothing is sent, and the order manager cancels the order
        instead (a cancel never asks: it only takes an order back)."""
        if not self.confirmed:
            self._confirm(f"modify of order {broker_order_no} ({code})", f"to {price:,} won")
        return self.inner.modify(broker_order_no, code, price, quantity)

    def _confirm(self, what: str, price: str) -> None:
        if self._ask is None:
            raise OrderNotSent(
                f"live order {what} {price} not sent: "
                "a live run needs --confirm or a terminal to confirm its first order"
            )
        answer = self._ask(
            f"LIVE ORDER on {self.inner.name} account {self.account}: {what} {price}. "
            "Type the account number to confirm"
        )
        if answer.strip().replace("-", "") != self.account.replace("-", ""):
            raise OrderNotSent(
                f"live order {what} not sent: the confirmation did not match the account number"
            )
        self.confirmed = True
