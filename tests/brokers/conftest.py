"""What the broker adapters' tests share: a stored day of the sample market, fed minute by minute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from maemae.brokers.sim.matching import MarketBar, stored_day
from maemae.config import MaemaeConfig
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.engine.clock import SimulatedClock
from maemae.krx.calendar import default_calendar
from maemae.krx.limits import price_limits
from tests.backtest.conftest import make_config


class FedVenue(Protocol):
    def start_day(self, day: date, base_prices: dict[StockCode, int]) -> None: ...

    def on_bar(self, code: StockCode, bar: MarketBar) -> None: ...


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
def clock() -> SimulatedClock:
    return SimulatedClock(datetime.combine(DAY, time(8, 30), tzinfo=KST))


class Feed:
    """Moves the market of the mock: the day's start, then minute bars up to a time."""

    def __init__(self, market: Market, clock: SimulatedClock) -> None:
        self.market, self.clock = market, clock
        self._next = 0

    def open(self, venue: FedVenue) -> None:
        self.clock.set(datetime.combine(DAY, time(8, 40), tzinfo=KST))
        venue.start_day(DAY, self.market.bases)

    def until(self, venue: FedVenue, until: time) -> None:
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
