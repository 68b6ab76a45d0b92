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

The values strategies are given (``Signal``, ``DailyInput``, ``MinuteInput``, ``PositionView``, ``WakeBars``)
are defined in :mod:`maemae.strategy.inputs` and imported from here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
from pydantic import ConfigDict

from maemae.config.base import ConfigModel
from maemae.data.bars import BarArrays
from maemae.domain.codes import StockCode
from maemae.domain.intents import OrderIntent
from maemae.strategy.inputs import (
    BoolArray,
    DailyInput,
    Int8Array,
    Int64Array,
    MinuteInput,
    PositionView,
    Signal,
    WakeBars,
)

__all__ = [
    "BoolArray",
    "DailyInput",
    "DailyStrategy",
    "Int8Array",
    "Int64Array",
    "MinuteInput",
    "MinuteStrategy",
    "PositionView",
    "Signal",
    "StrategyParams",
    "WakeBars",
]


class StrategyParams(ConfigModel):
    """Base of every strategy's parameters: frozen, an unknown key is an error, and a value of the wrong TOML
    type (``"20"`` or ``true`` for an ``int``) is refused as in the rest of the config."""

    model_config = ConfigDict(frozen=True, extra="forbid")


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
