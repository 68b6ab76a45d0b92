"""RSIMinute's two drivers: the backtest's compiled wake-up masks hold, at every bar of today, exactly the
conditions ``on_bar`` tests with the RSI it computes over its window (yesterday's first bar to that bar)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.data.bars import BarArrays
from maemae.strategy.api import Signal
from maemae.strategy.indicators import rsi_last_two
from maemae.strategy.rsi_minute import RSIMinute, RSIMinuteParams, _wake_masks


@st.composite
def days(draw: st.DrawFn) -> tuple[list[int], int, list[int], int, float, float]:
    closes = draw(st.lists(st.integers(95, 105), min_size=0, max_size=80))  # narrow: RSI crosses often
    today_start = draw(st.integers(0, len(closes)))
    signals = draw(
        st.lists(
            st.sampled_from([-1, 0, 1]),
            min_size=len(closes) - today_start,
            max_size=len(closes) - today_start,
        )
    )
    period = draw(st.integers(1, 20))
    oversold = float(draw(st.integers(5, 50)))
    return closes, today_start, signals, period, oversold, oversold + float(draw(st.integers(1, 45)))


@settings(max_examples=300, deadline=None)  # the first call compiles the numba kernel
@given(days())
def test_wake_masks_when_any_day_equal_on_bars_conditions_at_each_bar(
    day: tuple[list[int], int, list[int], int, float, float],
) -> None:
    closes, today_start, signals, period, oversold, overbought = day
    close = np.array(closes, dtype=np.int64)
    masks = np.zeros((2, len(signals)), dtype=np.bool_)
    _wake_masks(close, today_start, np.array(signals, dtype=np.int8), period, oversold, overbought, masks)
    for j, signal in enumerate(signals):
        before, now = rsi_last_two(close[: today_start + j + 1], period)
        assert masks[0, j] == (signal == Signal.BUY and before < oversold <= now)
        assert masks[1, j] == (signal == Signal.SELL or now >= overbought)


def test_wake_bars_many_when_a_window_is_shorter_than_its_signals_raises() -> None:
    """The compiled pass finds each window's end from its start and the signals' width: a window that does
    not hold one bar per signal from its start is refused, not read past its end."""
    strategy = RSIMinute(RSIMinuteParams())
    close = np.arange(100, 130, dtype=np.int64)
    short = BarArrays(close, close, close, close, close, close, close)
    with pytest.raises(ValueError, match="today_start"):
        strategy.wake_bars_many([short, short], [10, 10], np.zeros((2, 25), dtype=np.int8))
