"""Confirmation before the first live order of a run (SPEC 4): nothing reaches a real broker unless the
config says ``mode = "live"`` and a person has said yes in this run.

The person says yes either up front (``maemae run --confirm``) or when the first order is about to leave, by
typing the account number at the terminal; anything else refuses the order with a one-line error and stops
the run. Only the first order asks: the answer holds for the rest of the run, and a restarted run asks again.
"""

from __future__ import annotations

from collections.abc import Callable

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
