"""A live order no one confirmed is held back before the broker: the run stops, and the order is closed as
rejected with the reason, not left submitted until the next start settles it."""

from __future__ import annotations

import pytest

from maemae.config import parse_config
from maemae.domain.enums import Side
from maemae.domain.events import DomainEvent, OrderStateChanged
from maemae.domain.intents import OrderIntent
from maemae.domain.order_states import OrderState
from maemae.engine.composition import build_core
from maemae.engine.confirmation import FirstOrderConfirmation
from maemae.errors import FatalBrokerError, OrderNotSent
from maemae.krx.calendar import default_calendar
from tests.engine.one_stock import CODE, NOW, one_stock_exchange


@pytest.mark.parametrize(
    ("ask", "reason"),
    [(None, "needs --confirm or a terminal"), (lambda prompt: "no", "did not match the account number")],
)
def test_first_live_order_when_not_confirmed_is_closed_as_rejected_and_the_run_stops(
    ask: object, reason: str
) -> None:
    exchange = one_stock_exchange()
    calendar = default_calendar()
    gate = FirstOrderConfirmation(exchange, "12345678", confirmed=False, ask=ask)  # type: ignore[arg-type]
    core = build_core(parse_config({}), calendar, {}, gate, resilient=False)
    seen: list[DomainEvent] = []
    core.orders.listeners.append(seen.append)

    with pytest.raises(OrderNotSent, match=reason) as refused:
        core.orders.submit(OrderIntent(CODE, Side.BUY, 1, limit_price=70_000), 1, NOW)

    assert isinstance(refused.value, FatalBrokerError)  # the run stops as on any fatal broker error (exit 3)
    (order,) = core.orders.orders.values()
    assert order.state is OrderState.REJECTED
    assert reason in order.history[-1].note
    assert not core.orders.has_open_orders()
    states = [event.new for event in seen if isinstance(event, OrderStateChanged)]
    assert states == [OrderState.SUBMITTED, OrderState.REJECTED]  # the store saw it closed
    assert exchange.all_orders() == []  # nothing reached the exchange
