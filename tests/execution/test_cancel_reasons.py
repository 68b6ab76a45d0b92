"""The reason an order ends with: an order maemae asked to cancel ends with maemae's reason (the unfilled
timeout, a refused re-price, the kill switch), whatever words the broker's confirmation carries (the
simulator's, KIS's order query, Creon's confirmation); an order the broker cancelled or expired on its own
keeps the broker's reason."""

from datetime import date, datetime, time, timedelta
from typing import cast

import pytest

from maemae.brokers.sim.matching import MarketBar
from maemae.config import parse_config
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent, OrderState
from maemae.engine.composition import Engine, build_backtest_engine, make_calendar
from maemae.errors import SubmitOutcomeUnknown
from maemae.execution.order_manager import SETTLED_BY_QUERY, OrderManager
from maemae.krx.limits import price_limits
from maemae.ports.broker import Broker, BrokerOrderStatus, OrderAck, OrderUpdate

DAY = date(2025, 12, 3)
A = StockCode("005930")


def _engine(**execution: object) -> Engine:
    config = parse_config({"data": {"root": "unused"}, "execution": execution})
    engine = build_backtest_engine(config, make_calendar(config), {}, DAY)
    engine.clock.set(datetime.combine(DAY, time(9, 30), tzinfo=KST))
    engine.sim.start_day(DAY, {A: 10_000})
    return engine


def _buy(orders: OrderManager, now: datetime, condition: OrderCondition = OrderCondition.NONE) -> Order:
    intent = OrderIntent(A, Side.BUY, 10, OrderType.LIMIT, 9_000, condition=condition, reason="test")
    return orders.submit(intent, 10, now)


def _after_timeout(engine: Engine) -> datetime:
    later = engine.clock.now() + timedelta(seconds=engine.config.execution.unfilled_timeout_s + 1)
    engine.clock.set(later)
    return later


def _last_note(order: Order) -> str:
    return order.history[-1].note


def _state(order: Order) -> OrderState:
    """The order's state now (a function: mypy would keep the state an earlier assert narrowed)."""
    return order.state


def test_cancel_when_the_order_timed_out_ends_with_the_timeout_as_its_reason() -> None:
    engine = _engine()
    order = _buy(engine.orders, engine.clock.now())
    engine.orders.check_timeouts(_after_timeout(engine))
    engine.orders.process_events()
    assert order.state is OrderState.CANCELLED
    assert order.history[-1].event is OrderEvent.CANCEL_CONFIRMED
    assert _last_note(order).startswith("unfilled timeout")
    assert "(re-price refused)" not in _last_note(order)


def test_cancel_when_the_re_price_was_refused_ends_with_that_reason() -> None:
    engine = _engine(on_timeout="replace")
    # a re-price off the tick grid: the exchange refuses the modify, and the order is cancelled instead
    orders = OrderManager(engine.sim, engine.config.execution, engine.orders._costs_of, lambda *_: 9_001)
    order = _buy(orders, engine.clock.now())
    orders.check_timeouts(_after_timeout(engine))
    orders.process_events()
    assert order.state is OrderState.CANCELLED
    assert _last_note(order).startswith("unfilled timeout (re-price refused)")


@pytest.mark.parametrize(
    "confirmation", ["cancelled on request", "KIS order query", "Creon cancel confirmed", "Creon order query"]
)
def test_cancel_when_any_broker_confirms_it_keeps_the_engine_reason(confirmation: str) -> None:
    engine = _engine()
    order = _buy(engine.orders, engine.clock.now())
    engine.orders.cancel(order, engine.clock.now(), "kill switch")
    engine.sim.poll_events()  # the simulator's own confirmation: replaced by the adapter's words below
    assert order.broker_order_no is not None
    update = OrderUpdate(
        order.broker_order_no, BrokerOrderStatus.CANCELLED, engine.clock.now(), 10, reason=confirmation
    )
    engine.orders.apply_broker_event(update)
    assert order.state is OrderState.CANCELLED
    assert _last_note(order).startswith("kill switch")


def test_cancel_when_the_broker_cancels_on_its_own_keeps_the_broker_reason() -> None:
    engine = _engine()
    order = _buy(engine.orders, engine.clock.now(), OrderCondition.IOC)
    engine.clock.set(engine.clock.now() + timedelta(minutes=1))
    bar = MarketBar(engine.clock.now(), 10_000, 10_000, 10_000, 10_000, 1_000, price_limits(10_000, DAY))
    engine.sim.on_bar(A, bar)  # nothing at 9,000: the IOC's remainder is cancelled by the exchange
    engine.orders.process_events()
    assert order.state is OrderState.CANCELLED
    assert _last_note(order) == "IOC: remainder cancelled"


def test_cancel_when_refused_and_the_order_expires_keeps_the_broker_reason() -> None:
    engine = _engine()
    order = _buy(engine.orders, engine.clock.now())
    assert order.broker_order_no is not None
    engine.sim.cancel(order.broker_order_no, A)  # gone at the exchange: maemae's own cancel is refused
    engine.sim.poll_events()
    engine.orders.cancel(order, engine.clock.now(), "unfilled timeout")
    assert order.state is OrderState.ACCEPTED
    update = OrderUpdate(
        order.broker_order_no, BrokerOrderStatus.EXPIRED, engine.clock.now(), 10, "session ended"
    )
    engine.orders.apply_broker_event(update)
    assert _state(order) is OrderState.EXPIRED
    assert _last_note(order) == "session ended"


class _CancelReplyLost:
    """The simulator, but every cancel's reply is lost: the order stays PENDING_CANCEL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __getattr__(self, name: str) -> object:
        return getattr(self.engine.sim, name)

    def cancel(self, broker_order_no: str, code: StockCode, quantity: int | None = None) -> OrderAck:
        raise SubmitOutcomeUnknown(f"cancel {broker_order_no}: no reply")


def _reply_lost_manager(engine: Engine) -> OrderManager:
    broker = cast(Broker, _CancelReplyLost(engine))
    return OrderManager(broker, engine.config.execution, engine.orders._costs_of, lambda *_: 0)


def test_cancel_when_pending_and_the_session_ends_keeps_the_broker_reason() -> None:
    engine = _engine()
    orders = _reply_lost_manager(engine)
    order = _buy(orders, engine.clock.now())
    orders.cancel(order, engine.clock.now(), "unfilled timeout")
    assert order.state is OrderState.PENDING_CANCEL
    engine.sim.end_day()  # the cancel never reached the exchange: the order expires with the session
    orders.process_events()
    assert _state(order) is OrderState.EXPIRED
    assert _last_note(order) == "session ended"


def test_cancel_when_pending_and_settled_by_query_keeps_the_engine_reason() -> None:
    engine = _engine()
    orders = _reply_lost_manager(engine)
    order = _buy(orders, engine.clock.now())
    orders.cancel(order, engine.clock.now(), "unfilled timeout")
    assert order.broker_order_no is not None
    engine.sim.cancel(order.broker_order_no, A)  # it did reach the exchange; the reply was lost
    engine.sim.poll_events()
    status = engine.sim.order_status(order.broker_order_no)
    assert status is not None
    orders.close_from_status(order, status, engine.clock.now())
    assert order.state is OrderState.CANCELLED
    assert _last_note(order).startswith(SETTLED_BY_QUERY)
    assert "unfilled timeout" in _last_note(order)
