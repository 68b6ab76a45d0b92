"""A backtest day's data: what the live loop loads before the open (the session before, from the first day
on; no stock that never traded before the day), read from the loaded bars without a kept result pinning
them."""

import gc
import shutil
import weakref
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from maemae.backtest.runner import BacktestRunner
from maemae.backtest.service import load_market, run_backtest
from maemae.data.bars import BAR_COLUMNS, BarArrays, Timeframe, day_ns
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.engine.composition import build_backtest_engine
from tests.backtest.conftest import make_config


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
        for window in feed.windows
        for series in window.series.values()
        for name in ("open", "high", "low", "close", "volume", "value")
    }
    # at least one owner per code's series: a mapped copy's columns share its mapping, decoded ones are apart
    assert len(loaded_bars) >= sum(len(window.series) for window in feed.windows) > 5
    held = [a for a in _arrays_reachable(result) if id(_owner(a)) in loaded_bars]
    assert held == []


def test_market_when_loaded_for_a_backtest_holds_the_session_before_its_first_day_as_the_live_loop(
    market_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backtest's first day starts with yesterday's bars, as the live loop's: both markets hold the
    session before the first day, so preparing the first day reads nothing more."""
    config = make_config(market_root)
    backtest, days = load_market(config, date(2025, 11, 17), date(2025, 12, 5), backtest=True)
    live, _ = load_market(config, date(2025, 11, 17), date(2025, 12, 5))
    before = backtest.calendar.previous_session(days[0])
    assert backtest.minute.windows[0].grids.days[0] == before
    assert live.minute.windows[0].grids.days[0] == before

    def no_reads(*args: object) -> None:
        raise AssertionError("the session before the first day is held: nothing may be read")

    monkeypatch.setattr(backtest.minute, "_read", no_reads)
    first = backtest.day_bars(days[0], backtest.minute.codes)
    assert all(today_start > 0 for _, today_start in first.joined.values())


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


def test_backtest_when_a_stock_never_traded_before_the_day_leaves_it_out_as_the_live_loop(
    market_root: Path, tmp_path: Path
) -> None:
    """A stock with no daily bar before the day (its listing day) has no base price and nothing for the
    daily strategy to judge: the live loop leaves it out of the day, and so does the backtest."""
    root = tmp_path / "market"
    shutil.copytree(market_root, root)
    store = BarStore(root)
    listed, other = [c for c in store.codes(Timeframe.DAY) if c != "357870"][:2]
    day = date(2025, 12, 3)
    daily = store.read_arrays(listed, Timeframe.DAY)
    since = daily.ts >= day_ns(day)
    store.write_arrays(listed, Timeframe.DAY, BarArrays(*(getattr(daily, n)[since] for n in BAR_COLUMNS)))
    config = make_config(root, universe={"selector": "fixed", "codes": [listed, other]})
    market, days = load_market(config, day, day, backtest=True)
    engine = build_backtest_engine(config, market.calendar, market.instruments, day)
    seen: set[StockCode] = set()
    BacktestRunner(engine, market).run(days, on_step=lambda cursor: seen.update(engine.kernel.data))
    assert other in seen
    assert listed not in seen
    assert all(order.code != listed for order in engine.orders.orders.values())


def test_backtest_runner_when_its_run_returns_holds_no_array_of_the_last_day(market_root: Path) -> None:
    """A run's last day (its codes x bars prices, volumes, signals and wake-up masks) is let go when the run
    returns: a runner kept after it (its recorder is the result) held the whole day."""
    config = make_config(market_root)
    market, days = load_market(config, date(2025, 12, 3), date(2025, 12, 3), backtest=True)
    engine = build_backtest_engine(config, market.calendar, market.instruments, days[0])
    runner = BacktestRunner(engine, market)
    arrays: list[weakref.ref[np.ndarray]] = []

    def keep_a_weak_reference(cursor: object) -> None:
        if not arrays:
            day = runner._day
            assert day is not None
            arrays.extend(
                weakref.ref(array) for array in (day.closes, day.volumes, day.signals, day.flat_wake)
            )

    runner.run(days, on_step=keep_a_weak_reference)
    gc.collect()
    assert arrays
    assert [ref() for ref in arrays] == [None] * len(arrays)
    assert runner.price_of is None
