"""Bars laid on the sessions' grids: a missed minute is a flat zero-volume bar at the last price, a session
that opened without a trade starts at the previous close, and each code's day comes with its own bars of the
session before, whatever that session's universe and length were."""

from datetime import date

import numpy as np
import pytest

from maemae.backtest.daily_prints import DailyPrints
from maemae.backtest.grid_bars import SessionGrids, day_bars, on_grid
from maemae.data.bars import BAR_COLUMNS, BarArrays, Int64Array, day_ns
from maemae.domain.codes import StockCode
from maemae.krx.calendar import TradingCalendar

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


def test_on_grid_when_there_is_no_previous_close_opens_at_the_first_trade() -> None:
    # the day after a listing has no daily close before it: the minutes before the first trade stand at
    # that trade's open, not at 0
    series = on_grid(bars([101, 102], [50, 52]), GRIDS, lambda day: 0)
    assert series.bars.close[:3].tolist() == [49, 50, 52]
    assert series.bars.volume[:3].tolist() == [0, 10, 10]


def test_on_grid_when_nothing_falls_on_the_grid_holds_no_arrays() -> None:
    series = on_grid(bars([150, 250], [5, 6]), GRIDS, no_previous_close)
    assert series.traded.tolist() == [False, False, False]
    assert len(series) == 0


def test_on_grid_columns_when_written_to_refuse() -> None:
    """A day's bars are views of these arrays for the whole run (and every trial of a sweep): a strategy
    that writes into its bars must fail, not change the market for what follows."""
    for series in (
        on_grid(complete(10), GRIDS, no_previous_close),
        on_grid(bars([100], [5]), GRIDS, no_previous_close),
    ):
        for name in BAR_COLUMNS:
            with pytest.raises(ValueError, match="read-only"):
                getattr(series.bars.slice(0, 2), name)[0] = 1


def test_daily_prints_when_a_daily_bar_falls_on_no_session_is_left_off_the_grid() -> None:
    calendar = TradingCalendar()
    friday, saturday = date(2025, 12, 5), date(2025, 12, 6)
    daily = BarArrays(
        *(
            np.array(v, dtype=np.int64)
            for v in (
                [day_ns(friday), day_ns(saturday)],
                [10, 20],
                [12, 22],
                [9, 19],
                [11, 21],
                [100, 200],
                [1_000, 2_000],
            )
        )
    )
    prints = DailyPrints({A: daily}, calendar)
    read = prints.read(A, friday, saturday)
    assert read.ts[2:].tolist() == [day_ns(saturday)] * 2  # on no grid
    series = on_grid(read, SessionGrids.of([friday], prints.grid), no_previous_close)
    assert series.bars.close.tolist() == [10, 11]  # the opening print at the open, then the close
    assert series.bars.volume.tolist() == [0, 100]


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
