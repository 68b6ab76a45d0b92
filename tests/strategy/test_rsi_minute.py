"""RSIMinute's two drivers: the backtest's compiled wake-up masks hold, at every bar of today, exactly the
conditions ``on_bar`` tests with the RSI it computes over its window (yesterday's first bar to that bar); and
``on_bar``, whose decision runs in the compiled ``maemae.strategy.timing``, makes the intent its rules say."""

from datetime import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.data.bars import BarArrays
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.strategy.api import MinuteInput, PositionView, Signal
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
    values = np.full(len(signals) + 1, np.nan)
    _wake_masks(
        close, today_start, np.array(signals, dtype=np.int8), period, oversold, overbought, masks, values
    )
    if today_start > 0:  # the value at yesterday's last bar, the first a condition reads
        assert _same(values[0], rsi_last_two(close[:today_start], period)[1])
    for j, signal in enumerate(signals):
        before, now = rsi_last_two(close[: today_start + j + 1], period)
        assert masks[0, j] == (signal == Signal.BUY and before < oversold <= now)
        assert masks[1, j] == (signal == Signal.SELL or now >= overbought)
        assert _same(values[j + 1], now)  # bit for bit: on_bar reads it in a backtest (KnownRSI)


def _same(value: float, want: float) -> bool:
    return (np.isnan(value) and np.isnan(want)) or value == want


def test_wake_bars_many_when_a_window_is_shorter_than_its_signals_raises() -> None:
    """The compiled pass finds each window's end from its start and the signals' width: a window that does
    not hold one bar per signal from its start is refused, not read past its end."""
    strategy = RSIMinute(RSIMinuteParams())
    close = np.arange(100, 130, dtype=np.int64)
    short = BarArrays(close, close, close, close, close, close, close)
    with pytest.raises(ValueError, match="today_start"):
        strategy.wake_bars_many([short, short], [10, 10], np.zeros((2, 25), dtype=np.int8))


def _expected(
    data: MinuteInput, params: RSIMinuteParams, before: float, now: float
) -> tuple[Side, int | None, str] | None:
    """RSIMinute's rules written out plainly, with the reasons' own f-strings."""
    oversold, overbought = float(params.oversold), float(params.overbought)
    if data.position is None:
        if data.daily_signal is Signal.BUY and before < oversold <= now:
            return Side.BUY, None, f"RSI {before:.1f}->{now:.1f} crossed {oversold:g}"
        return None
    if now >= overbought:
        return Side.SELL, data.position.quantity, f"RSI {now:.1f} >= {overbought:g}"
    if data.daily_signal is Signal.SELL:
        return Side.SELL, data.position.quantity, "daily signal SELL"
    return None


@settings(max_examples=200, deadline=None)
@given(
    days(),
    st.booleans(),
    st.sampled_from([OrderType.LIMIT, OrderType.MARKET]),
    st.integers(0, 3),
    st.booleans(),
)
def test_on_bar_when_woken_at_each_bar_of_a_day_makes_the_intent_its_rules_say(
    day: tuple[list[int], int, list[int], int, float, float],
    held: bool,
    order_type: OrderType,
    offset: int,
    masked: bool,
) -> None:
    """Woken at every bar of today in turn, the strategy returns the intent of the rules above: side,
    quantity, the reason's exact text, the RSI in ``signal`` and the order style's price, the same whether
    the decision runs compiled or as Python, and whether its RSI is resumed from the call before (live) or
    read from the day's wake-up masks pass (``masked``: a backtest)."""
    closes, today_start, signals, period, oversold, overbought = day
    params = RSIMinuteParams(
        period=max(period, 2),
        oversold=round(oversold),
        overbought=round(overbought),
        order_type=order_type,
        limit_offset_ticks=offset,
    )
    strategy = RSIMinute(params)
    close = np.array([price * 100 for price in closes], dtype=np.int64)  # 9,500 to 10,500: 5-won ticks
    bars = BarArrays(close, close, close, close, close, close, close)
    at = datetime(2025, 3, 4, 10, 0, tzinfo=KST)
    position = PositionView(7, 70_000, at, "rsi_minute") if held else None
    code = StockCode("005930")
    if masked:
        strategy.wake_bars_many([bars], [today_start], np.array([signals], dtype=np.int8).reshape(1, -1))
    for j, signal in enumerate(signals):
        window = bars.slice(0, today_start + j + 1)
        data = MinuteInput(code, at, window, today_start, Signal(signal), position)
        before, now = rsi_last_two(window.close, params.period)
        assert (strategy._timing.known.last_two(window) is not None) == masked
        expected = _expected(data, params, before, now)
        intent = strategy.on_bar(data)
        if expected is None:
            assert intent is None
            continue
        side, quantity, reason = expected
        price = data.price_ticks_away(offset * side.sign) if order_type is OrderType.LIMIT else None
        assert intent is not None
        assert list(intent.signal) == ["rsi"]
        assert np.array_equal(intent.signal["rsi"], now, equal_nan=True)  # NaN while RSI warms up
        assert intent == OrderIntent(
            code,
            side,
            quantity,
            order_type,
            price,
            strategy="rsi_minute",
            reason=reason,
            signal=intent.signal,
        )


def test_known_rsi_when_a_window_is_not_one_remembered_finds_nothing() -> None:
    """The day's values are found only for a window cut from the same arrays from the same row, at a bar of
    today: not for equal closes in other arrays, another first row, yesterday's bars, or the day before's
    windows once the next day's are remembered."""
    strategy = RSIMinute(RSIMinuteParams(period=3))
    close = np.arange(100, 140, dtype=np.int64) % 7 + 100
    source = BarArrays(close, close, close, close, close, close, close)
    window = source.slice(5, 35)  # 10 bars of yesterday, 20 of today
    strategy.wake_bars_many([window], [10], np.zeros((1, 20), dtype=np.int8))
    known = strategy._timing.known
    for end in range(11, 31):
        got = known.last_two(window.slice(0, end))
        assert got is not None
        assert all(map(_same, got, rsi_last_two(window.slice(0, end).close, 3)))
    twin = BarArrays(*(column.copy() for column in (close,) * 7))
    assert known.last_two(twin.slice(5, 25)) is None  # the same closes, other arrays
    assert known.last_two(source.slice(6, 25)) is None  # another first row
    assert known.last_two(window.slice(0, 10)) is None  # yesterday's last bar: its bar before is not kept
    strategy.wake_bars_many([source.slice(15, 40)], [10], np.zeros((1, 15), dtype=np.int8))
    assert known.last_two(window.slice(0, 20)) is None  # the next day: only its windows are kept
