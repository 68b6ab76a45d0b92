"""The order manager's index of open orders by stock: a stock has an open order from its submission until the
order fills, is cancelled or expires, and again after a restart restores it."""

from datetime import date, datetime, time, timedelta

from maemae.brokers.sim.matching import MarketBar
from maemae.config import parse_config
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.engine.composition import Engine, build_backtest_engine, make_calendar
from maemae.execution.order_manager import OrderManager
from maemae.krx.limits import price_limits

DAY = date(2025, 12, 3)
A, B = StockCode("005930"), StockCode("000660")


def _engine() -> Engine:
    config = parse_config({"data": {"root": "unused"}})
    engine = build_backtest_engine(config, make_calendar(config), {}, DAY)
    engine.clock.set(datetime.combine(DAY, time(9, 30), tzinfo=KST))
    engine.sim.start_day(DAY, {A: 10_000, B: 20_000})
    return engine


def _buy(engine: Engine, code: StockCode, price: int) -> None:
    intent = OrderIntent(code, Side.BUY, 10, OrderType.LIMIT, price, reason="test")
    engine.orders.submit(intent, 10, engine.clock.now())


def _bar(price: int, at: datetime, volume: int = 1_000) -> MarketBar:
    return MarketBar(at, price, price, price, price, volume, price_limits(price, DAY))


def test_has_open_order_when_submitted_then_filled_is_true_until_the_fill() -> None:
    engine = _engine()
    _buy(engine, A, 10_000)
    assert engine.orders.has_open_order(A)
    assert not engine.orders.has_open_order(B)
    engine.clock.set(datetime.combine(DAY, time(9, 31), tzinfo=KST))
    engine.sim.on_bar(A, _bar(10_000, engine.clock.now()))
    assert [f.code for f in engine.orders.process_events()] == [A]
    assert not engine.orders.has_open_order(A)


def test_has_open_order_when_partly_filled_stays_true_until_the_rest_fills() -> None:
    engine = _engine()
    _buy(engine, A, 10_000)
    filled, open_after = [], []
    for minute, volume in ((31, 40), (32, 1_000)):  # the first bar trades 10 % of 40: 4 of the 10 shares
        engine.clock.set(datetime.combine(DAY, time(9, minute), tzinfo=KST))
        engine.sim.on_bar(A, _bar(10_000, engine.clock.now(), volume))
        engine.orders.process_events()
        filled.append(next(iter(engine.orders.orders.values())).filled_quantity)
        open_after.append(engine.orders.has_open_order(A))
    assert filled == [4, 10]
    assert open_after == [True, False]


def test_has_open_order_when_one_of_two_is_cancelled_stays_true_for_the_other() -> None:
    engine = _engine()
    _buy(engine, A, 9_900)
    _buy(engine, A, 9_800)
    first, second = engine.orders.open_orders()
    engine.orders.cancel(first, engine.clock.now(), "test")
    engine.orders.process_events()
    assert engine.orders.has_open_order(A)
    engine.orders.cancel(second, engine.clock.now(), "test")
    engine.orders.process_events()
    assert not engine.orders.has_open_order(A)


def test_has_open_order_when_the_day_ends_or_after_a_restart_follows_the_orders() -> None:
    engine = _engine()
    _buy(engine, B, 19_900)
    restarted = OrderManager(engine.orders.broker, engine.config.execution, lambda fill: None, lambda *a: 0)  # type: ignore[arg-type,return-value]
    restarted.restore(list(engine.orders.orders.values()))
    assert restarted.has_open_order(B)
    engine.sim.end_day()  # KRX orders are day orders: the working one expires
    engine.orders.process_events()
    assert not engine.orders.has_open_order(B)


def test_working_and_buying_codes_when_orders_open_and_close_name_exactly_the_codes_with_one() -> None:
    engine = _engine()
    orders = engine.orders
    _buy(engine, A, 10_000)
    _buy(engine, B, 19_900)
    assert sorted(orders.working_codes()) == sorted(orders.buying_codes()) == sorted([A, B])
    engine.clock.set(datetime.combine(DAY, time(9, 31), tzinfo=KST))
    engine.sim.on_bar(A, _bar(10_000, engine.clock.now()))
    orders.process_events()  # A's buy fills
    assert orders.working_codes() == orders.buying_codes() == [B]
    sell = OrderIntent(A, Side.SELL, 10, OrderType.LIMIT, 10_100, reason="test")
    orders.submit(sell, 10, engine.clock.now())
    assert sorted(orders.working_codes()) == sorted([A, B])
    assert orders.buying_codes() == [B]  # a sell is no buy
    (b_order,) = [o for o in orders.open_orders() if o.code == B]
    orders.cancel(b_order, engine.clock.now(), "test")
    orders.process_events()
    assert orders.working_codes() == [A]
    assert orders.buying_codes() == []
    restarted = OrderManager(orders.broker, engine.config.execution, lambda fill: None, lambda *a: 0)  # type: ignore[arg-type,return-value]
    restarted.restore(list(orders.orders.values()))
    assert restarted.working_codes() == [A]
    assert restarted.buying_codes() == []


def test_timeout_when_execution_settings_are_swapped_follows_the_new_timeout() -> None:
    engine = _engine()
    _buy(engine, A, 10_000)
    submitted = engine.clock.now()
    assert engine.config.execution.unfilled_timeout_s > 7
    engine.orders.config = engine.config.execution.model_copy(update={"unfilled_timeout_s": 7})
    (order,) = engine.orders.open_orders()
    engine.orders.check_timeouts(submitted + timedelta(seconds=6))
    assert len(order.history) == 2  # submitted and accepted: not due yet
    engine.orders.check_timeouts(submitted + timedelta(seconds=7))
    assert len(order.history) > 2  # re-priced or cancelled: due on the new timeout
