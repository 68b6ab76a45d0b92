"""Bars laid on the sessions' grids: a missed minute is a flat zero-volume bar at the last price, a session
that opened without a trade starts at the previous close, and each code's day comes with its own bars of the
session before, whatever that session's universe and length were."""

import gc
from datetime import date
from pathlib import Path

import numpy as np

from maemae.backtest.grid_bars import SessionGrids, day_bars, on_grid
from maemae.backtest.service import load_market, run_backtest
from maemae.data.bars import BAR_COLUMNS, BarArrays, Int64Array, Timeframe
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from tests.backtest.conftest import make_config

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


def _owner(array: np.ndarray) -> object:
    """The object whose memory ``array`` is a view of (itself when it owns its memory)."""
    owner: object = array
    while isinstance(owner, np.ndarray) and owner.base is not None:
        owner = owner.base
    return owner


def _arrays_reachable(root: object) -> list[np.ndarray]:
    seen, found, stack = {id(root)}, [], [root]
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            found.append(item)
            continue
        if isinstance(item, type) or type(item).__name__ == "module":
            continue
        for referent in gc.get_referents(item):
            if id(referent) not in seen:
                seen.add(id(referent))
                stack.append(referent)
    return found


def test_backtest_result_when_kept_after_the_run_keeps_no_view_of_the_loaded_bars(market_root: Path) -> None:
    """A day's bars are views of every bar the run loaded: a result kept after the run (a comparison keeps
    one per policy) must not hold one, or it keeps the whole run's bars in memory."""
    config = make_config(market_root)
    loaded = load_market(config, date(2025, 11, 17), date(2025, 12, 5), backtest=True)
    result = run_backtest(config, loaded=loaded)
    assert result.recorder.fills, "the scenario must trade"
    feed = loaded[0].minute
    loaded_bars = {
        id(_owner(getattr(series.bars, name)))
        for series in feed.series.values()
        for name in ("open", "high", "low", "close", "volume", "value")
    }
    assert len(loaded_bars) > 10
    held = [a for a in _arrays_reachable(result) if id(_owner(a)) in loaded_bars]
    assert held == []


def test_market_when_loaded_for_a_backtest_reads_minutes_from_its_first_day_only(market_root: Path) -> None:
    """A backtest's first day starts without a yesterday, so the session before it is not read (in a run
    starting in January that would be a whole second year file, joined by copying every bar); the live
    loop's market keeps it: yesterday's bars seed the minute strategy."""
    config = make_config(market_root)
    backtest, days = load_market(config, date(2025, 11, 17), date(2025, 12, 5), backtest=True)
    live, _ = load_market(config, date(2025, 11, 17), date(2025, 12, 5))
    assert backtest.minute.grids.days[0] == days[0]
    assert live.minute.grids.days[0] == backtest.calendar.previous_session(days[0])


def test_backtest_first_day_when_prepared_has_the_session_before_as_the_live_loop_loads_it(
    market_root: Path,
) -> None:
    """A backtest's first day, like a resumed replay's and the live loop's, starts with each stock's bars of
    the session before: the minute strategy's RSI runs over both days from the first day on."""
    config = make_config(market_root)
    market, days = load_market(config, date(2025, 11, 17), date(2025, 12, 5), backtest=True)
    codes = market.minute.codes[:5]
    first = market.day_bars(days[0], codes)
    previous = market.calendar.previous_session(days[0])
    store = BarStore(market_root)
    for code in codes:
        bars, start = first.joined[code]
        stored = store.read_arrays(code, Timeframe.MINUTE, previous, previous)
        assert start == len(stored) > 0
        assert bars.close[:start].tolist() == stored.close.tolist()
        assert bars.ts[start:].tolist() == market.grid(days[0]).starts.tolist()
