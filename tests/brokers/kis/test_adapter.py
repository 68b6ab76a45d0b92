"""The KIS adapter against the local KIS server over real sockets: every call, every injected fault, and at
the end of each scenario maemae's orders, fills, positions and cash equal the server's."""

from __future__ import annotations

import os
import stat
import time as wall
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from maemae.brokers.kis import protocol
from maemae.brokers.kis.auth import KisCredentials
from maemae.brokers.kis.mock.server import MockServer
from maemae.brokers.kis.mock.venue import KisMockVenue
from maemae.config import MaemaeConfig
from maemae.config.broker import KisBrokerConfig
from maemae.data.bars import Timeframe
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.domain.order_states import OrderState
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import Engine, build_backtest_engine, make_calendar
from maemae.engine.persistence import StateRecorder
from maemae.engine.recovery import recover, settle_in_doubt
from maemae.errors import ConfigError, FatalBrokerError, OrderRejected
from maemae.krx.ticks import round_down_to_tick
from maemae.ports.broker import BrokerFill, OrderRequest
from maemae.store.repository import SqlStateStore
from tests.brokers.conftest import DAY, Feed, Market

Connect = Callable[..., KisMockVenue]


def control(server: MockServer, path: str, body: dict[str, Any] | None = None) -> Any:
    if body is None:
        return httpx.get(server.base_url + path).json()
    response = httpx.post(server.base_url + path, json=body)
    response.raise_for_status()
    return response.json()


def faults(server: MockServer, **settings: Any) -> None:
    actions = {k: settings.pop(k) for k in ("drop_websockets", "expire_tokens") if k in settings}
    control(server, "/_mock/faults", {"set": settings or None, **actions})


def engine_on(config: MaemaeConfig, venue: KisMockVenue, clock: SimulatedClock) -> Engine:
    calendar = make_calendar(config)
    engine = build_backtest_engine(config, calendar, {}, DAY, venue=venue, clock=clock, resilient=True)
    engine.portfolio.start_day(DAY)
    return engine


def buy(engine: Engine, code: StockCode, quantity: int, price: int | None = None) -> Any:
    order_type = OrderType.LIMIT if price else OrderType.MARKET
    intent = OrderIntent(code, Side.BUY, quantity, order_type, price, strategy="test")
    return engine.orders.submit(intent, quantity, engine.clock.now())


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = wall.monotonic() + seconds
    while not condition():
        if wall.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        wall.sleep(0.02)


def trading(
    connect: Connect,
    feed: Feed,
    config: MaemaeConfig,
    clock: SimulatedClock,
    until: time,
    *,
    websocket: bool = True,
) -> tuple[KisMockVenue, Engine]:
    """An adapter on the server (its stream connected, if any), the day opened and fed up to ``until``,
    and maemae's engine trading through it."""
    venue = connect(websocket=websocket)
    if websocket:
        assert venue.stream is not None
        wait_for(venue.stream.connected.is_set)
    feed.open(venue)
    engine = engine_on(config, venue, clock)
    feed.until(venue, until)
    return venue, engine


def assert_book_equals_server(engine: Engine, server: MockServer) -> None:
    """maemae's orders, fills, positions and cash against the server's book."""
    book = control(server, "/_mock/book")
    rows = {row["odno"]: row for row in book["orders"]}
    for order in engine.orders.orders.values():
        for number, (shares, won) in order.filled_by_number.items():
            assert int(rows[number]["tot_ccld_qty"]) == shares, order.order_id
            assert int(rows[number]["tot_ccld_amt"]) == won, order.order_id
        if order.broker_order_no is not None and order.broker_order_no in rows:
            row = rows[order.broker_order_no]
            assert (int(row["rmn_qty"]) > 0) == order.is_open, (order.order_id, order.state, row)
    held = {StockCode(h["pdno"]): int(h["hldg_qty"]) for h in book["holdings"]}
    assert {
        c: p.account_quantity for c, p in engine.portfolio.positions.items() if p.account_quantity
    } == held
    account = engine.portfolio.account
    assert account.settled_cash == int(book["summary"]["dnca_tot_amt"])
    assert account.orderable_cash == int(book["orderable"]["nrcvb_buy_amt"])


# ----- auth
def test_token_when_restarted_then_cached_owner_only_and_reused(
    connect: Connect, server: MockServer, tmp_path: Path
) -> None:
    first = connect(websocket=False)
    first.cash()
    first.close()
    second = connect(websocket=False)
    second.holdings()
    stats = control(server, "/_mock/stats")
    assert stats["tokens_issued"] == 1
    assert stats["token_requests"] == 1  # the second process read the token from the file
    cache = tmp_path / "kis-token.json"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert "mock-app-secret" not in cache.read_text()


def test_token_when_expired_then_renewed_once_and_request_goes_through(
    connect: Connect, server: MockServer
) -> None:
    venue = connect(websocket=False)
    venue.cash()
    faults(server, expire_tokens=True)
    assert venue.cash().deposit == 50_000_000
    assert control(server, "/_mock/stats")["tokens_issued"] == 2
    assert venue.rest.tokens.issued == 2


def test_credentials_when_missing_or_wrong_then_one_line_errors(connect: Connect, server: MockServer) -> None:
    with pytest.raises(ConfigError, match="KIS_APP_KEY, KIS_APP_SECRET, KIS_ACCOUNT, KIS_HTS_ID are not set"):
        KisCredentials.from_environment(KisBrokerConfig(), {})
    only_the_key = {"KIS_APP_SECRET": "s", "KIS_ACCOUNT": "12345678", "KIS_HTS_ID": "me"}
    with pytest.raises(
        ConfigError, match=r"^broker\.kis\.app_key_env: environment variable KIS_APP_KEY is not set"
    ):
        KisCredentials.from_environment(KisBrokerConfig(), only_the_key)
    with pytest.raises(ConfigError, match="account_env: KIS_ACCOUNT holds an account number of 5"):
        KisCredentials.from_environment(
            KisBrokerConfig(),
            {"KIS_APP_KEY": "k", "KIS_APP_SECRET": "s", "KIS_ACCOUNT": "12345", "KIS_HTS_ID": "h"},
        )
    venue = connect(websocket=False, environ={"KIS_APP_KEY": "not-the-key"})
    with pytest.raises(FatalBrokerError, match="EGW00103"):
        venue.cash()


# ----- orders, fills, the book
def test_orders_when_filled_partly_modified_and_cancelled_then_book_equals_server(
    connect: Connect,
    server: MockServer,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 10))
    quotes = venue.current_prices(market.codes)
    big, small, resting = market.codes[0], market.codes[1], market.codes[2]
    whole = buy(engine, small, 10)
    partial = buy(engine, big, 5_000_000 // quotes[big].price)  # more than 10 % of a minute's volume
    low = quotes[resting].low - 20 * (quotes[resting].price // 1000 or 1)
    far = buy(engine, resting, 10, round_down_to_tick(low, DAY))
    assert whole.state is OrderState.ACCEPTED
    for minute in range(11, 16):
        feed.until(venue, time(9, minute))
        engine.orders.process_events()
    assert whole.state is OrderState.FILLED
    assert partial.filled_quantity > 0
    # modify the resting order to a new price (KIS gives it a new number), then cancel it
    engine.orders._replace(far, engine.orders._tracking[far.order_id], clock.now())
    assert far.state is OrderState.ACCEPTED
    assert far.broker_order_no is not None
    rows = {o.broker_order_no: o for o in venue.all_orders()}
    assert rows[far.broker_order_no].original_order_no is not None
    engine.orders.cancel(far, clock.now(), "test")
    feed.until(venue, time(9, 17))
    engine.orders.process_events()
    assert far.state is OrderState.CANCELLED
    assert_book_equals_server(engine, server)


def test_order_when_refused_then_rejected_with_kis_code(connect: Connect, feed: Feed, market: Market) -> None:
    venue = connect(websocket=False)
    feed.open(venue)
    feed.until(venue, time(9, 1))
    with pytest.raises(OrderRejected, match="APBK0919"):  # more than the account holds
        venue.submit(OrderRequest("x", market.codes[0], Side.SELL, 10, OrderType.MARKET, None))
    with pytest.raises(OrderRejected, match="KIS has no priority order with condition ioc"):
        venue.submit(
            OrderRequest("x", market.codes[0], Side.BUY, 1, OrderType.PRIORITY, None, OrderCondition.IOC)
        )


def test_submit_when_reply_lost_then_unknown_and_settled_by_query_never_resent(
    connect: Connect,
    server: MockServer,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 30), websocket=False)
    faults(server, lost_replies=1, lost_reply_hold_s=1.5)
    order = buy(engine, market.codes[3], 7)
    assert order.state is OrderState.UNKNOWN
    found, never_sent = settle_in_doubt(engine.orders, engine.orders.broker, clock.now())
    assert found == [order.order_id]
    assert never_sent == []
    assert order.state is OrderState.ACCEPTED
    assert control(server, "/_mock/stats")["POST /uapi/domestic-stock/v1/trading/order-cash"] == 1
    feed.until(venue, time(9, 33))
    engine.orders.process_events()
    assert order.state is OrderState.FILLED
    assert_book_equals_server(engine, server)


def test_reads_when_rate_limited_or_server_errors_then_retried_and_answered(
    connect: Connect, server: MockServer, feed: Feed, config: MaemaeConfig, clock: SimulatedClock
) -> None:
    venue = connect(websocket=False)
    feed.open(venue)
    engine = engine_on(config, venue, clock)
    faults(server, rate_limits=3)
    assert venue.cash().deposit == 50_000_000
    assert venue.rest.rate_limited == 3
    faults(server, server_errors=2)
    assert engine.orders.broker.cash().deposit == 50_000_000  # the resilient wrapper retried the reads
    assert engine.orders.broker.retries == 2  # type: ignore[attr-defined]


def test_paging_when_more_orders_than_a_page_then_all_read(
    connect: Connect, feed: Feed, market: Market
) -> None:
    venue = connect(websocket=False)
    feed.open(venue)
    feed.until(venue, time(9, 1))
    code = market.codes[0]
    price = venue.current_prices([code])[code].low
    numbers = [
        venue.submit(
            OrderRequest(
                f"p{i}", code, Side.BUY, 1, OrderType.LIMIT, round_down_to_tick(price * 9 // 10, DAY)
            )
        ).broker_order_no
        for i in range(int(protocol.DAILY_CCLD_PAGE.paper) + 5)
    ]
    assert [o.broker_order_no for o in venue.open_orders()] == numbers
    assert venue.cancellable_orders() == dict.fromkeys(numbers, 1)
    assert len(venue.find_orders(code, Side.BUY)) == len(numbers)


# ----- the WebSocket
def test_notices_when_duplicated_and_reordered_then_each_fill_counted_once(
    connect: Connect,
    server: MockServer,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 5))
    faults(server, duplicate_notices=True, reorder_notices=True)
    orders = [buy(engine, code, 3) for code in market.codes[:4]]
    feed.until(venue, time(9, 6))
    venue._flush()
    wait_for(lambda: control(server, "/_mock/stats").get("notices_sent", 0) >= 12)
    records = venue.stream.drain()
    fills = [r for r in records if r.fields.get("CNTG_YN") == protocol.NOTICE_FILL]
    assert len(fills) == 8  # four fills, each pushed twice, decrypted
    assert {r.fields["ODER_NO"] for r in fills} == {o.broker_order_no for o in orders}
    for record in records:
        venue.stream.records.put(record)
    events = venue.poll_events()
    assert len([e for e in events if isinstance(e, BrokerFill)]) == 4
    for event in events:
        engine.orders.apply_broker_event(event)
    for event in events:  # the same totals again (a late duplicate) add nothing
        assert engine.orders.apply_broker_event(event) == []
    assert all(o.state is OrderState.FILLED for o in orders)
    assert_book_equals_server(engine, server)


def test_stream_when_dropped_then_reconnects_and_catches_fills_made_meanwhile(
    connect: Connect,
    server: MockServer,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 5))
    order = buy(engine, market.codes[0], 4)
    faults(server, drop_websockets=True)
    feed.until(venue, time(9, 7))  # the fill happens while the stream is down
    venue._flush()
    wait_for(lambda: venue.stream is not None and venue.stream.reconnects == 1)
    wait_for(venue.stream.connected.is_set)
    engine.orders.process_events()  # the reconnect makes the adapter read the day's orders
    assert order.state is OrderState.FILLED
    assert control(server, "/_mock/stats")["ws_connections"] == 2
    assert control(server, "/_mock/stats")["registrations"] == 1  # subscribed again after the reconnect
    assert_book_equals_server(engine, server)


def test_stream_when_pinged_then_echoes_pingpong(connect: Connect, server: MockServer) -> None:
    venue = connect()
    assert venue.stream is not None
    wait_for(lambda: control(server, "/_mock/stats").get("pongs", 0) >= 2)


def test_prices_when_universe_exceeds_41_registrations_then_rest_polls_the_rest(
    connect: Connect, server: MockServer, feed: Feed, market: Market
) -> None:
    many = [f"{900000 + i:06d}" for i in range(45)]
    venue = connect(trade_codes=[*map(str, market.codes[:3]), *many])
    assert venue.stream is not None
    assert len(venue.stream.trade_codes) == protocol.WS_REGISTRATION_LIMIT - 1
    wait_for(lambda: control(server, "/_mock/stats")["registrations"] == protocol.WS_REGISTRATION_LIMIT)
    feed.open(venue)
    feed.until(venue, time(9, 3))
    venue._flush()
    streamed = market.codes[:3]
    wait_for(lambda: control(server, "/_mock/stats").get("trades_sent", 0) >= 9)
    before = control(server, "/_mock/stats").get(f"GET {protocol.MULTI_PRICE_PATH}", 0)
    quotes = venue.current_prices(market.codes)
    after = control(server, "/_mock/stats").get(f"GET {protocol.MULTI_PRICE_PATH}", 0)
    assert set(quotes) == set(market.codes)
    assert after - before == 1  # the 6 codes without a stream in one batched call
    bar = market.bars[max(m for m in market.minutes if m.time() < time(9, 3))]
    for code in streamed:
        assert quotes[code].price == bar[code].close


def test_bars_when_queried_then_match_the_stored_market(
    connect: Connect, server: MockServer, feed: Feed, market: Market
) -> None:
    venue = connect(websocket=False)
    feed.open(venue)
    feed.until(venue, time(10, 0))
    code = market.codes[0]
    today = venue.minute_bars_today(code, "095900")
    assert len(today) == 60
    assert list(today["close"]) == [market.bars[m][code].close for m in market.minutes[:60]]
    # a restart's pause: the walk back stops at the page that reaches ``since`` (one call, not two)
    calls = f"GET {protocol.TODAY_MINUTES_PATH}"
    asked = control(server, "/_mock/stats").get(calls, 0)
    recent = venue.minute_bars_today(code, "095900", since="094000")
    assert control(server, "/_mock/stats").get(calls, 0) - asked == 1
    assert list(recent["close"]) == [market.bars[m][code].close for m in market.minutes[30:60]]
    asked = control(server, "/_mock/stats").get(calls, 0)
    venue.minute_bars_today(code, "095900", since="092000")  # 09:20 is on the second page back
    assert control(server, "/_mock/stats").get(calls, 0) - asked == 2
    before = date(2025, 12, 2)
    stored = market.store.read_arrays(code, Timeframe.MINUTE, before, before)
    past = venue.minute_bars(code, before)
    assert list(past["close"]) == [int(c) for c in stored.close]
    assert list(past["value"]) == [int(v) for v in stored.value]
    daily = venue.daily_bars(code, date(2025, 11, 1), date(2025, 12, 2))
    assert len(daily) > 10
    assert daily["ts"].is_monotonic_increasing


def test_latency_when_slower_than_the_timeout_then_order_settled_by_query_not_resent(
    connect: Connect,
    server: MockServer,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
) -> None:
    venue, engine = trading(connect, feed, config, clock, time(9, 20), websocket=False)
    faults(server, latency_ms=300)
    assert venue.cash().deposit == 50_000_000  # slow but inside the 1 s timeout
    faults(server, latency_ms=1500)
    order = buy(engine, market.codes[4], 5)
    assert order.state is OrderState.UNKNOWN  # the client gave up; the server still carries the order out
    wall.sleep(0.8)
    faults(server, latency_ms=0)
    found, never_sent = settle_in_doubt(engine.orders, engine.orders.broker, clock.now())
    assert (found, never_sent) == ([order.order_id], [])
    assert control(server, "/_mock/stats")["POST /uapi/domestic-stock/v1/trading/order-cash"] == 1
    feed.until(venue, time(9, 23))
    engine.orders.process_events()
    assert order.state is OrderState.FILLED
    assert_book_equals_server(engine, server)


def test_recover_when_an_order_filled_after_the_last_look_of_an_earlier_day_then_that_day_s_orders_book_it(
    connect: Connect,
    server: MockServer,
    feed: Feed,
    market: Market,
    config: MaemaeConfig,
    clock: SimulatedClock,
    tmp_path: Path,
) -> None:
    """A stop before the fill's notice was read, and the start on the next trading day: KIS's orders of today
    (inquire-daily-ccld for today) no longer list the order, so its fill was lost and its shares looked like
    the account holder's. The same query for the order's own day has it, with its filled total."""
    venue, engine = trading(connect, feed, config, clock, time(9, 30), websocket=False)
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    StateRecorder(store, engine.kernel)  # saves each change of the order as it happens
    order = buy(engine, market.codes[3], 7)
    assert order.state is OrderState.ACCEPTED
    feed.until(venue, time(9, 33))  # it fills at the exchange; maemae stops before it reads the notice
    saved = store.load(DAY)
    assert [o.state for o in saved.orders] == [OrderState.ACCEPTED]
    feed.until(venue, time(15, 31))
    venue.end_day()
    following = make_calendar(config).next_session(DAY)
    clock.set(datetime.combine(following, time(8, 0), tzinfo=KST))
    venue.start_day(following, market.bases)
    assert venue.fills_today() == []  # KIS's query of today lists today's orders
    assert venue.open_orders() == []

    (listed,) = venue.orders_of_day(DAY) or []
    assert (listed.broker_order_no, listed.filled_quantity) == (order.broker_order_no, 7)
    assert venue.orders_of_day(following - timedelta(days=120)) is None  # beyond what the query answers

    restarted = engine_on(config, venue, clock)
    report = recover(
        restarted.kernel, saved, restarted.orders.broker, StateRecorder(store, restarted.kernel), clock.now()
    )
    (recovered,) = restarted.orders.orders.values()
    assert recovered.state is OrderState.FILLED
    assert recovered.filled_amount == listed.filled_amount
    assert report.differences == []  # the shares are maemae's, not the account holder's
    assert restarted.portfolio.owned(market.codes[3]) == 7
    store.close()
