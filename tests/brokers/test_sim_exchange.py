from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.matching import FillRules, MarketBar, fill_price, opening_price
from maemae.data.instruments import Instrument
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market, OrderCondition, OrderType, Side
from maemae.errors import OrderRejected
from maemae.krx.calendar import default_calendar
from maemae.krx.costs import CostModel
from maemae.krx.limits import PriceLimits
from maemae.krx.ticks import STOCK_TABLE, tick_table
from maemae.ports.broker import Broker, BrokerFill, BrokerOrderStatus, OrderRequest, OrderUpdate

CODE = StockCode("005930")
DAY = date(2025, 3, 4)
LIMITS = PriceLimits(upper=91_000, lower=49_000)


def at(hour: int, minute: int) -> datetime:
    return datetime(2025, 3, 4, hour, minute, tzinfo=KST)


def bar(minute: int, o: int, h: int, low: int, c: int, v: int = 1_000, auction: bool = False) -> MarketBar:
    start = at(15, 30) if auction else at(9, 0) + timedelta(minutes=minute)
    return MarketBar(start, o, h, low, c, v, LIMITS, auction)


class Clock:
    def __init__(self) -> None:
        self.now = at(9, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> SimExchange:
    exchange = SimExchange(
        clock=clock,
        calendar=default_calendar(),
        costs=CostModel(Decimal("0.00015")),
        instruments={CODE: Instrument(CODE, "삼성전자", Market.KOSPI)},
        initial_cash=100_000_000,
        max_volume_share=Decimal("0.1"),
    )
    exchange.start_day(DAY, {CODE: 70_000})
    return exchange


def buy(
    quantity: int, price: int | None, order_type: OrderType = OrderType.LIMIT, **kw: object
) -> OrderRequest:
    return OrderRequest("c1", CODE, Side.BUY, quantity, order_type, price, **kw)  # type: ignore[arg-type]


RULES = FillRules()


@pytest.mark.parametrize(
    ("side", "limit", "candle", "expected"),
    [
        (Side.BUY, 70_000, (69_900, 70_500, 69_800, 70_100), 69_900),  # open below the limit: fills at open
        (Side.BUY, 70_000, (70_200, 70_500, 69_900, 70_100), 70_000),  # traded through: fills at the limit
        (Side.BUY, 70_000, (70_200, 70_500, 70_000, 70_100), None),  # only touched: not assumed filled
        (Side.SELL, 70_000, (70_100, 70_500, 69_800, 70_100), 70_100),
        (Side.SELL, 70_000, (69_900, 70_100, 69_800, 69_900), 70_000),
        (Side.SELL, 70_000, (69_900, 70_000, 69_800, 69_900), None),
    ],
)
def test_fill_price_when_limit_order_follows_conservative_rules(
    side: Side, limit: int, candle: tuple[int, int, int, int], expected: int | None
) -> None:
    o, h, low, c = candle
    assert fill_price(side, OrderType.LIMIT, limit, bar(1, o, h, low, c), RULES, STOCK_TABLE) == expected


def test_fill_price_when_locked_at_upper_limit_no_buy_but_sell() -> None:
    locked = bar(1, 91_000, 91_000, 91_000, 91_000)
    assert fill_price(Side.BUY, OrderType.MARKET, None, locked, RULES, STOCK_TABLE) is None
    assert fill_price(Side.SELL, OrderType.MARKET, None, locked, RULES, STOCK_TABLE) == 91_000


def test_fill_price_when_market_with_slippage_moves_ticks_against_order() -> None:
    rules = FillRules(slippage_ticks=2)
    candle = bar(1, 70_000, 70_500, 69_500, 70_100)
    assert fill_price(Side.BUY, OrderType.MARKET, None, candle, rules, STOCK_TABLE) == 70_200
    assert fill_price(Side.SELL, OrderType.MARKET, None, candle, rules, STOCK_TABLE) == 69_800


@pytest.mark.parametrize(("market", "expected"), [(Market.KOSDAQ, 150_200), (Market.KOSPI, 151_000)])
def test_fill_price_when_slipping_before_the_reform_moves_on_the_stocks_market_grid(
    market: Market, expected: int
) -> None:
    """2022: two ticks above 150,000 are 200 won on KOSDAQ's grid and 1,000 on KOSPI's."""
    rules = FillRules(slippage_ticks=2)
    grid = tick_table(date(2022, 6, 2), InstrumentType.STOCK, market)
    candle = MarketBar(at(9, 1), 150_000, 150_500, 149_500, 150_100, 1_000, PriceLimits(195_000, 105_000))
    assert fill_price(Side.BUY, OrderType.MARKET, None, candle, rules, grid) == expected


def test_fill_price_when_closing_auction_conditional_limit_becomes_market() -> None:
    auction = bar(0, 71_000, 71_000, 71_000, 71_000, auction=True)
    assert fill_price(Side.BUY, OrderType.CONDITIONAL_LIMIT, 70_000, auction, RULES, STOCK_TABLE) == 71_000
    assert fill_price(Side.BUY, OrderType.LIMIT, 70_000, auction, RULES, STOCK_TABLE) is None


OPENS_AT = [
    bar(1, 70_000, 70_500, 69_500, 70_100),
    bar(1, 70_200, 70_500, 69_900, 70_100),
    bar(1, 91_000, 91_000, 91_000, 91_000),  # locked at the upper limit
    bar(1, 91_000, 91_000, 90_000, 90_500),  # opens at the upper limit, then trades below it
    bar(1, 49_000, 49_500, 49_000, 49_200),  # opens at the lower limit
    bar(0, 71_000, 71_000, 71_000, 71_000, auction=True),
]


@pytest.mark.parametrize("candle", OPENS_AT)
@pytest.mark.parametrize("rules", [RULES, FillRules(slippage_ticks=2), FillRules(fill_at_close=True)])
@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@pytest.mark.parametrize(
    ("order_type", "limit"),
    [(OrderType.MARKET, None), (OrderType.BEST, None), (OrderType.PRIORITY, None)]
    + [
        (kind, p) for kind in (OrderType.LIMIT, OrderType.CONDITIONAL_LIMIT) for p in (69_900, 70_000, 70_200)
    ],
)
def test_opening_price_when_known_from_the_open_then_fill_price_agrees(
    candle: MarketBar, rules: FillRules, side: Side, order_type: OrderType, limit: int | None
) -> None:
    """An order trades at a bar's open before the rest of the bar is known only at the price the whole bar
    would give it."""
    early = opening_price(side, order_type, limit, candle, rules, STOCK_TABLE)
    if early is not None:
        assert early == fill_price(side, order_type, limit, candle, rules, STOCK_TABLE)


def test_opening_price_when_the_fill_needs_more_than_the_open_then_none() -> None:
    dip = bar(1, 70_200, 70_500, 69_900, 70_100)
    assert opening_price(Side.BUY, OrderType.MARKET, None, dip, RULES, STOCK_TABLE) == 70_200
    assert opening_price(Side.BUY, OrderType.LIMIT, 70_000, dip, RULES, STOCK_TABLE) is None  # the low
    assert (
        opening_price(Side.BUY, OrderType.MARKET, None, dip, FillRules(fill_at_close=True), STOCK_TABLE)
        is None
    )
    at_upper = bar(1, 91_000, 91_000, 90_000, 90_500)
    assert opening_price(Side.BUY, OrderType.MARKET, None, at_upper, RULES, STOCK_TABLE) is None  # locked?
    auction = bar(0, 71_000, 71_000, 71_000, 71_000, auction=True)
    assert opening_price(Side.BUY, OrderType.MARKET, None, auction, RULES, STOCK_TABLE) is None


def test_open_bar_when_orders_work_then_those_at_the_open_trade_first_and_the_rest_on_the_volume_left(
    sim: SimExchange, clock: Clock
) -> None:
    """A replayed bar's open (``open_bar``) trades the market buy at once; the limit buy that only the bar's
    low reaches trades when the whole bar comes (``on_bar``), on the 10 % of its volume the first left; no
    quote shows the bar before it ends."""
    clock.now = at(9, 0)
    limit = sim.submit(buy(50, 70_000)).broker_order_no
    market = sim.submit(buy(80, None, OrderType.MARKET)).broker_order_no
    candle = bar(1, 70_200, 70_500, 69_900, 70_100, v=1_000)
    clock.now = at(9, 1)
    sim.open_bar(CODE, candle)
    (first,) = sim.poll_events()
    assert isinstance(first, BrokerFill)
    assert (first.broker_order_no, first.quantity, first.price, first.at) == (market, 80, 70_200, at(9, 1))
    assert sim.current_prices([CODE]) == {}
    clock.now = at(9, 2)
    sim.on_bar(CODE, candle)
    (second,) = sim.poll_events()
    assert isinstance(second, BrokerFill)
    assert (second.broker_order_no, second.quantity, second.price) == (limit, 20, 70_000)
    assert sim.current_prices([CODE])[CODE].price == 70_100


def test_sim_when_checked_against_port_is_a_broker(sim: SimExchange) -> None:
    assert isinstance(sim, Broker)


def test_submit_when_order_decided_on_bar_fills_only_on_a_later_bar(sim: SimExchange, clock: Clock) -> None:
    clock.now = at(9, 5)  # decided when the 09:04 bar closed
    sim.submit(buy(10, None, OrderType.MARKET))
    sim.on_bar(CODE, bar(4, 69_000, 69_500, 68_900, 69_400))  # the bar the decision saw: no fill
    assert sim.poll_events() == []
    sim.on_bar(CODE, bar(5, 69_500, 69_700, 69_400, 69_600))
    (event,) = sim.poll_events()
    assert isinstance(event, BrokerFill)
    assert (event.quantity, event.price) == (10, 69_500)


def test_submit_when_volume_small_fills_partially_across_bars(sim: SimExchange, clock: Clock) -> None:
    clock.now = at(9, 1)
    ack = sim.submit(buy(150, 70_000))
    sim.on_bar(CODE, bar(1, 69_900, 70_000, 69_800, 69_900, v=1_000))
    sim.on_bar(CODE, bar(2, 69_900, 70_000, 69_800, 69_900, v=1_000))
    fills = [e for e in sim.poll_events() if isinstance(e, BrokerFill)]
    assert [f.quantity for f in fills] == [100, 50]
    status = sim.order_status(ack.broker_order_no)
    assert status is not None
    assert status.status is BrokerOrderStatus.FILLED


@pytest.mark.parametrize(
    ("request_", "now", "message"),
    [
        (buy(1, 70_050), at(9, 1), "not on the tick grid"),
        (buy(1, 92_000), at(9, 1), "outside the day's limits"),
        (buy(1, 70_000), at(15, 31), "market is closed"),
        (buy(1, 70_000), at(8, 0), "market is closed"),
        (buy(9_000, 70_000), at(9, 1), "orderable"),
        (OrderRequest("c", CODE, Side.SELL, 1, OrderType.LIMIT, 70_000), at(9, 1), "exceeds 0 sellable"),
    ],
)
def test_submit_when_order_unacceptable_is_rejected(
    sim: SimExchange, clock: Clock, request_: OrderRequest, now: datetime, message: str
) -> None:
    clock.now = now
    with pytest.raises(OrderRejected, match=message):
        sim.submit(request_)


def test_ioc_when_partially_fillable_cancels_remainder(sim: SimExchange, clock: Clock) -> None:
    clock.now = at(9, 1)
    sim.submit(buy(150, 70_000, condition=OrderCondition.IOC))
    sim.on_bar(CODE, bar(1, 69_900, 70_000, 69_800, 69_900, v=1_000))
    events = sim.poll_events()
    assert isinstance(events[0], BrokerFill)
    assert events[0].quantity == 100
    assert isinstance(events[1], OrderUpdate)
    assert events[1].cancelled_quantity == 50


def test_fok_when_not_fillable_in_full_cancels_all(sim: SimExchange, clock: Clock) -> None:
    clock.now = at(9, 1)
    sim.submit(buy(150, 70_000, condition=OrderCondition.FOK))
    sim.on_bar(CODE, bar(1, 69_900, 70_000, 69_800, 69_900, v=1_000))
    (event,) = sim.poll_events()
    assert isinstance(event, OrderUpdate)
    assert event.cancelled_quantity == 150


def test_end_day_when_orders_still_working_expires_them_and_frees_cash(
    sim: SimExchange, clock: Clock
) -> None:
    clock.now = at(9, 1)
    sim.submit(buy(10, 60_000))
    assert sim.cash().orderable < 100_000_000
    sim.end_day()
    (event,) = sim.poll_events()
    assert isinstance(event, OrderUpdate)
    assert event.status is BrokerOrderStatus.EXPIRED
    assert sim.cash().orderable == 100_000_000
    assert sim.open_orders() == []


def test_start_day_when_the_last_day_never_closed_then_its_orders_expire_first(
    sim: SimExchange, clock: Clock
) -> None:
    """The run feeding the exchange stopped before the close: its working orders end with their session
    (KRX day orders), not trade on the next day's bars."""
    clock.now = at(15, 10)
    number = sim.submit(buy(10, 70_000)).broker_order_no
    clock.now = datetime(2025, 3, 5, 8, 40, tzinfo=KST)
    sim.start_day(date(2025, 3, 5), {CODE: 70_000})
    (event,) = sim.poll_events()
    assert isinstance(event, OrderUpdate)
    assert (event.broker_order_no, event.status) == (number, BrokerOrderStatus.EXPIRED)
    sim.on_bar(
        CODE, MarketBar(datetime(2025, 3, 5, 9, 0, tzinfo=KST), 69_000, 69_500, 68_900, 69_000, 1_000, LIMITS)
    )
    assert sim.fills_today() == []
    assert sim.cash().orderable == 100_000_000
    (row,) = sim.orders_of_day(DAY)
    assert (row.broker_order_no, row.status) == (number, BrokerOrderStatus.EXPIRED)


def test_round_trip_when_sold_pays_costs_and_settles_t_plus_2(sim: SimExchange, clock: Clock) -> None:
    clock.now = at(9, 1)
    sim.submit(buy(10, None, OrderType.MARKET))
    sim.on_bar(CODE, bar(1, 70_000, 70_100, 69_900, 70_000))
    clock.now = at(9, 3)
    sim.submit(OrderRequest("c2", CODE, Side.SELL, 10, OrderType.MARKET, None))
    sim.on_bar(CODE, bar(3, 71_000, 71_100, 70_900, 71_000))
    buy_cost = 700_000 + 105
    sell_net = 710_000 - 106 - 1_065  # commission 0.015 %, tax 0.15 % (settles in 2025)
    assert sim.cash().orderable == 100_000_000 - buy_cost + sell_net
    assert sim.cash().deposit == 100_000_000  # nothing settled yet
    assert sim.holdings() == []
    assert [f.side for f in sim.fills_today()] == [Side.BUY, Side.SELL]
    sim.end_day()
    sim.start_day(date(2025, 3, 6), {CODE: 71_000})
    assert sim.cash().deposit == 100_000_000 - buy_cost + sell_net


def test_modify_when_working_gives_new_number_and_new_price(sim: SimExchange, clock: Clock) -> None:
    clock.now = at(9, 1)
    first = sim.submit(buy(10, 69_000))
    clock.now = at(9, 2)
    second = sim.modify(first.broker_order_no, CODE, 69_500)
    assert second.broker_order_no != first.broker_order_no
    sim.on_bar(CODE, bar(2, 69_800, 69_900, 69_400, 69_600))
    (fill,) = sim.poll_events()
    assert isinstance(fill, BrokerFill)
    assert (fill.broker_order_no, fill.price) == (second.broker_order_no, 69_500)
    with pytest.raises(OrderRejected, match="not working"):
        sim.cancel(first.broker_order_no, CODE)
