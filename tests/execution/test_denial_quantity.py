"""A denied intent is kept as a DENIED order of at least one share (``Order``'s rule), but the report must
show the quantity the intent asked for: none when it left the number to the gate's sizing, or the negative
number a buggy strategy gave, never a 1 nobody asked for."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from maemae.config import parse_config
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.domain.order_states import OrderState
from maemae.engine.composition import build_backtest_engine, make_calendar
from maemae.execution.order_manager import OrderManager

DAY = date(2025, 12, 3)
CODE = StockCode("005930")
NOW = datetime.combine(DAY, time(9, 30), tzinfo=KST)


def _orders() -> OrderManager:
    config = parse_config({"data": {"root": "unused"}})
    return build_backtest_engine(config, make_calendar(config), {}, DAY).orders


@pytest.mark.parametrize("asked", [None, -3, 0, 7])
def test_record_denial_keeps_the_quantity_the_intent_asked_for(asked: int | None) -> None:
    orders = _orders()
    intent = OrderIntent(CODE, Side.BUY, asked, OrderType.MARKET)
    order = orders.record_denial(intent, asked or 0, "cooldown: sold at 09:10:00", NOW)
    assert order.state is OrderState.DENIED
    assert order.quantity >= 1  # the order's own rule is kept
    assert orders.asked_quantity(order) == asked


def test_asked_quantity_of_a_submitted_order_is_its_quantity() -> None:
    orders = _orders()
    order = orders.submit(OrderIntent(CODE, Side.BUY, 10, OrderType.LIMIT, 10_000), 10, NOW)
    assert orders.asked_quantity(order) == 10
