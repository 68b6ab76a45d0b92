"""The strategy API: a params class and two hooks, the same in a backtest and live (DESIGN 1.9).

maemae runs a pair of strategies, as the seed did: a **daily** strategy picks (it says BUY, SELL or NONE for a
stock, re-evaluated during the day with the live price standing for today's close) and a **minute** strategy
times the orders on minute bars. Both see data that ends at "now" and nothing else; they return intents, never
orders: the risk gate and the order manager do the rest.

Speed without a second code path (DESIGN 1b): the engine only calls ``on_bar`` on bars where something can
happen. A minute strategy may name those bars with ``wake_bars`` (a vectorised *superset*); by default
it is woken on every bar. A daily strategy may give ``evaluate_day`` (its signal for each minute of a day at
once); by default that calls ``evaluate`` per minute. Tests run every built-in in both modes and require
identical orders.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from maemae.data.bars import BarArrays
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType
from maemae.domain.intents import OrderIntent
from maemae.krx.ticks import add_ticks

Int64Array = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]


class Signal(IntEnum):
    """The daily strategy's view of a stock (an int so a day's signals fit in one int8 array)."""

    SELL = -1
    NONE = 0
    BUY = 1


class StrategyParams(BaseModel):
    """Base of every strategy's parameters: frozen, and an unknown key is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, slots=True)
class DailyInput:
    """What a daily strategy sees for one stock: completed daily bars up to yesterday, and today so far."""

    code: StockCode
    closes: Int64Array
    volumes: Int64Array
    price: int
    volume_today: int


@dataclass(frozen=True, slots=True)
class PositionView:
    """A held position as a strategy sees it (what maemae owns; external shares are invisible)."""

    quantity: int
    average_cost: Decimal
    opened_at: datetime
    strategy: str


@dataclass(frozen=True, slots=True)
class MinuteInput:
    """What a minute strategy sees at one bar: yesterday's and today's bars up to and including this one."""

    code: StockCode
    now: datetime
    bars: BarArrays
    today_start: int
    daily_signal: Signal
    position: PositionView | None
    instrument_type: InstrumentType = InstrumentType.STOCK

    @property
    def price(self) -> int:
        return int(self.bars.close[-1])

    def price_ticks_away(self, ticks: int) -> int:
        """The last price moved ``ticks`` ticks up (positive) or down on today's tick grid, within 1 won."""
        moved = add_ticks(self.price, ticks, self.now.date(), self.instrument_type)
        return max(moved, 1)


class DailyStrategy(ABC):
    """Picks stocks on daily bars. Subclasses set ``name`` and ``Params`` and implement ``evaluate``."""

    name: ClassVar[str]
    Params: ClassVar[type[StrategyParams]]

    def __init__(self, params: StrategyParams) -> None:
        self.params = params

    @abstractmethod
    def history_days(self) -> int:
        """Completed daily bars ``evaluate`` needs (the engine loads this many before the open)."""

    @abstractmethod
    def evaluate(self, data: DailyInput) -> Signal:
        """The signal now, with ``data.price`` standing for today's close."""

    def evaluate_day(
        self,
        code: StockCode,
        closes: Int64Array,
        volumes: Int64Array,
        prices: Int64Array,
        volumes_today: Int64Array,
    ) -> Int8Array:
        """``evaluate`` at each of a day's minute bars (``prices`` and cumulative ``volumes_today`` per bar).

        Override with a vectorised version for speed; it must equal this loop exactly.
        """
        return np.array(
            [
                self.evaluate(DailyInput(code, closes, volumes, int(price), int(volume)))
                for price, volume in zip(prices, volumes_today, strict=True)
            ],
            dtype=np.int8,
        )


@dataclass(frozen=True, slots=True)
class WakeBars:
    """A minute strategy's wake-up bars for one stock and day: a boolean per today's bar, ``flat`` while
    maemae holds none of the stock, ``held`` while it holds some."""

    flat: BoolArray
    held: BoolArray


class MinuteStrategy(ABC):
    """Times orders on minute bars. Subclasses set ``name`` and ``Params`` and implement ``on_bar``."""

    name: ClassVar[str]
    Params: ClassVar[type[StrategyParams]]

    def __init__(self, params: StrategyParams) -> None:
        self.params = params

    @abstractmethod
    def on_bar(self, data: MinuteInput) -> OrderIntent | None:
        """Called when a bar completes (whenever the engine wakes this stock); an intent or None."""

    def wake_bars(self, bars: BarArrays, today_start: int, daily_signals: Int8Array) -> WakeBars | None:
        """Today's bars where ``on_bar`` might return an intent (a superset), for a stock maemae does not hold
        and for one it holds; or None for every bar.

        ``bars`` holds yesterday's and today's bars; ``daily_signals`` the daily signal at today's bars. Both
        masks come from one call, so an indicator is computed once a day however often the holding changes.
        """
        del bars, today_start, daily_signals
        return None
