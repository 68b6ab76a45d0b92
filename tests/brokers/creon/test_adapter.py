"""The Creon adapter against the fake COM layer: every call, every fault the fake can inject, and at the end
of each order scenario maemae's orders, fills, positions and cash equal the fake's (the same scenarios as the
KIS adapter's contract tests, where Creon allows)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import time
from typing import Any

import pytest

from maemae.brokers.creon import protocol
from maemae.brokers.creon.com import Win32Runtime
from maemae.brokers.creon.fake.venue import FakeCreonVenue
from maemae.brokers.creon.fake.world import FakeCreon, creon_number
from maemae.config import MaemaeConfig
from maemae.data.bars import Timeframe
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.domain.order_states import OrderState
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import Engine, build_backtest_engine, make_calendar
from maemae.engine.recovery import settle_in_doubt
from maemae.errors import (
    BrokerConnectionLost,
    ConfigError,
    FatalBrokerError,
    OrderRejected,
    SubmitOutcomeUnknown,
)
from maemae.execution.reconciliation import reconcile
from maemae.krx.ticks import round_down_to_tick
from maemae.ports.broker import BrokerFill, OrderRequest
from tests.brokers.conftest import DAY, Feed, Market
from tests.brokers.creon.conftest import LimitClock

Connect = Callable[..., FakeCreonVenue]


def engine_on(config: MaemaeConfig, venue: FakeCreonVenue, clock: SimulatedClock) -> Engine:
    engine = build_backtest_engine(
        config, make_calendar(config), {}, DAY, venue=venue, clock=clock, resilient=True
    )
    engine.portfolio.start_day(DAY)
    return engine


def buy(engine: Engine, code: StockCode, quantity: int, price: int | None = None) -> Any:
    order_type = OrderType.LIMIT if price else OrderType.MARKET
    intent = OrderIntent(code, Side.BUY, quantity, order_type, price, strategy="test")
    return engine.orders.submit(intent, quantity, engine.clock.now())


def trading(
    connect: Connect, feed: Feed, config: MaemaeConfig, clock: SimulatedClock, until: time, **options: Any
) -> tuple[FakeCreonVenue, Engine]:
    venue = connect(**options)
    feed.open(venue)
    engine = engine_on(config, venue, clock)
    feed.until(venue, until)
    return venue, engine


def assert_book_equals_fake(engine: Engine, world: FakeCreon, caught_up: set[str] | None = None) -> None:
    """maemae's orders, fills, positions and cash against the fake's own book (not through the adapter).
    Orders in ``caught_up`` had fills recorded from the day's totals: their won may differ by less than a
    won a share (Creon's average fill price), until the reconciliation takes the broker's cash."""
    rows = {str(creon_number(o.broker_order_no)): (o, extra) for o, extra in world.order_rows()}
    caught_up_shares = 0
    for order in engine.orders.orders.values():
        for number, (shares, won) in order.filled_by_number.items():
            at_fake, extra = rows[number]
            assert at_fake.filled_quantity == shares, order.order_id
            if number in (caught_up or set()):
                assert abs(extra.amount - won) < shares, order.order_id
                caught_up_shares += shares
            else:
                assert extra.amount == won, order.order_id
        if order.broker_order_no is not None and order.broker_order_no in rows:
            at_fake = rows[order.broker_order_no][0]
            assert (at_fake.remaining > 0 and at_fake.status.value == "working") == order.is_open, (
                order.order_id
            )
    held = {h.code: h.quantity for h in world.exchange.holdings()}
    assert {
        c: p.account_quantity for c, p in engine.portfolio.positions.items() if p.account_quantity
    } == held
    cash = world.exchange.cash()
    assert engine.portfolio.account.settled_cash == cash.deposit
    assert abs(engine.portfolio.account.orderable_cash - cash.orderable) <= caught_up_shares


# ----- start-up checks
def test_start_when_creon_not_ready_then_one_clear_line_each(
    make_world: Callable[..., FakeCreon], connect: Connect
) -> None:
    with pytest.raises(ConfigError, match="must run as administrator"):
        connect(on=make_world(admin=False))
    offline = make_world()
    offline.disconnect()
    with pytest.raises(BrokerConnectionLost, match=r"not connected \(CpCybos.IsConnect = 0\)"):
        connect(on=offline)
    with pytest.raises(FatalBrokerError, match=r"TradeInit\(0\) returned -1: unlock trading"):
        connect(on=make_world(trade_init=-1))
    with pytest.raises(ConfigError, match=r"broker\.creon\.account '999': not among the signed-in accounts"):
        connect(account="999")
    with pytest.raises(ConfigError, match=r"broker\.creon\.product_flag '99': expected one of 01"):
        connect(product_flag="99")


@pytest.mark.skipif(sys.platform == "win32", reason="checks the refusal on other systems")
def test_real_com_when_not_on_windows_then_refused_with_one_line() -> None:
    with pytest.raises(ConfigError, match="Creon Plus runs on Windows only"):
        Win32Runtime()


# ----- orders, fills, the book
def test_orders_when_filled_partly_modified_and_cancelled_then_book_equals_fake(
    connect: Connect,
    world: FakeCreon,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 10))
    quotes = venue.current_prices(market.codes)
    liquid, thin, resting = market.codes[0], market.codes[1], market.codes[2]
    whole = buy(engine, liquid, 10)
    partial = buy(engine, thin, 50)  # more than 10 % of a minute's volume: filled over several minutes
    low = quotes[resting].low - 20 * (quotes[resting].price // 1000 or 1)
    far = buy(engine, resting, 10, round_down_to_tick(low, DAY))
    assert whole.state is OrderState.ACCEPTED
    fills_seen = 0
    for minute in range(11, 16):
        feed.until(venue, time(9, minute))
        fills_seen += len(engine.orders.process_events())
    assert whole.state is OrderState.FILLED
    assert len(partial.fill_ids) >= 2  # filled in parts: one CpConclusion event each, counted once
    assert fills_seen == len(partial.fill_ids) + len(whole.fill_ids)
    engine.orders._replace(far, engine.orders._tracking[far.order_id], clock.now())  # CpTd0313: new number
    assert far.state is OrderState.ACCEPTED
    replaced = {o.broker_order_no: o for o in venue.day_orders()}[far.broker_order_no]
    assert replaced.original_order_no is not None
    engine.orders.cancel(far, clock.now(), "test")  # CpTd0314, confirmed by a CpConclusion event
    feed.until(venue, time(9, 17))
    engine.orders.process_events()
    assert far.state is OrderState.CANCELLED
    assert_book_equals_fake(engine, world)


def test_order_when_refused_then_rejected_with_creon_message(
    connect: Connect, world: FakeCreon, feed: Feed, market: Market
) -> None:
    venue = connect()
    feed.open(venue)
    feed.until(venue, time(9, 1))
    with pytest.raises(OrderRejected, match=r"Creon order .*GetDibStatus -1"):  # more than the account holds
        venue.submit(OrderRequest("x", market.codes[0], Side.SELL, 10, OrderType.MARKET, None))
    world.faults.refuse_orders = 1
    with pytest.raises(OrderRejected, match="주문이 거부되었습니다"):
        venue.submit(OrderRequest("x", market.codes[0], Side.BUY, 1, OrderType.MARKET, None))
    assert world.exchange.all_orders() == []


def test_submit_when_reply_lost_then_unknown_and_settled_by_query_never_resent(
    connect: Connect,
    world: FakeCreon,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 30))
    world.faults.lost_replies = 1
    order = buy(engine, market.codes[3], 7)
    assert order.state is OrderState.UNKNOWN
    found, never_sent = settle_in_doubt(engine.orders, engine.orders.broker, clock.now())
    assert found == [order.order_id]
    assert never_sent == []
    assert world.requests[protocol.NEW_ORDER] == 1
    feed.until(venue, time(9, 33))
    engine.orders.process_events()
    engine.orders.process_events()
    assert order.state is OrderState.FILLED
    assert_book_equals_fake(engine, world)


def test_order_when_over_the_trade_limit_then_waits_and_sends_exactly_once(
    make_world: Callable[..., FakeCreon], connect: Connect, feed: Feed, market: Market
) -> None:
    limits = LimitClock()
    world = make_world(limit_clock=limits, sleep=limits.sleep)
    venue = connect(on=world, sleep=limits.sleep)
    feed.open(venue)
    feed.until(venue, time(9, 5))
    for _ in range(protocol.TRADE_LIMIT):  # use up the order bucket with account queries
        venue.cash()
    order = venue.submit(OrderRequest("x", market.codes[0], Side.BUY, 1, OrderType.MARKET, None))
    assert venue.gate.waits >= 1
    assert limits.slept
    assert limits.now >= protocol.LIMIT_WINDOW_S - 1
    world.faults.limit_hits = 2  # Creon's own count says "over": return 4 twice, then it goes
    second = venue.submit(OrderRequest("y", market.codes[1], Side.BUY, 1, OrderType.MARKET, None))
    assert world.requests[protocol.NEW_ORDER] == 4  # two refused with 4 (not sent) and two sent
    assert [creon_number(o.broker_order_no) for o in world.exchange.all_orders()] == [
        int(order.broker_order_no),
        int(second.broker_order_no),
    ]


def test_quotes_when_over_the_quote_limit_then_requests_wait_and_all_answered(
    make_world: Callable[..., FakeCreon], connect: Connect, feed: Feed, market: Market
) -> None:
    limits = LimitClock()
    world = make_world(limit_clock=limits, sleep=limits.sleep)
    venue = connect(on=world, sleep=limits.sleep)
    feed.open(venue)
    feed.until(venue, time(9, 5))
    for _ in range(protocol.QUOTE_LIMIT + 5):
        assert len(venue.current_prices(market.codes)) == len(market.codes)
    assert venue.gate.waits >= 1
    assert world.requests[protocol.MARKET_EYE] == protocol.QUOTE_LIMIT + 5


def test_prices_when_subscribed_then_streamed_from_stock_cur_events(
    connect: Connect, feed: Feed, market: Market
) -> None:
    venue = connect(trade_codes=[str(c) for c in market.codes])
    assert venue.streamed == len(market.codes)
    assert venue.world.subscriptions == len(market.codes) + 1  # and one for the fill events
    feed.open(venue)
    feed.until(venue, time(9, 20))
    quotes = venue.current_prices(market.codes)
    assert venue.world.requests[protocol.MARKET_EYE] == 0  # every price came from StockCur events
    last = {code: bars[-1].close for code, bars in venue.world.minutes.items()}
    assert {code: q.price for code, q in quotes.items()} == last


def test_prices_when_subscriptions_run_out_then_the_rest_by_market_eye(
    make_world: Callable[..., FakeCreon], connect: Connect, feed: Feed, market: Market
) -> None:
    crowded = make_world()
    crowded.subscriptions = protocol.SUBSCRIPTION_LIMIT - 3  # other programs hold the rest
    venue = connect(on=crowded, trade_codes=[str(c) for c in market.codes])
    assert venue.streamed == 2  # one subscription went to the fill events
    feed.open(venue)
    feed.until(venue, time(9, 20))
    assert len(venue.current_prices(market.codes)) == len(market.codes)
    assert crowded.requests[protocol.MARKET_EYE] == 1  # the other seven in one MarketEye request


def test_connection_when_lost_then_persist_and_exit_error(
    connect: Connect, world: FakeCreon, feed: Feed, market: Market
) -> None:
    venue = connect()
    feed.open(venue)
    world.disconnect()
    with pytest.raises(BrokerConnectionLost):
        venue.poll_events()
    with pytest.raises(BrokerConnectionLost):
        venue.submit(OrderRequest("x", market.codes[0], Side.BUY, 1, OrderType.MARKET, None))
    assert world.exchange.all_orders() == []


def test_order_object_when_communication_fails_without_disconnect_then_outcome_unknown(
    connect: Connect, world: FakeCreon, feed: Feed, market: Market
) -> None:
    venue = connect()
    feed.open(venue)
    feed.until(venue, time(9, 2))
    world.faults.lost_replies = 1
    with pytest.raises(SubmitOutcomeUnknown, match="communication failure"):
        venue.submit(OrderRequest("x", market.codes[0], Side.BUY, 1, OrderType.MARKET, None))
    assert len(world.exchange.all_orders()) == 1  # it did go: recovery finds it by query


def test_events_when_lost_then_the_day_orders_catch_the_fills_up(
    connect: Connect,
    world: FakeCreon,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 40), order_sync_seconds=30)
    world.faults.lost_events = 3  # the acceptance and the first fills never arrive
    order = buy(engine, market.codes[3], 100)
    for minute in range(41, 56):
        feed.until(venue, time(9, minute))
        engine.orders.process_events()
    assert order.state is OrderState.FILLED  # the lost fills were caught up from the day's orders
    differences, _ = reconcile(engine.portfolio, venue)  # which takes Creon's cash where it differs
    assert [d.field for d in differences] in ([], ["settled_cash"])
    assert_book_equals_fake(engine, world, caught_up={order.broker_order_no})


def test_restart_when_an_order_is_working_then_new_process_catches_up_and_counts_once(
    connect: Connect,
    world: FakeCreon,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(10, 0))
    order = buy(engine, market.codes[1], 60)
    feed.until(venue, time(10, 2))
    engine.orders.process_events()
    before = order.filled_quantity
    assert 0 < before < order.quantity
    # a new process on the same Creon: the order's earlier fills come back as totals, not again
    restarted = connect()
    again = [f for f in restarted.fills_today() if f.broker_order_no == order.broker_order_no]
    assert [f.cumulative_quantity for f in again] == [before]
    engine.orders.broker = restarted  # type: ignore[misc]
    assert all(engine.orders.apply_broker_event(f) == [] for f in again)
    for minute in range(3, 40):
        feed.until(restarted, time(10, minute))
        engine.orders.process_events()
    assert order.state is OrderState.FILLED
    reconcile(engine.portfolio, restarted)
    assert_book_equals_fake(engine, world, caught_up={order.broker_order_no})


def test_external_trade_when_made_in_the_hts_then_not_maemae_s_but_held(
    connect: Connect,
    world: FakeCreon,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 30))
    venue.external_trade(
        market.codes[5], Side.BUY, 20, venue.current_prices([market.codes[5]])[market.codes[5]].price
    )
    assert engine.orders.process_events() == []
    assert {h.code: h.quantity for h in venue.holdings()} == {market.codes[5]: 20}


def test_account_queries_when_more_rows_than_a_page_then_all_read(
    make_world: Callable[..., FakeCreon], connect: Connect, feed: Feed, market: Market
) -> None:
    limits = LimitClock()  # 25 orders and the queries take more than one 15-second budget
    world = make_world(limit_clock=limits, sleep=limits.sleep)
    venue = connect(on=world, sleep=limits.sleep)
    feed.open(venue)
    feed.until(venue, time(9, 3))
    code = market.codes[2]
    low = round_down_to_tick(venue.current_prices([code])[code].low * 8 // 10, DAY)
    numbers = {
        venue.submit(OrderRequest(f"o{i}", code, Side.BUY, 1, OrderType.LIMIT, low)).broker_order_no
        for i in range(protocol.PAGE_MAX + 5)
    }
    assert {o.broker_order_no for o in venue.open_orders()} == numbers  # CpTd5339: 20 a page
    assert {o.broker_order_no for o in venue.day_orders()} == numbers  # CpTd5341: 20 a page
    assert venue.cash().orderable == world.exchange.cash().orderable


def test_bars_when_queried_then_match_the_stored_market(connect: Connect, feed: Feed, market: Market) -> None:
    venue = connect()
    feed.open(venue)
    code = market.codes[0]
    minutes = venue.minute_bars(code, DAY)  # more rows than one StockChart page: Continue
    stored = market.store.read_arrays(code, Timeframe.MINUTE, DAY, DAY)
    assert len(minutes) == len(stored) > 200
    assert minutes["close"].tolist() == stored.close.tolist()
    assert minutes["volume"].tolist() == stored.volume.tolist()
    daily = venue.daily_bars(code, DAY.replace(day=1), DAY)
    stored_daily = market.store.read_arrays(code, Timeframe.DAY, DAY.replace(day=1), DAY)
    assert daily["close"].tolist() == stored_daily.close.tolist()
    assert all(ts.tzinfo is not None for ts in daily["ts"])


def test_fills_when_totals_read_twice_then_recorded_once(
    connect: Connect,
    world: FakeCreon,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 50))
    order = buy(engine, market.codes[1], 30)
    feed.until(venue, time(9, 55))
    engine.orders.process_events()
    totals = [f for f in venue.fills_today() if f.broker_order_no == order.broker_order_no]
    assert totals
    assert all(isinstance(f, BrokerFill) and engine.orders.apply_broker_event(f) == [] for f in totals)
    assert_book_equals_fake(engine, world)
