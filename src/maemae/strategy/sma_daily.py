"""``SMADaily``: the seed's daily strategy, a short/long simple-moving-average trend signal.

BUY while the short average is above the long one, SELL while it is below, both computed on the daily closes
with the live price standing for today's close (so the signal can turn during the day, as SPEC 2 asks). An
optional volume filter only lets BUY through when yesterday's volume was at least ``volume_ratio`` × the
average of the long window. Averages are compared as exact integer sums, so the backtest's vectorised driver
and the live per-minute evaluation cannot disagree by a rounding.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from maemae.domain.codes import StockCode
from maemae.strategy.api import DailyInput, DailyStrategy, Int8Array, Int64Array, Signal, StrategyParams


class SMADailyParams(StrategyParams):
    short: int = Field(5, ge=1, le=250, description="short moving average, in sessions")
    long: int = Field(20, ge=2, le=250, description="long moving average, in sessions")
    volume_filter: bool = Field(False, description="BUY only after a day of above-average volume")
    volume_ratio: Decimal = Field(
        Decimal("1.0"), gt=0, description="yesterday's volume / long-window average"
    )

    @model_validator(mode="after")
    def _short_below_long(self) -> SMADailyParams:
        if self.short >= self.long:
            raise ValueError(f"short ({self.short}) must be less than long ({self.long})")
        return self


class SMADaily(DailyStrategy):
    name: ClassVar[str] = "sma_daily"
    Params: ClassVar[type[SMADailyParams]] = SMADailyParams

    def __init__(self, params: SMADailyParams) -> None:
        super().__init__(params)
        self.p = params

    def history_days(self) -> int:
        return self.p.long

    def _volume_ok(self, volumes: Int64Array) -> bool:
        if not self.p.volume_filter:
            return True
        window = volumes[-self.p.long :]
        ratio = self.p.volume_ratio.as_integer_ratio()
        # yesterday / mean(window) >= ratio, in integers: y * len * den >= sum * num
        return int(window[-1]) * len(window) * ratio[1] >= int(window.sum()) * ratio[0]

    def evaluate(self, data: DailyInput) -> Signal:
        if len(data.closes) < self.p.long - 1:
            return Signal.NONE
        short_sum = int(data.closes[len(data.closes) - (self.p.short - 1) :].sum()) + data.price
        long_sum = int(data.closes[len(data.closes) - (self.p.long - 1) :].sum()) + data.price
        left, right = short_sum * self.p.long, long_sum * self.p.short
        if left > right:
            return Signal.BUY if self._volume_ok(data.volumes) else Signal.NONE
        if left < right:
            return Signal.SELL
        return Signal.NONE

    def evaluate_day(
        self,
        code: StockCode,
        closes: Int64Array,
        volumes: Int64Array,
        prices: Int64Array,
        volumes_today: Int64Array,
    ) -> Int8Array:
        del code, volumes_today
        if len(closes) < self.p.long - 1:
            return np.zeros(len(prices), dtype=np.int8)
        signals = np.empty(len(prices), dtype=np.int8)
        _day_signals(closes, prices, self.p.short, self.p.long, signals)
        if not self._volume_ok(volumes):
            np.minimum(signals, np.int8(Signal.NONE), out=signals)  # a cross without volume is no BUY
        return signals

    def evaluate_days(
        self,
        codes: list[StockCode],
        closes: list[Int64Array],
        volumes: list[Int64Array],
        prices: Int64Array,
        volumes_today: Int64Array,
    ) -> Int8Array:
        """``evaluate_day`` of all the day's stocks in one compiled call (the completed closes end to end):
        per stock, numba's dispatch and this method's Python cost more than the comparisons."""
        del codes, volumes_today
        signals = np.zeros(prices.shape, dtype=np.int8)
        if closes:
            ends = np.cumsum([len(history) for history in closes])
            _days_signals(np.concatenate(closes), ends, prices, self.p.short, self.p.long, signals)
        if self.p.volume_filter:
            for row, history in enumerate(volumes):
                if not self._volume_ok(history):
                    np.minimum(signals[row], np.int8(Signal.NONE), out=signals[row])
        return signals


@njit(cache=True)
def _days_signals(
    closes: Int64Array, ends: Int64Array, prices: Int64Array, short: int, long: int, signals: Int8Array
) -> None:
    """``_day_signals`` for each stock of a day: stock i's completed closes are ``closes[ends[i - 1]:
    ends[i]]``, its prices ``prices[i]``; a stock with fewer than ``long - 1`` closes keeps its row of
    NONE, as ``evaluate_day`` gives."""
    start = 0
    for row in range(ends.shape[0]):
        end = ends[row]
        if end - start >= long - 1:
            _day_signals(closes[start:end], prices[row], short, long, signals[row])
        start = end


@njit(cache=True)
def _day_signals(closes: Int64Array, prices: Int64Array, short: int, long: int, signals: Int8Array) -> None:
    """``evaluate``'s comparison at each of a day's prices, compiled (one call a stock and day instead of
    four NumPy passes), into ``signals``. The completed closes are the same all day, so (prior_short + p) *
    long against (prior_long + p) * short is p * (long - short) against a constant (long > short): BUY (1)
    above it, SELL (-1) below it, NONE at it. Integer sums, as ``evaluate``'s. The caller makes the array
    (see ``rsi_minute._wake_masks``: a returned one costs more)."""
    n = closes.shape[0]
    prior_short = 0
    for i in range(n - (short - 1), n):
        prior_short += closes[i]
    prior_long = 0
    for i in range(n - (long - 1), n):
        prior_long += closes[i]
    level = prior_long * short - prior_short * long
    for i in range(prices.shape[0]):
        left = prices[i] * (long - short)
        signals[i] = 1 if left > level else (-1 if left < level else 0)
