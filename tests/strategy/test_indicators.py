from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.data.bars import Timeframe
from maemae.data.sample import generate_sample_market
from maemae.data.store import BarStore
from maemae.strategy.indicators import (
    IncrementalRSI,
    rsi_last_two,
    rsi_series,
    trailing_sums,
)
from maemae.strategy.timing import ResumedRSI


def test_rsi_when_hand_computed_example_matches() -> None:
    closes = np.array([100, 102, 101, 103, 103, 100], dtype=np.int64)
    values = rsi_series(closes, 3)
    assert np.isnan(values[:3]).all()
    # first average over 3 changes: gains (2+0+2)/3, losses (0+1+0)/3 -> RSI 80
    assert values[3] == pytest.approx(80.0)
    # then Wilder: gain (4/3*2+0)/3 = 8/9, loss (1/3*2+0)/3 = 2/9 -> 80; next loss 3
    assert values[4] == pytest.approx(80.0)
    assert values[5] == pytest.approx(100 - 100 / (1 + (16 / 27) / ((4 / 27) + 1)))


def test_rsi_when_no_losses_is_100_and_flat_is_50() -> None:
    assert rsi_series(np.array([1, 2, 3, 4], dtype=np.int64), 3)[3] == 100.0
    assert rsi_series(np.array([5, 5, 5, 5], dtype=np.int64), 3)[3] == 50.0


@settings(max_examples=60, deadline=None)  # the first call compiles the numba kernel
@given(st.lists(st.integers(min_value=1, max_value=2_000_000), min_size=1, max_size=300), st.integers(1, 30))
def test_rsi_when_any_series_vectorised_equals_incremental_exactly(closes: list[int], period: int) -> None:
    array = np.array(closes, dtype=np.int64)
    vectorised = rsi_series(array, period)
    live = IncrementalRSI(period)
    incremental = [live.update(close) for close in closes]
    for v, i in zip(vectorised, incremental, strict=True):
        assert (np.isnan(v) and i is None) or v == i


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=2_000_000), min_size=0, max_size=120), st.integers(1, 30))
def test_rsi_last_two_when_any_series_equals_the_series_end_exactly(closes: list[int], period: int) -> None:
    """What ``RSIMinute.on_bar`` reads: the last two values, NaN where there are none or RSI warms up."""
    series = rsi_series(np.array(closes, dtype=np.int64), period)
    expected = [float("nan")] * (2 - len(series)) + series[-2:].tolist()
    got = rsi_last_two(np.array(closes, dtype=np.int64), period)
    for value, want in zip(got, expected, strict=True):
        assert (np.isnan(value) and np.isnan(want)) or value == want


def test_two_day_rsi_when_run_on_sample_market_equals_live_warm_start(tmp_path: Path) -> None:
    generate_sample_market(tmp_path, stocks=3, days=4, seed=5)
    store = BarStore(tmp_path)
    for code in store.codes(Timeframe.MINUTE):
        bars = store.read_arrays(code, Timeframe.MINUTE)
        days = (bars.ts + 9 * 3600 * 10**9) // (86_400 * 10**9)
        starts = np.flatnonzero(np.diff(days, prepend=days[0] - 1)).astype(np.int64)
        for d, start in enumerate(starts):
            stop = starts[d + 1] if d + 1 < len(starts) else len(bars)
            window_start = starts[d - 1] if d else start
            vectorised = rsi_series(bars.close[window_start:stop], 14)  # the backtest's driver
            live = IncrementalRSI.from_history(
                bars.close[window_start:start], 14
            )  # the live loop's warm start
            for i in range(start, stop):
                value = live.update(int(bars.close[i]))
                expected = vectorised[i - window_start]
                assert (value is None and np.isnan(expected)) or value == expected


def test_trailing_sums_when_window_complete_are_exact() -> None:
    values = np.array([1, 2, 3, 4], dtype=np.int64)
    assert trailing_sums(values, 2).tolist() == [-1, 3, 5, 7]
    assert trailing_sums(values, 5).tolist() == [-1, -1, -1, -1]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(min_value=95, max_value=105), min_size=0, max_size=90),
    st.lists(st.tuples(st.integers(0, 90), st.booleans()), min_size=1, max_size=12),
    st.integers(1, 20),
)
def test_resumed_rsi_when_windows_grow_shrink_or_change_equals_rsi_last_two_exactly(
    closes: list[int], calls: list[tuple[int, bool]], period: int
) -> None:
    """``RSIMinute.on_bar``'s driver: one stock's calls on windows that grow (a backtest's woken bars, the
    live loop's every bar), shrink, repeat, or whose earlier closes changed since the call before (the live
    loop's chart replacing bars it built, the next day's window), each the same as ``rsi_last_two``."""
    resumed = ResumedRSI(period)
    base = np.array(closes, dtype=np.int64)
    for length, changed in calls:
        window = base[: min(length, len(base))].copy()
        if changed and len(window) > 1:
            window[len(window) // 2] += 1  # in place, in the copy the call is given
        got = resumed.last_two("005930", window)
        for value, want in zip(got, rsi_last_two(window, period), strict=True):
            assert (np.isnan(value) and np.isnan(want)) or value == want


def test_resumed_rsi_when_its_input_array_changes_in_place_is_not_fooled() -> None:
    """The closes seen are copied: a caller that changes its array in place (the live loop filling in its
    chart) and passes it again gets RSI over the changed closes."""
    close = np.array([100, 102, 101, 103, 103, 100, 104, 99], dtype=np.int64)
    resumed = ResumedRSI(3)
    resumed.last_two("005930", close[:6])
    close[2] = 90
    assert resumed.last_two("005930", close) == rsi_last_two(close, 3)
