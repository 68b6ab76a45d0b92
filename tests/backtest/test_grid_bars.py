"""Bars laid on the sessions' grids: a missed minute is a flat zero-volume bar at the last price, a session
that opened without a trade starts at the previous close, and each code's day comes with its own bars of the
session before, whatever that session's universe and length were."""

from datetime import date

import numpy as np

from maemae.backtest.grid_bars import SessionGrids, day_bars, on_grid
from maemae.data.bars import BAR_COLUMNS, BarArrays, Int64Array
from maemae.domain.codes import StockCode

A, B, C = StockCode("000010"), StockCode("000020"), StockCode("000030")
MON, TUE, WED = date(2025, 3, 3), date(2025, 3, 4), date(2025, 3, 5)
# Monday has 3 bars, Tuesday a shorter session of 2, Wednesday 3: start times 100.., 200.., 300..
LENGTHS = {MON: 3, TUE: 2, WED: 3}


def grid_of(day: date) -> Int64Array:
    first = 100 * (day.day - 2)
    return np.arange(first, first + LENGTHS[day], dtype=np.int64)


GRIDS = SessionGrids.of([MON, TUE, WED], grid_of)


def bars(ts: list[int], closes: list[int]) -> BarArrays:
    close = np.array(closes, dtype=np.int64)
    return BarArrays(
        np.array(ts, dtype=np.int64),
        close - 1,
        close + 2,
        close - 3,
        close,
        np.full(len(ts), 10, dtype=np.int64),
        close * 7,
    )


def complete(base: int) -> BarArrays:
    """A code that traded in every bar of the three sessions."""
    return bars(GRIDS.starts.tolist(), list(range(base, base + len(GRIDS.starts))))


def columns(laid: BarArrays) -> dict[str, list[int]]:
    return {name: getattr(laid, name).tolist() for name in BAR_COLUMNS}


def no_previous_close(day: date) -> int:
    raise AssertionError(f"previous close asked for {day}")


def test_on_grid_when_every_minute_traded_keeps_the_stored_arrays() -> None:
    stored = complete(10)
    series = on_grid(stored, GRIDS, no_previous_close)
    assert series.bars is stored
    assert series.traded.tolist() == [True, True, True]
    assert columns(series.stored_bars(3, 5)) == columns(stored.slice(3, 5))


def test_on_grid_when_minutes_are_missed_fills_them_flat_at_the_last_price() -> None:
    # Monday: bars at 100 and 102 (101 missed); Tuesday: only 201 (opened without a trade); Wednesday: none;
    # a bar at 150 is on no grid and is dropped
    stored = bars([100, 102, 150, 201], [50, 52, 99, 61])
    asked: list[date] = []

    def previous_close(day: date) -> int:
        asked.append(day)
        return 58

    series = on_grid(stored, GRIDS, previous_close)

    assert asked == [TUE]
    assert series.traded.tolist() == [True, True, False]
    laid = series.bars
    assert laid.ts.tolist() == GRIDS.starts.tolist()
    assert laid.close[:5].tolist() == [50, 50, 52, 58, 61]
    assert laid.open[:5].tolist() == [49, 50, 51, 58, 60]  # a filled bar's open, high and low are its price
    assert laid.high[:5].tolist() == [52, 50, 54, 58, 63]
    assert laid.volume[:5].tolist() == [10, 0, 10, 0, 10]
    assert laid.value[:5].tolist() == [350, 0, 364, 0, 427]
    assert columns(series.stored_bars(0, 3)) == columns(bars([100, 102], [50, 52]))
    assert columns(series.stored_bars(3, 5)) == columns(bars([201], [61]))


def nothing_before(codes: list[StockCode]) -> dict[StockCode, BarArrays]:
    raise AssertionError(f"the session before was asked for {codes}")


def test_day_bars_when_the_session_before_is_on_the_grids_gives_each_code_a_view_of_its_two_days() -> None:
    series = {A: on_grid(complete(10), GRIDS, no_previous_close)}
    tuesday = day_bars(TUE, series, GRIDS, [A], nothing_before)

    joined, start = tuesday.joined[A]
    assert start == 3
    assert joined.close.tolist() == [10, 11, 12, 13, 14]
    assert np.shares_memory(joined.close, series[A].bars.close)
    assert tuesday.closes.tolist() == [[13, 14]]
    assert tuesday.volumes.tolist() == [[10, 10]]


def test_day_bars_when_the_universe_and_session_length_change_joins_each_code_its_own_bars() -> None:
    # a code gets the session before whether or not it was in that day's universe, as the live loop
    # loads it before the open
    series = {code: on_grid(complete(base), GRIDS, no_previous_close) for code, base in [(B, 20), (C, 30)]}
    tuesday = day_bars(TUE, series, GRIDS, [B, C], nothing_before)

    assert tuesday.codes == [B, C]
    assert tuesday.joined[B][0].close.tolist() == [20, 21, 22, 23, 24]
    assert tuesday.joined[C][0].close.tolist() == [30, 31, 32, 33, 34]
    assert tuesday.joined[B][1] == tuesday.joined[C][1] == 3
    assert tuesday.closes.tolist() == [[23, 24], [33, 34]]


def test_day_bars_when_a_code_did_not_trade_the_session_before_gives_today_alone() -> None:
    series = {A: on_grid(bars([200, 201, 300, 301, 302], [5, 6, 7, 8, 9]), GRIDS, no_previous_close)}
    joined, start = day_bars(TUE, series, GRIDS, [A], nothing_before).joined[A]  # no Monday bars
    assert (joined.close.tolist(), start) == ([5, 6], 0)


def test_day_bars_when_the_day_opens_the_grids_joins_the_session_before_read_aside() -> None:
    # the run's first day (or a streamed window's): Friday's bars come from outside the grids, by copying
    later = SessionGrids.of([TUE, WED], grid_of)
    series = {A: on_grid(bars([200, 201, 300, 301, 302], [5, 6, 7, 8, 9]), later, no_previous_close)}
    asked: list[list[StockCode]] = []

    def friday(codes: list[StockCode]) -> dict[StockCode, BarArrays]:
        asked.append(codes)
        return {A: bars([1, 2], [3, 4])}

    joined, start = day_bars(TUE, series, later, [A, B], friday).joined[A]
    assert asked == [[A]]  # only the codes that traded today
    assert (joined.close.tolist(), start) == ([3, 4, 5, 6], 2)
    assert joined.ts.tolist() == [1, 2, 200, 201]
    assert day_bars(WED, series, later, [A], nothing_before).joined[A][1] == 2  # then views again


def test_day_bars_when_a_code_did_not_trade_leaves_it_out() -> None:
    series = {
        A: on_grid(bars([100, 101, 102], [5, 6, 7]), GRIDS, no_previous_close),
        B: on_grid(complete(20), GRIDS, no_previous_close),
    }
    tuesday = day_bars(
        TUE, series, GRIDS, [A, B, C], nothing_before
    )  # A did not trade Tuesday; C has no bars
    assert tuesday.codes == [B]
    empty = day_bars(WED, {}, GRIDS, [], nothing_before)
    assert empty.closes.shape == (0, 3)
    assert empty.joined == {}
