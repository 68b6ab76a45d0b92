"""An intent holds exact types whatever a strategy handed over: the compiled engine takes nothing else."""

import numpy as np
import pytest

from maemae.domain.codes import InvalidStockCode, StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.domain.intents import IntentSource, OrderIntent


def test_intent_when_given_numpy_integers_and_plain_text_then_holds_int_stock_code_and_enums() -> None:
    close = np.array([70_000, 70_100], dtype=np.int64)
    intent = OrderIntent("005930", "buy", np.int64(10), "limit", close[-1])
    assert (intent.code, intent.side, intent.quantity, intent.order_type, intent.limit_price) == (
        "005930",
        Side.BUY,
        10,
        OrderType.LIMIT,
        70_100,
    )
    assert [type(v) for v in (intent.code, intent.quantity, intent.limit_price)] == [StockCode, int, int]
    assert type(intent.side) is Side
    assert type(intent.order_type) is OrderType


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"quantity": 10.5}, TypeError),  # a fraction of a share is a strategy bug, not rounded away
        ({"limit_price": np.float64(70_000)}, TypeError),
        ({"side": "hold"}, ValueError),
        ({"code": "5930"}, InvalidStockCode),
        ({"code": 5930}, InvalidStockCode),  # a code as a number lost its leading zeros
        ({"condition": "gtc"}, ValueError),  # KRX has no good-till-cancelled
    ],
)
def test_intent_when_a_value_cannot_be_exact_then_refused_where_the_strategy_made_it(
    fields: dict[str, object], error: type[Exception]
) -> None:
    arguments: dict[str, object] = {"code": StockCode("005930"), "side": Side.SELL} | fields
    with pytest.raises(error):
        OrderIntent(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity": 2.5}, "quantity 2.5 (float): expected a whole number of shares"),
        ({"quantity": "5"}, "quantity '5' (str): expected a whole number of shares"),
        ({"limit_price": 70_000.0}, "limit_price 70000.0 (float): expected a whole number of won"),
    ],
)
def test_intent_when_not_a_whole_number_then_the_error_names_the_field_and_the_value(
    fields: dict[str, object], message: str
) -> None:
    """``operator.index``'s own words (``'float' object cannot be interpreted as an integer``) named
    neither."""
    arguments: dict[str, object] = {"code": "005930", "side": "sell", "order_type": "limit"} | fields
    arguments.setdefault("limit_price", 70_000)
    with pytest.raises(TypeError) as refused:
        OrderIntent(**arguments)  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_intent_when_condition_and_source_given_as_text_then_holds_the_enums() -> None:
    intent = OrderIntent("005930", "sell", 5, "market", condition="ioc", source="stop_loss")
    assert (type(intent.condition), intent.condition) == (OrderCondition, OrderCondition.IOC)
    assert (type(intent.source), intent.source) == (IntentSource, IntentSource.STOP_LOSS)
    assert intent.signal == {}
