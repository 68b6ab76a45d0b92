"""A live order no one confirmed is held back before the broker: the run stops, and the order is closed as
rejected with the reason, not left submitted until the next start settles it."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Iterator

import pytest

from maemae.config import parse_config
from maemae.domain.enums import OrderType, Side
from maemae.domain.events import DomainEvent, OrderStateChanged
from maemae.domain.intents import OrderIntent
from maemae.domain.order_states import OrderState
from maemae.engine.composition import build_core
from maemae.engine.confirmation import Ask, FirstOrderConfirmation
from maemae.errors import ConfirmationInterrupted, FatalBrokerError, OrderNotSent
from maemae.krx.calendar import default_calendar
from maemae.ports.broker import OrderRequest
from tests.engine.one_stock import CODE, NOW, one_stock_exchange


def _raises(error: type[BaseException]) -> Ask:
    def ask(prompt: str) -> str:
        raise error

    return ask


@pytest.mark.parametrize(
    ("ask", "reason", "exit_code"),
    [
        (None, "needs --confirm or a terminal", 3),
        (lambda prompt: "no", "did not match the account number", 3),
        (lambda prompt: "", "did not match the account number", 3),
        (_raises(EOFError), "no answer was given at the confirmation (end of input)", 3),
        (_raises(KeyboardInterrupt), "refused by Ctrl-C at the confirmation", 130),
    ],
    ids=["no terminal", "wrong answer", "empty answer", "end of input", "ctrl-c"],
)
def test_first_live_order_when_not_confirmed_is_closed_as_rejected_and_the_run_stops(
    ask: object, reason: str, exit_code: int
) -> None:
    exchange = one_stock_exchange()
    calendar = default_calendar()
    gate = FirstOrderConfirmation(exchange, "12345678", confirmed=False, ask=ask)  # type: ignore[arg-type]
    core = build_core(parse_config({}), calendar, {}, gate, resilient=False)
    seen: list[DomainEvent] = []
    core.orders.listeners.append(seen.append)

    with pytest.raises(OrderNotSent, match=re.escape(reason)) as refused:
        core.orders.submit(OrderIntent(CODE, Side.BUY, 1, limit_price=70_000), 1, NOW)

    assert isinstance(refused.value, FatalBrokerError)  # the run stops as on any fatal broker error
    assert refused.value.exit_code == exit_code  # ... but Ctrl-C exits as Ctrl-C does anywhere
    assert isinstance(refused.value, ConfirmationInterrupted) is (exit_code == 130)
    (order,) = core.orders.orders.values()
    assert order.state is OrderState.REJECTED
    assert reason in order.history[-1].note
    assert not core.orders.has_open_orders()
    states = [event.new for event in seen if isinstance(event, OrderStateChanged)]
    assert states == [OrderState.SUBMITTED, OrderState.REJECTED]  # the store saw it closed
    assert exchange.all_orders() == []  # nothing reached the exchange


ORDER = OrderRequest("c1", CODE, Side.BUY, 1, OrderType.LIMIT, 70_000)


def test_confirmation_prompt_shows_the_account_masked_and_takes_the_number_as_the_config_does() -> None:
    """The prompt used to print the very number it asked for: confirming was copying from the same line."""
    asked: list[str] = []
    for answer in ("50000000", "50000000-01", "5000000001", " 5000-0000 "):
        exchange = one_stock_exchange()

        def typed(prompt: str, answer: str = answer) -> str:
            asked.append(prompt)
            return answer

        gate = FirstOrderConfirmation(exchange, "50000000", confirmed=False, ask=typed, product_code="01")
        gate.submit(ORDER)
        assert len(exchange.all_orders()) == 1, answer
    assert "50000000" not in asked[0]
    assert asked[0].startswith(
        "LIVE ORDER, REAL MONEY, on sim account 5000****-01: buy 1 005930 at 70,000 won."
    )
    assert "Type the account number" in asked[0]
    for wrong in ("50000001", "50000000-02", "5000****-01", "01"):
        exchange = one_stock_exchange()
        gate = FirstOrderConfirmation(
            exchange, "50000000", confirmed=False, ask=lambda p, wrong=wrong: wrong, product_code="01"
        )
        with pytest.raises(OrderNotSent, match="did not match"):
            gate.submit(ORDER)
        assert exchange.all_orders() == [], wrong


@pytest.fixture
def noting_handler() -> Iterator[list[int]]:
    """A SIGINT handler that only notes the key, as the live loop's (asyncio's) and ``ctrl_c.held`` do."""
    noted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: noted.append(number))
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to itself is POSIX")
def test_ctrl_c_at_the_prompt_when_the_run_only_notes_it_still_refuses_the_order_at_once(
    noting_handler: list[int],
) -> None:
    """The reviewer's failure: the terminal showed ^C and the run waited on at the prompt, for 80 s and more,
    the order left submitted."""
    exchange = one_stock_exchange()

    def person_presses_ctrl_c(prompt: str) -> str:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):  # the prompt waits on: 5 s, then someone typed the number
            time.sleep(0.05)
        return "12345678"

    core = build_core(
        parse_config({}),
        default_calendar(),
        {},
        FirstOrderConfirmation(exchange, "12345678", confirmed=False, ask=person_presses_ctrl_c),
        resilient=False,
    )
    started = time.monotonic()
    with pytest.raises(ConfirmationInterrupted):
        core.orders.submit(OrderIntent(CODE, Side.BUY, 1, limit_price=70_000), 1, NOW)
    assert time.monotonic() - started < 3
    (order,) = core.orders.orders.values()
    assert order.state is OrderState.REJECTED
    assert exchange.all_orders() == []
    assert noting_handler == []  # the run's handler is back, and the key was the prompt's alone
    signal.raise_signal(signal.SIGINT)
    assert noting_handler == [signal.SIGINT]
