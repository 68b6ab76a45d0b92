"""Minute bars held a window a year: the store keeps a code's minutes in a file a year, so a run across New
Year holds one window per year (the decoded files, not a join of the two), and the first day of a year takes
its session before from the window before, as one joined series."""

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from maemae.backtest.minute_feed import BARS_PER_SESSION
from maemae.backtest.service import load_market, run_backtest
from maemae.data.bars import BAR_COLUMNS, Timeframe
from maemae.data.sample import generate_sample_market
from maemae.data.store import BarStore
from tests.backtest.conftest import make_config

END = date(2026, 1, 16)


@pytest.fixture(scope="module")
def new_year_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("new-year-market")
    generate_sample_market(root, stocks=5, days=40, end=END, seed=5, limit_events=0)
    return root


def _first_session_of(year: int, days: list[date]) -> date:
    return next(day for day in days if day.year == year)


def test_in_memory_feed_when_the_run_crosses_new_year_holds_one_window_a_year(new_year_root: Path) -> None:
    market, days = load_market(make_config(new_year_root), date(2025, 12, 10), END, backtest=True)
    feed = market.minute
    assert not feed.streaming
    assert [window.grids.days[0].year for window in feed.windows] == [2025, 2026]
    assert all({d.year for d in window.grids.days} == {window.grids.days[0].year} for window in feed.windows)
    before = market.calendar.previous_session(days[0])  # the first day's yesterday is held too
    assert [d for window in feed.windows for d in window.grids.days] == [before, *days]
    for window in feed.windows:
        assert set(window.series) == set(feed.codes)


def test_first_day_of_a_year_when_prepared_joins_the_session_before_from_the_held_window(
    new_year_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    market, days = load_market(make_config(new_year_root), date(2025, 12, 10), END, backtest=True)
    feed = market.minute
    new_year = _first_session_of(2026, days)
    before = market.calendar.previous_session(new_year)

    def no_reads(*args: Any) -> None:
        raise AssertionError("the session before is held: nothing may be read")

    monkeypatch.setattr(feed, "_read", no_reads)
    prepared = market.day_bars(new_year, feed.codes)
    assert prepared.codes
    store = BarStore(new_year_root)
    for code in prepared.codes:
        joined, today_start = prepared.joined[code]
        assert today_start == BARS_PER_SESSION
        for part, day in (
            (joined.slice(0, today_start), before),
            (joined.slice(today_start, len(joined)), new_year),
        ):
            grid = feed.source.grid(day)
            assert np.array_equal(part.ts, grid)  # the day's every bar, in its year's window
            stored = store.read_arrays(code, Timeframe.MINUTE, day, day)  # what the year's file holds
            at = np.searchsorted(grid, stored.ts)
            for name in BAR_COLUMNS[1:]:
                assert np.array_equal(getattr(part, name)[at], getattr(stored, name)), (code, day, name)


def test_streamed_run_across_new_year_when_compared_trades_exactly_like_the_run_in_memory(
    new_year_root: Path,
) -> None:
    in_memory = make_config(new_year_root)
    streamed = make_config(new_year_root, backtest={"minute_memory_mib": 0, "stream_sessions": 4})
    start = date(2025, 12, 10)
    reference = run_backtest(in_memory, start=start, end=END)
    fast = run_backtest(streamed, start=start, end=END)
    fills = [(f.code, f.side, f.quantity, f.price, f.ts) for f in reference.recorder.fills]
    assert fills == [(f.code, f.side, f.quantity, f.price, f.ts) for f in fast.recorder.fills]
    assert fast.metrics == reference.metrics
    assert any(f.ts.year == 2026 for f in reference.recorder.fills), "the scenario must trade in the new year"
