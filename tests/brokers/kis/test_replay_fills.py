"""The local KIS server replaying a stored day on its own clock (``maemae kis-mock --replay``): when an order
sent during a minute fills, and what the client sees of the market meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
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
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_calendar, make_sim_exchange
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
