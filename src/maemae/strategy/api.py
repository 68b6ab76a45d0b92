"""The strategy API: a params class and two hooks, the same in a backtest and live (DESIGN 1.9).

maemae runs a pair of strategies, as the seed did: a **daily** strategy picks (it says BUY, SELL or NONE for a
stock, re-evaluated during the day with the live price standing for today's close) and a **minute** strategy
times the orders on minute bars. Both see data that ends at "now" and nothing else; they return intents, never
orders: the risk gate and the order manager do the rest.

Speed without a second code path (DESIGN 1b): the engine only calls ``on_bar`` on bars where something can
happen. A minute strategy may name those bars with ``wake_bars`` (a vectorised *superset*); by default
it is woken on every bar. A daily strategy may give ``evaluate_day`` (its signal for each minute of a day at
once); by default that calls ``evaluate`` per minute. Tests run every built-in in both modes and require
identical orders. A backtest asks each hook for all the day's stocks at once (``evaluate_days``,
``wake_bars_many``) when the strategy gives that form: it must equal the per-stock hook row by row.

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
from maemae.errors import StrategyError
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
    "evaluated",
]


def evaluated(strategy: DailyStrategy, data: DailyInput) -> Signal:
    """``strategy.evaluate(data)``, checked: a ``Signal``, or a plain integer -1, 0 or 1 (what a ``Signal``
    is); anything else is the strategy's error. Why: signals are kept as int8, and ``int8(1.7)``,
    ``int8("1")`` or ``True`` read as BUY without a word. A function of this (uncompiled) module, so that
    what the hook gave reaches the check: a compiled caller would refuse a non-``Signal`` in its own words."""
    value: object = strategy.evaluate(data)
    if type(value) is Signal:  # the usual answer, first and cheapest
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool) and -1 <= value <= 1:
        return Signal(int(value))
    raise StrategyError(
        f"evaluate returned {value!r} ({type(value).__name__}): expected a Signal (Signal.BUY, Signal.SELL "
        "or Signal.NONE)"
    )


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
                evaluated(self, DailyInput(code, closes, volumes, int(price), int(volume)))
                for price, volume in zip(prices, volumes_today, strict=True)
            ],
            dtype=np.int8,
        )

    def evaluate_days(
        self,
        codes: list[StockCode],
        closes: list[Int64Array],
        volumes: list[Int64Array],
        prices: Int64Array,
        volumes_today: Int64Array,
    ) -> Int8Array:
        """``evaluate_day`` for all of a day's stocks at once: row i is ``evaluate_day(codes[i], closes[i],
        volumes[i], prices[i], volumes_today[i])`` (``prices`` and ``volumes_today`` are stocks x bars).

        Why: a backtest asks for every stock of every day, and one call per stock costs more than the
        arithmetic. Override with a version that computes the rows together; it must equal this loop exactly.
        The backtest calls it only where this class's ``evaluate_day`` is the one it stands for.
        """
        signals = np.empty(prices.shape, dtype=np.int8)
        for row, code in enumerate(codes):
            signals[row] = self.evaluate_day(code, closes[row], volumes[row], prices[row], volumes_today[row])
        return signals


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

    def wake_bars_many(
        self, bars: list[BarArrays], today_starts: list[int], daily_signals: Int8Array
    ) -> WakeBars | None:
        """``wake_bars`` for all of a day's stocks at once: the masks are stocks x today's bars, row i what
        ``wake_bars(bars[i], today_starts[i], daily_signals[i])`` gives (a row of True where it gives None);
        or None for every bar of every stock.

        Why: as ``DailyStrategy.evaluate_days``. Override with a version that computes the rows together; it
        must equal this loop exactly. The backtest calls it only where this class's ``wake_bars`` is the one
        it stands for, and may write into the masks it returns.
        """
        flat = np.ones(daily_signals.shape, dtype=np.bool_)
        held = np.ones(daily_signals.shape, dtype=np.bool_)
        for row, (window, start) in enumerate(zip(bars, today_starts, strict=True)):
            wake = self.wake_bars(window, start, daily_signals[row])
            if wake is not None:
                flat[row], held[row] = wake.flat, wake.held
        return WakeBars(flat=flat, held=held)
