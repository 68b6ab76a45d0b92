"""``RSIMinute``: the seed's minute strategy, timing the daily strategy's signals with RSI.

RSI is computed over yesterday's and today's minute bars (SPEC 2). It buys when the daily signal is BUY, the
stock is not held, and RSI crosses up out of the oversold zone; it sells a held stock when RSI reaches the
overbought level or the daily signal turns SELL. Orders are limit orders a few ticks through the last price
(``limit_offset_ticks``), so a fill is never assumed: an order the market does not reach waits, then
times out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from maemae.data.bars import BarArrays
from maemae.domain.intents import OrderIntent
from maemae.strategy.api import BoolArray, Int8Array, MinuteInput, MinuteStrategy, Signal, WakeBars
from maemae.strategy.indicators import FloatArray, Int64Array, rsi_advance, rsi_value, wilder_factors
from maemae.strategy.order_style import OrderStyleParams
from maemae.strategy.timing import RSITiming


class RSIMinuteParams(OrderStyleParams):
    period: int = Field(14, ge=2, le=100, description="RSI period in minute bars")
    oversold: Decimal = Field(
        Decimal(30), gt=0, lt=100, description="a buy needs RSI to cross up through this"
    )
    overbought: Decimal = Field(
        Decimal(70), gt=0, lt=100, description="a held stock is sold at or above this"
    )

    @model_validator(mode="after")
    def _zones(self) -> RSIMinuteParams:
        if self.oversold >= self.overbought:
            raise ValueError(f"oversold ({self.oversold}) must be below overbought ({self.overbought})")
        return self


class RSIMinute(MinuteStrategy):
    name: ClassVar[str] = "rsi_minute"
    Params: ClassVar[type[RSIMinuteParams]] = RSIMinuteParams

    def __init__(self, params: RSIMinuteParams) -> None:
        super().__init__(params)
        self.p = params
        # the RSI period and zones as the compiled code takes them: the wake-up masks' and the decision's
        self._levels = (params.period, float(params.oversold), float(params.overbought))
        self._timing = RSITiming(self.name, *self._levels, params.order_type, params.limit_offset_ticks)

    def on_bar(self, data: MinuteInput) -> OrderIntent | None:
        """``RSITiming.on_bar``: the decision itself is compiled (:mod:`maemae.strategy.timing`)."""
        return self._timing.on_bar(data)

    def wake_bars(self, bars: BarArrays, today_start: int, daily_signals: Int8Array) -> WakeBars:
        today = len(bars.close) - today_start
        masks = np.zeros((2, today), dtype=np.bool_)
        values = np.empty(today + 1, dtype=np.float64)  # this call's RSI is not kept: see wake_bars_many
        _wake_masks(bars.close, today_start, daily_signals, *self._levels, masks, values)
        return WakeBars(flat=masks[0], held=masks[1])

    def wake_bars_many(
        self, bars: list[BarArrays], today_starts: list[int], daily_signals: Int8Array
    ) -> WakeBars:
        """``wake_bars`` of all the day's stocks in one compiled call: the stocks' closes end to end, each
        stock's rows of the masks written by the same ``_wake_masks``. Per stock, numba's dispatch and this
        method's Python cost more than the masks' arithmetic.

        The pass computes RSI at every bar of today, and ``on_bar`` at a bar it wakes for reads its two
        values from there (``KnownRSI``) instead of running the recurrence over the window again: the same
        recurrence, two drivers (DESIGN 1b). The backtest alone calls this; live, ``on_bar`` resumes it."""
        masks = np.zeros((2, *daily_signals.shape), dtype=np.bool_)
        # RSI at yesterday's last bar and at each of today's, per stock (NaN where there is none)
        values = np.full((daily_signals.shape[0], daily_signals.shape[1] + 1), np.nan)
        if bars:
            closes = np.concatenate([window.close for window in bars])
            # each window is its yesterday and today's bars, one signal each: where the windows end follows
            # from the starts, with no NumPy call on a list of the lengths (about 70,000 instructions a day)
            if closes.shape[0] != sum(today_starts) + len(bars) * daily_signals.shape[1]:
                raise ValueError("wake_bars_many: a window from today_start is not one bar per signal")
            starts = np.array(today_starts, dtype=np.int64)
            _wake_masks_many(closes, starts, daily_signals, *self._levels, masks, values)
        self._timing.known.remember(bars, today_starts, values)
        return WakeBars(flat=masks[0], held=masks[1])


BUY, SELL = int(Signal.BUY), int(Signal.SELL)  # plain ints: constants to the compiled code


@njit(cache=True)
def _wake_masks(
    close: Int64Array,
    today_start: int,
    daily_signals: Int8Array,
    period: int,
    oversold: float,
    overbought: float,
    masks: BoolArray,
    values: FloatArray,
) -> None:
    """``on_bar``'s conditions at every bar of today, compiled, into ``masks`` (two rows of today's bars, all
    False): row 0 flat, row 1 held; and the RSI they read into ``values`` (yesterday's last bar, then each
    of today's; left as they are where there is no bar or no value yet: the caller fills it with NaN). One
    RSI recurrence from yesterday's first bar, as ``on_bar`` computes it over its window; RSI's division only
    from yesterday's last bar on (the first value a condition reads), and no series kept: half the
    instructions of ``rsi_series`` and a loop over it. The caller makes the arrays: one the compiled code
    returned would cost the dispatcher's conversion about 3,500 instructions (numba rebuilds the array
    type's Python object on every return). A NaN RSI (warming up) satisfies no condition.

    Numba's cache of this function holds the compiled ``rsi_advance`` it calls: after editing
    ``indicators.py``, ``make clean-numba`` (a changed file here invalidates it too)."""
    keep, add = wilder_factors(period)
    n = close.shape[0] - today_start
    if today_start == 0 and n > 0:  # the window's first bar has no RSI, nor one before it
        masks[1, 0] = daily_signals[0] == SELL
    state = (0.0, 0.0, 0.0, 0.0)
    before = np.nan
    for i in range(1, close.shape[0]):
        state = rsi_advance(i, float(close[i] - close[i - 1]), period, keep, add, state)
        if i < today_start - 1:  # no condition reads this bar's RSI
            continue
        now = rsi_value(state[2], state[3]) if i >= period else np.nan
        values[i - today_start + 1] = now
        if i >= today_start:
            signal = daily_signals[i - today_start]
            masks[0, i - today_start] = signal == BUY and before < oversold and now >= oversold
            masks[1, i - today_start] = signal == SELL or now >= overbought
        before = now


@njit(cache=True)
def _wake_masks_many(
    closes: Int64Array,
    today_starts: Int64Array,
    daily_signals: Int8Array,
    period: int,
    oversold: float,
    overbought: float,
    masks: BoolArray,
    values: FloatArray,
) -> None:
    """``_wake_masks`` for each stock of a day: the stocks' windows end to end in ``closes``, stock i's
    ``today_starts[i]`` bars of yesterday and then one bar per column of ``daily_signals``; its masks are
    ``masks[:, i]`` (two rows of stocks x today's bars, all False), its RSI ``values[i]``."""
    start = 0
    for row in range(today_starts.shape[0]):
        end = start + today_starts[row] + daily_signals.shape[1]
        _wake_masks(
            closes[start:end],
            today_starts[row],
            daily_signals[row],
            period,
            oversold,
            overbought,
            masks[:, row],
            values[row],
        )
        start = end
