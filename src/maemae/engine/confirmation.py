"""Confirmation before the first live order of a run (SPEC 4): nothing reaches a real broker unless the
config says ``mode = "live"`` and a person has said yes in this run.

The person says yes either up front (``maemae run --confirm``) or when the first order is about to leave, by
typing the account number at the terminal. The prompt shows the number masked, as the start line does, so the
answer comes from the person and not from copying the line. Anything else (a wrong answer, end of input, no
terminal) refuses the order with a one-line error and stops the run (exit 3); Ctrl-C refuses it too and stops
the run as Ctrl-C does anywhere (exit 130). A refused order is closed as rejected, its note saying why. Only
the first order asks: the answer holds for the rest of the run, and a restarted run asks again, also before it
modifies (re-prices) an order an earlier run placed.
"""

from __future__ import annotations

from collections.abc import Callable

from maemae import ctrl_c
from maemae.domain.codes import StockCode
from maemae.engine.broker_wrapper import BrokerWrapper
from maemae.errors import ConfirmationInterrupted, OrderNotSent
from maemae.ports.broker import Broker, OrderAck, OrderRequest

Ask = Callable[[str], str]
"""Shows the prompt and returns the answer; raises ``EOFError`` at end of input, ``KeyboardInterrupt`` on
Ctrl-C."""


def masked(account: str) -> str:
    """An account number with its last four characters hidden: what a line that may be read by others (an
    alert, the start line, the confirmation prompt) shows of it."""
    return account[:-4] + "****" if len(account) > 4 else "****"


class FirstOrderConfirmation(BrokerWrapper):
    """The broker port, with the first ``submit`` held until a person confirms it."""

    def __init__(
        self,
        inner: Broker,
        account: str,
        *,
        confirmed: bool,
        ask: Ask | None,
        product_code: str | None = None,
    ) -> None:
        """``account`` is the number a person types; with a ``product_code`` (KIS: the 8-digit CANO and its
        two-digit product code) the number followed by the code is taken too, as the config accepts it
        (``12345678-01``). Dashes and spaces in an answer are ignored."""
        super().__init__(inner)
        self.account = account
        self.confirmed = confirmed
        self._ask = ask
        digits = _bare(account)
        self._answers = {digits} if product_code is None else {digits, digits + product_code}
        self._shown = masked(account) + ("" if product_code is None else f"-{product_code}")

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
        order = f"live order {what} {price} not sent"
        if self._ask is None:
            raise OrderNotSent(
                f"{order}: a live run needs --confirm or a terminal to confirm its first order"
            )
        prompt = (
            f"LIVE ORDER, REAL MONEY, on {self.inner.name} account {self._shown}: {what} {price}. "
            "Type the account number to send it (anything else refuses it)"
        )
        try:
            with ctrl_c.acting():  # the run's own handler would only note the key while the prompt waits
                answer = self._ask(prompt)
        except EOFError:
            raise OrderNotSent(f"{order}: no answer was given at the confirmation (end of input)") from None
        except KeyboardInterrupt:
            raise ConfirmationInterrupted(
                f"{order}: refused by Ctrl-C at the confirmation; the run stopped with its state saved, and "
                "the same command starts it again (and asks again)"
            ) from None
        if _bare(answer) not in self._answers:
            raise OrderNotSent(f"{order}: the confirmation did not match the account number")
        self.confirmed = True


def _bare(answer: str) -> str:
    """An account number as typed, without the dashes and spaces people write it with."""
    return "".join(answer.split()).replace("-", "")
