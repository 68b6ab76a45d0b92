"""A denied intent is kept as a DENIED order of at least one share (``Order``'s rule), but the lists must show
the quantity the intent asked for: none when it left the number to the gate's sizing, or the negative number a
buggy strategy gave, never a 1 nobody asked for."""

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
    order = _orders().record_denial(
        OrderIntent(CODE, Side.BUY, asked, OrderType.MARKET), "cooldown: sold at 09:10:00", NOW
    )
    assert order.state is OrderState.DENIED
    assert order.quantity >= 1  # the order's own rule is kept
    assert order.asked_quantity == asked
    assert order.listed_quantity == asked


def test_listed_quantity_of_a_sent_order_is_its_own_when_the_gate_sized_it() -> None:
    order = _orders().submit(OrderIntent(CODE, Side.BUY, None, OrderType.MARKET), 12, NOW)
    assert order.asked_quantity is None  # left to the sizing
    assert order.listed_quantity == 12


def test_listed_quantity_of_a_sent_order_is_its_own_after_a_modify_reduced_it() -> None:
    order = _orders().submit(OrderIntent(CODE, Side.BUY, 10, OrderType.LIMIT, 10_000), 10, NOW)
    order.modify_terms(None, 4, None)
    assert order.asked_quantity == 10
    assert order.listed_quantity == 4
