"""``max_amount_per_day`` counts the money committed on the day, filled or working: a day of orders re-priced
and cancelled on the unfilled timeout ends with the day's amount at what filled, not at what was sent (the
shipped example's replayed day denied every buy from 13:26 on, its cancelled orders still counting)."""

from datetime import date
from pathlib import Path

from maemae.backtest.service import run_backtest
from maemae.domain.enums import OrderType
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent, OrderState
from tests.backtest.conftest import make_config

DAY = date(2025, 12, 30)


def _counted_price(order: Order) -> int:
    """The price a share the gate counted a limit order at: its price when sent, before any re-price (the
    first re-price's note names it: ``re-price 16,970 -> 16,980``)."""
    for line in order.history:
        if line.event is OrderEvent.REQUEST_MODIFY:
            return int(line.note.split()[1].replace(",", ""))
    assert order.limit_price is not None
    return order.limit_price


def test_daily_amount_when_orders_are_re_priced_and_cancelled_then_it_counts_what_filled(
    market_root: Path,
) -> None:
    config = make_config(
        market_root,
        strategies={"minute": {"class": "rsi_minute"}},
        risk={"stop_loss": {"enabled": False}},
        execution={"on_timeout": "replace", "unfilled_timeout_s": 60},
    )
    result = run_backtest(config, start=DAY, end=DAY)
    sent = [o for o in result.engine.orders.orders.values() if o.state is not OrderState.DENIED]
    assert {o.order_type for o in sent} == {OrderType.LIMIT}  # each one's counted price is known
    unfilled = [o for o in sent if o.filled_quantity < o.quantity]
    assert any(_counted_price(o) != o.limit_price for o in unfilled)  # re-priced, then cancelled
    state = result.engine.gate.state
    assert state.day == DAY
    assert state.working_orders == {}
    assert state.amount_today == sum(_counted_price(o) * o.filled_quantity for o in sent)
    assert state.amount_today < sum(_counted_price(o) * o.quantity for o in sent)
