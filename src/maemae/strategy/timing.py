"""The built-in minute strategies' per-bar work, compiled by mypyc: ``RSIMinute``'s decision and the order
style's intent.

Why a module of its own: a strategy's class stays Python (its params are a pydantic model, and users subclass
the strategy API), but what it does on every bar it is woken for need not. ``RSIMinute.on_bar`` hands its
bar to ``RSITiming.on_bar`` here, and ``OrderStyleParams.intent`` builds its order with ``styled_intent``:
the same code in a backtest, paper and live trading, compiled by ``make setup``
(``scripts/compile_engine.py``) and run as Python otherwise. The numba functions it calls stay in
:mod:`maemae.strategy.indicators`: Numba needs their Python bytecode.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Sequence
from typing import cast

import numpy as np

from maemae.data.bars import BarArrays
from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.domain.intents import IntentSource, OrderIntent
from maemae.strategy.indicators import (
    CHECKPOINT_PERIOD,
    CHECKPOINT_SEEN,
    FloatArray,
    Int64Array,
    rsi_last_two_resumed,
)
from maemae.strategy.inputs import MinuteInput, Signal


def styled_intent(
    data: MinuteInput,
    side: Side,
    quantity: int | None,
    order_type: OrderType,
    limit_offset_ticks: int,
    strategy: str,
    reason: str,
    signal: dict[str, float] | None,
) -> OrderIntent:
    """An order for ``data.code`` in this style; a limit ``limit_offset_ticks`` through the last price, so
    it is marketable now and still never fills at an unbounded price."""
    price = None
    if order_type is OrderType.LIMIT:
        price = data.price_ticks_away(limit_offset_ticks * side.sign)
    return OrderIntent(
        data.code,
        side,
        quantity,
        order_type,
        price,
        OrderCondition.NONE,
        IntentSource.STRATEGY,
        strategy,
        reason,
        signal or {},
    )


class RSITiming:
    """``RSIMinute``'s decision at a bar: buy a stock not held when the daily signal is BUY and RSI crosses
    up out of the oversold zone; sell a held one at or above overbought, or when the daily signal is SELL.
    The params are read once here, into plain attributes, not from the pydantic model on every bar."""

    def __init__(
        self,
        strategy: str,
        period: int,
        oversold: float,
        overbought: float,
        order_type: OrderType,
        limit_offset_ticks: int,
    ) -> None:
        self.strategy = strategy
        self.oversold = oversold
        self.overbought = overbought
        self.order_type = order_type
        self.limit_offset_ticks = limit_offset_ticks
        self.rsi = ResumedRSI(period)
        self.known = KnownRSI()
        self._oversold_text = f"{oversold:g}"  # the reasons' constant parts, formatted once
        self._overbought_text = f"{overbought:g}"

    def on_bar(self, data: MinuteInput) -> OrderIntent | None:
        # the window starts at yesterday's first bar: the backtest's wake-up pass computed RSI over it, or
        # it is resumed from the stock's call before (live: the window grows by the bars since)
        known = self.known.last_two(data.bars)
        before, now = known if known is not None else self.rsi.last_two(data.code, data.bars.close)
        position = data.position
        if position is None:
            if data.daily_signal is Signal.BUY and before < self.oversold <= now:
                reason = f"RSI {_tenths(before)}->{_tenths(now)} crossed {self._oversold_text}"
                return self._intent(data, Side.BUY, None, reason, now)
            return None
        if now >= self.overbought:
            reason = f"RSI {_tenths(now)} >= {self._overbought_text}"
            return self._intent(data, Side.SELL, position.quantity, reason, now)
        if data.daily_signal is Signal.SELL:
            return self._intent(data, Side.SELL, position.quantity, "daily signal SELL", now)
        return None

    def _intent(
        self, data: MinuteInput, side: Side, quantity: int | None, reason: str, rsi: float
    ) -> OrderIntent:
        return styled_intent(
            data,
            side,
            quantity,
            self.order_type,
            self.limit_offset_ticks,
            self.strategy,
            reason,
            {"rsi": rsi},
        )


def _tenths(value: float) -> str:
    """``f"{value:.1f}"``, the same text. Why: compiled, an f-string with a format spec is a call of
    ``"{:{}}".format`` on all its parts, which parses its template each time; one of strings alone is a join
    (``on_bar``'s reasons cost about 13 M instructions of the 20-stock, 60-day backtest that way, 9 M so)."""
    return format(value, ".1f")


class KnownRSI:
    """RSI already computed over a day's windows by ``RSIMinute.wake_bars_many``, found again by window.

    A window is known by the arrays it is cut from and its first row (``BarArrays.bounds``): a later window
    of the same source from the same row holds the same closes up to its end, so RSI at its last bars is the
    value computed then, bit for bit (one recurrence, ``rsi_advance``). The bar data do not change once
    loaded. An entry holds its source's closes weakly: if the source is gone, or other arrays have its
    identity now, the closes are not the same object and nothing is found; and a run's result kept after
    the run holds none of its bars through the strategy. Only the last day's windows are kept."""

    def __init__(self) -> None:
        # (id of the source, first row) -> (the source's closes, weakly; the window's row of its first value;
        # where its values begin in ``_values``)
        self._windows: dict[tuple[int, int], tuple[weakref.ref[Int64Array], int, int]] = {}
        self._values: Sequence[float] = ()  # the windows' values end to end, ``_width`` each
        self._width = 0

    def remember(self, windows: list[BarArrays], today_starts: list[int], values: FloatArray) -> None:
        """Window i's RSI at its row ``today_starts[i] - 1`` and each row after, as ``values[i]``."""
        if values.shape[0] != len(windows):
            raise ValueError(f"KnownRSI: {values.shape[0]} rows of values for {len(windows)} windows")
        self._width = width = values.shape[1]
        self._values = _floats(values)
        self._windows = {}
        for row, (window, today_start) in enumerate(zip(windows, today_starts, strict=True)):
            source, start, _ = window.bounds()
            self._windows[(id(source), start)] = (weakref.ref(source.close), today_start - 1, row * width)

    def last_two(self, bars: BarArrays) -> tuple[float, float] | None:
        """RSI at the last two rows of ``bars`` when a remembered window holds both, else None."""
        source, start, stop = bars.bounds()
        entry = self._windows.get((id(source), start))
        if entry is None or entry[0]() is not source.close:
            return None
        at = stop - start - 1 - entry[1]  # the last row's place in the window's values
        if at < 1 or at >= self._width:
            return None
        values, at = self._values, entry[2] + at
        return values[at - 1], values[at]


def _floats(values: FloatArray) -> Sequence[float]:
    """A float64 array's values in one flat memoryview, whose items are Python floats: a third of the cost
    of reading a NumPy array's items (typeshed types a memoryview's items as ints)."""
    return cast("Sequence[float]", np.ascontiguousarray(values).reshape(-1).data)


class ResumedRSI:
    """``rsi_last_two`` over each stock's window, resumed from the stock's call before
    (``rsi_last_two_resumed``): a strategy woken again on a window with the same start pays for the bars since
    its last call, not for the whole window, live on every bar as in a backtest."""

    def __init__(self, period: int) -> None:
        self.period = period
        self._points: dict[Hashable, _Checkpoint] = {}

    def last_two(self, key: Hashable, close: Int64Array) -> tuple[float, float]:
        """The last two RSI values of ``close`` (NaN where there are none), resumed from ``key``'s call."""
        point = self._points.get(key)
        n = len(close)
        if point is None or point.capacity < n:  # a new buffer: the call starts from the first close
            point = _Checkpoint(self.period, max(2 * n, 1024))
            self._points[key] = point
        return rsi_last_two_resumed(close, point.memory)


class _Checkpoint:
    """Where a stock's RSI stopped, in one array (``rsi_last_two_resumed``): its running state, the period,
    how many closes it has seen and those closes (room for ``capacity``)."""

    def __init__(self, period: int, capacity: int) -> None:
        self.memory: Int64Array = np.zeros(CHECKPOINT_SEEN + capacity, dtype=np.int64)
        self.memory[CHECKPOINT_PERIOD] = period
        self.capacity = capacity
