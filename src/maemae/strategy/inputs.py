"""What strategies are given: the daily signal, and what a daily and a minute strategy see at one moment.

A module of their own, re-exported by :mod:`maemae.strategy.api`: the engine builds a ``MinuteInput`` at
every bar it wakes a strategy on, so these values are in the engine's compiled build (`maemae.compiled`),
while the strategy classes users subclass stay Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from maemae.compiled import pickle_by_fields
from maemae.data.bars import BarArrays
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.krx.ticks import add_ticks

Int64Array = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]


class Signal(IntEnum):
    """The daily strategy's view of a stock (an int so a day's signals fit in one int8 array)."""

    SELL = -1
    NONE = 0
    BUY = 1


@dataclass(frozen=True, slots=True)
class DailyInput:
    """What a daily strategy sees for one stock: completed daily bars up to yesterday, and today so far."""

    code: StockCode
    closes: Int64Array
    volumes: Int64Array
    price: int
    volume_today: int

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self, code: StockCode, closes: Int64Array, volumes: Int64Array, price: int, volume_today: int
    ) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "closes", closes)
        object.__setattr__(self, "volumes", volumes)
        object.__setattr__(self, "price", price)
        object.__setattr__(self, "volume_today", volume_today)


@dataclass(frozen=True, slots=True)
class PositionView:
    """A held position as a strategy sees it (what maemae owns; external shares are invisible): at least one
    share, as a flat stock has no position (``MinuteInput.position`` is ``None``)."""

    quantity: int
    cost_basis: int  # what the shares cost, buy commissions included (won)
    opened_at: datetime
    strategy: str

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, quantity: int, cost_basis: int, opened_at: datetime, strategy: str) -> None:
        if quantity < 1:
            raise ValueError(f"PositionView quantity {quantity}: expected 1 or more (a flat stock has none)")
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "cost_basis", cost_basis)
        object.__setattr__(self, "opened_at", opened_at)
        object.__setattr__(self, "strategy", strategy)

    @property
    def average_cost(self) -> Decimal:
        """Cost per share, buy commissions included: divided when asked (most visits never ask)."""
        return Decimal(self.cost_basis) / Decimal(self.quantity)


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
    market: Market = Market.KOSPI  # with the date and kind, which tick grid the stock's prices follow

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        code: StockCode,
        now: datetime,
        bars: BarArrays,
        today_start: int,
        daily_signal: Signal,
        position: PositionView | None,
        instrument_type: InstrumentType = InstrumentType.STOCK,
        market: Market = Market.KOSPI,
    ) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "now", now)
        object.__setattr__(self, "bars", bars)
        object.__setattr__(self, "today_start", today_start)
        object.__setattr__(self, "daily_signal", daily_signal)
        object.__setattr__(self, "position", position)
        object.__setattr__(self, "instrument_type", instrument_type)
        object.__setattr__(self, "market", market)

    @property
    def price(self) -> int:
        return int(self.bars.close.item(-1))

    def price_ticks_away(self, ticks: int) -> int:
        """The last price moved ``ticks`` ticks up (positive) or down on today's tick grid, within 1 won."""
        moved = add_ticks(self.price, ticks, self.now.date(), self.instrument_type, self.market)
        return max(moved, 1)


@dataclass(frozen=True, slots=True)
class WakeBars:
    """A minute strategy's wake-up bars for one stock and day: a boolean per today's bar, ``flat`` while
    maemae holds none of the stock, ``held`` while it holds some."""

    flat: BoolArray
    held: BoolArray

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, flat: BoolArray, held: BoolArray) -> None:
        object.__setattr__(self, "flat", flat)
        object.__setattr__(self, "held", held)


pickle_by_fields(DailyInput, PositionView, MinuteInput, WakeBars)  # see maemae.compiled
