"""The local KIS server replaying a stored day on its own clock (``maemae kis-mock --replay``): when an order
sent during a minute fills, and what the client sees of the market meanwhile."""

from __future__ import annotations

import time as wall
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from maemae.brokers.kis.adapter import KisBroker
from maemae.brokers.kis.mock.app import MockSettings
from maemae.brokers.kis.mock.replay import MarketReplay
from maemae.brokers.kis.mock.server import MockServer
from maemae.brokers.sim.exchange import SimExchange
from maemae.config import MaemaeConfig
from maemae.config.broker import KisBrokerConfig
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.engine import paper
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_calendar, make_sim_exchange
from maemae.errors import OrderRejected
from maemae.krx.calendar import TradingCalendar
from maemae.ports.broker import BrokerOrderStatus, OrderRequest
from tests.brokers.conftest import DAY, Market

ETF = StockCode("357870")  # the sample market's safe asset


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute, second), tzinfo=KST)


@pytest.fixture
def broker(
    config: MaemaeConfig, market_root: Path, clock: SimulatedClock, tmp_path: Path
) -> Iterator[KisBroker]:
    """A KIS adapter on the local server whose market walks through ``DAY`` as ``clock`` moves."""
    calendar = make_calendar(config)
    store = BarStore(market_root)
    instruments = store.read_instruments()

    def make(exchange_clock: Callable[[], datetime]) -> SimExchange:
        return make_sim_exchange(config, calendar, instruments, exchange_clock)

    replay = MarketReplay(store, calendar, DAY, clock.now)
    server = MockServer(make, settings=MockSettings(token_interval_s=0.1), history=store, replay=replay)
    server.start()
    base = KisBrokerConfig(token_cache=tmp_path / "kis-token.json", websocket=False, timeout_seconds=5.0)
    adapter = KisBroker.from_config(
        server.broker_config(base), clock=clock.now, environ=server.environment(base), sleep=lambda s: None
    )
    try:
        yield adapter
    finally:
        adapter.close()
        server.stop()


def test_replay_when_a_market_buy_is_sent_during_a_minute_then_it_fills_when_the_next_minute_starts(
    broker: KisBroker, clock: SimulatedClock, market: Market
) -> None:
    """A market buy sent at 09:00:06 trades at the first print after it, the 09:01 bar's open, and the
    server shows the fill as soon as that minute starts (it used to wait for the 09:01 bar to end, 114 s
    after the order: past the 60 s unfilled timeout). The 09:01 bar's prices stay unseen until it ends."""
    clock.set(at(9, 0, 6))
    number = broker.submit(OrderRequest("park", ETF, Side.BUY, 10, OrderType.MARKET, None)).broker_order_no
    clock.set(at(9, 0, 59))
    working = broker.order_status(number)
    assert working is not None
    assert working.status is BrokerOrderStatus.WORKING
    clock.set(at(9, 1, 1))
    filled = broker.order_status(number)
    assert filled is not None
    assert filled.status is BrokerOrderStatus.FILLED
    assert filled.filled_amount == 10 * market.bars[at(9, 1)][ETF].open
    assert filled.last_fill_at == at(9, 1)
    assert broker.current_prices([ETF])[ETF].price == market.bars[at(9, 0)][ETF].close


def test_replay_when_a_limit_buy_waits_for_a_low_inside_the_minute_then_it_fills_when_the_minute_ends(
    broker: KisBroker, clock: SimulatedClock, market: Market
) -> None:
    """A limit buy below a bar's open that only the bar's low reaches trades at its limit once the bar has
    ended: the server does not know the minute's low before then."""
    bar = next(
        b
        for start in market.minutes
        if start.time() >= time(9, 1)
        and (b := market.bars[start].get(ETF)) is not None
        and b.low < b.open - 5
    )
    limit = bar.open - 5
    clock.set(bar.start - timedelta(seconds=30))
    number = broker.submit(OrderRequest("dip", ETF, Side.BUY, 1, OrderType.LIMIT, limit)).broker_order_no
    clock.set(bar.start + timedelta(seconds=30))
    working = broker.order_status(number)
    assert working is not None
    assert working.status is BrokerOrderStatus.WORKING
    clock.set(bar.start + timedelta(seconds=61))
    filled = broker.order_status(number)
    assert filled is not None
    assert filled.status is BrokerOrderStatus.FILLED
    assert filled.filled_amount == limit


class _SlowReplay(MarketReplay):
    """A stored day that takes two seconds to load, as a large market does."""

    def __init__(
        self, store: BarStore, calendar: TradingCalendar, day: date, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(store, calendar, day, clock)
        wall.sleep(2)


def test_kis_mock_replay_when_the_day_loads_slowly_then_its_market_starts_at_0829_when_it_listens(
    config: MaemaeConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``maemae kis-mock --replay`` stands at 08:29 when it says it listens, however long the day took to
    load: a client whose clock starts at 08:29 then is in step with it. Its clock used to start before the
    load, so two seconds at speed 60 put its market two minutes ahead, in the pre-open, where an order is
    taken; at 08:29 it is refused."""
    monkeypatch.setattr(paper, "MarketReplay", _SlowReplay)
    servers: list[MockServer] = []

    def serve_in_background(server: MockServer, ready: Callable[[str], None]) -> None:
        server.start()
        servers.append(server)
        ready(server.base_url)

    monkeypatch.setattr(MockServer, "serve_forever", serve_in_background)
    paper.serve_kis_mock(config, 0, paper=True, ready=lambda url: None, replay=DAY, speed=60)
    (server,) = servers
    base = KisBrokerConfig(token_cache=tmp_path / "kis-token.json", websocket=False, timeout_seconds=5.0)
    try:
        broker = KisBroker.from_config(
            server.broker_config(base), clock=lambda: at(8, 29), environ=server.environment(base)
        )
        with pytest.raises(OrderRejected, match="closed at 2025-12-03 08:29"):
            broker.submit(OrderRequest("early", ETF, Side.BUY, 1, OrderType.MARKET, None))
        broker.close()
    finally:
        server.stop()
