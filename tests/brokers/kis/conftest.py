"""The local KIS server on a real socket, the adapter connected to it, and a market day to feed it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from maemae.brokers.kis.mock.app import MockSettings
from maemae.brokers.kis.mock.server import MockServer
from maemae.brokers.kis.mock.venue import KisMockVenue
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.matching import MarketBar, stored_day
from maemae.config import MaemaeConfig
from maemae.config.broker import KisBrokerConfig
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_calendar, make_sim_exchange
from maemae.krx.calendar import default_calendar
from maemae.krx.limits import price_limits
from tests.backtest.conftest import make_config

DAY = date(2025, 12, 3)
CASH = 50_000_000


@dataclass
class Market:
    """A stored day of the sample market, minute by minute, as the replay feed sends it."""

    store: BarStore
    codes: list[StockCode]
    bases: dict[StockCode, int]
    minutes: list[datetime]
    bars: dict[datetime, dict[StockCode, MarketBar]]


@pytest.fixture(scope="session")
def market(market_root: Path) -> Market:
    store = BarStore(market_root)
    codes = store.codes(Timeframe.MINUTE)
    calendar = default_calendar()
    previous = calendar.previous_session(DAY)
    bases: dict[StockCode, int] = {}
    bars: dict[datetime, dict[StockCode, MarketBar]] = {}
    for code in codes:
        daily = store.read_arrays(code, Timeframe.DAY, previous, previous)
        bases[code] = int(daily.close[-1])
        limits = price_limits(bases[code], DAY)
        minute = store.read_arrays(code, Timeframe.MINUTE, DAY, DAY)
        for bar in stored_day(minute, limits, datetime.combine(DAY, time(15, 30), tzinfo=KST)):
            bars.setdefault(bar.start, {})[code] = bar
    return Market(store, codes, bases, sorted(bars), bars)


@pytest.fixture(scope="session")
def config(market_root: Path) -> MaemaeConfig:
    return make_config(market_root, backtest={"initial_cash": CASH})


@pytest.fixture
def server(config: MaemaeConfig, market_root: Path) -> Iterator[MockServer]:
    calendar = make_calendar(config)
    store = BarStore(market_root)
    instruments = store.read_instruments()

    def make(clock: Callable[[], datetime]) -> SimExchange:
        return make_sim_exchange(config, calendar, instruments, clock)

    settings = MockSettings(token_interval_s=0.2, ping_interval_s=0.2)
    mock = MockServer(make, settings=settings, history=store).start()
    yield mock
    mock.stop()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime.combine(DAY, time(8, 30), tzinfo=KST))


@pytest.fixture
def connect(
    server: MockServer, clock: SimulatedClock, tmp_path: Path
) -> Iterator[Callable[..., KisMockVenue]]:
    """Adapters connected to the server (each one like a maemae process: they share the token file)."""
    made: list[KisMockVenue] = []

    def make(
        trade_codes: Sequence[str] = (), environ: dict[str, str] | None = None, **changes: object
    ) -> KisMockVenue:
        base = KisBrokerConfig(token_cache=tmp_path / "kis-token.json", timeout_seconds=1.0)
        config = server.broker_config(base).model_copy(update=changes)
        venue = KisMockVenue.from_config(
            config,
            clock=clock.now,
            trade_codes=trade_codes,
            environ={**server.environment(base), **(environ or {})},
            sleep=lambda seconds: None,
        )
        made.append(venue)
        return venue

    yield make
    for venue in made:
        venue.close()


class Feed:
    """Moves the market of the mock: the day's start, then minute bars up to a time."""

    def __init__(self, market: Market, clock: SimulatedClock) -> None:
        self.market, self.clock = market, clock
        self._next = 0

    def open(self, venue: KisMockVenue) -> None:
        self.clock.set(datetime.combine(DAY, time(8, 40), tzinfo=KST))
        venue.start_day(DAY, self.market.bases)

    def until(self, venue: KisMockVenue, until: time) -> None:
        """Feed every minute bar that starts before ``until``; the clock ends at ``until``."""
        minutes = self.market.minutes
        while self._next < len(minutes) and minutes[self._next].time() < until:
            start = minutes[self._next]
            self.clock.set(start + timedelta(minutes=1))
            for code, bar in self.market.bars[start].items():
                venue.on_bar(code, bar)
            self._next += 1
        self.clock.set(datetime.combine(DAY, until, tzinfo=KST))


@pytest.fixture
def feed(market: Market, clock: SimulatedClock) -> Feed:
    return Feed(market, clock)
