"""The backtest driver takes the run's settled objects out of the cyclic collector's scans while it runs
(the orders, fills and events it keeps for the reports), once the collector has made a full collection, and
hands them back when the run ends. A finished run's engine and market hold no reference cycle, so they are
freed as soon as nobody refers to them, without the collector."""

import gc
import weakref
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from maemae.backtest.runner import YOUNG_COLLECTION_EVERY
from maemae.backtest.service import load_market, run_backtest
from tests.backtest.conftest import make_config

START, END = date(2025, 11, 17), date(2025, 11, 21)


def test_backtest_when_a_full_collection_ran_settles_each_day_and_unfreezes_at_the_end(
    market_root: Path,
) -> None:
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(gc.get_freeze_count())
        if done == 2:
            gc.collect()  # the collector's full collection, as a long run reaches on its own

    assert gc.get_freeze_count() == 0
    gc.disable()  # only the collection above counts: no automatic one at a moment the test cannot know
    try:
        run_backtest(make_config(market_root), start=START, end=END, progress=progress)
    finally:
        gc.enable()

    assert seen[:2] == [0, 0], "nothing is settled before a full collection"
    assert all(count > 0 for count in seen[2:])
    assert seen[-1] > seen[2], "each day's start settles what the days before made"
    assert gc.get_freeze_count() == 0


def test_backtest_when_the_run_before_left_garbage_never_settles_it(market_root: Path) -> None:
    """Cyclic garbage from before the run (here a list holding itself and a finished run's engine, as a user's
    code might leave one) is not kept alive through the next run by being settled with it. The test follows
    the old run's strategies (the compiled engine's classes take no weak references): the kernel holds the
    minute one, the engine the daily one."""
    config = make_config(market_root)
    gc.disable()  # the cycle below stays garbage until the run's own collection
    try:
        engine = run_backtest(config, start=START, end=END).engine
        olds = [weakref.ref(engine.kernel.minute), weakref.ref(engine.daily)]
        cycle: list[object] = [engine]
        cycle.append(cycle)
        del engine, cycle
        assert all(old() is not None for old in olds), "only the collector can free a cycle"
    finally:
        gc.enable()
    settled_with_old_alive: list[bool] = []

    def progress(done: int, total: int) -> None:
        settled_with_old_alive.append(gc.get_freeze_count() > 0 and any(old() is not None for old in olds))
        if done == 1:
            gc.collect()

    gc.disable()
    try:
        run_backtest(config, start=START, end=END, progress=progress)
    finally:
        gc.enable()

    assert all(old() is None for old in olds)
    assert settled_with_old_alive == [False] * 5


def test_backtest_when_the_process_froze_objects_itself_leaves_them_frozen(market_root: Path) -> None:
    """Objects the process froze stay out of the collector's lists (``gc.get_objects`` leaves frozen ones
    out). Not a comparison of freeze counts: other frozen objects may be freed during the run (a cache an
    earlier test filled, replaced), which lowers the count with nothing unfrozen."""
    ours = [[index] for index in range(100)]
    gc.freeze()
    try:
        run_backtest(make_config(market_root), start=START, end=END, progress=lambda *_: gc.collect())
        tracked = {id(item) for item in gc.get_objects()}
        assert not any(id(item) in tracked for item in ours)
    finally:
        gc.unfreeze()
    tracked = {id(item) for item in gc.get_objects()}
    assert all(id(item) in tracked for item in ours)  # the check can see an unfrozen one


def _thresholds_during_run(market_root: Path, fail: bool = False) -> list[tuple[int, int, int]]:
    seen: list[tuple[int, int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append(gc.get_threshold())
        if fail:
            raise RuntimeError("the run stops here")

    try:
        run_backtest(make_config(market_root), start=START, end=END, progress=progress)
    except RuntimeError:
        assert fail
    return seen


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_backtest_runs_young_collections_less_often_and_restores_the_process_setting(
    market_root: Path,
) -> None:
    gc.set_threshold(700, 11, 12)
    seen = _thresholds_during_run(market_root)
    assert len(seen) == 5
    assert set(seen) == {(YOUNG_COLLECTION_EVERY, 11, 12)}
    assert gc.get_threshold() == (700, 11, 12)

    assert _thresholds_during_run(market_root, fail=True) == [(YOUNG_COLLECTION_EVERY, 11, 12)]
    assert gc.get_threshold() == (700, 11, 12), "a run that raised restores it too"


@pytest.mark.usefixtures("thresholds")
@pytest.mark.parametrize("chosen", [YOUNG_COLLECTION_EVERY * 2, 0], ids=["higher", "automatic-off"])
def test_backtest_when_the_process_chose_a_higher_threshold_or_none_keeps_it(
    market_root: Path, chosen: int
) -> None:
    gc.set_threshold(chosen, 10, 10)
    assert set(_thresholds_during_run(market_root)) == {(chosen, 10, 10)}
    assert gc.get_threshold() == (chosen, 10, 10)


@pytest.mark.usefixtures("thresholds")
def test_backtest_when_the_caller_changes_the_threshold_during_the_run_keeps_that_change(
    market_root: Path,
) -> None:
    gc.set_threshold(700, 10, 10)
    run_backtest(
        make_config(market_root), start=START, end=END, progress=lambda *_: gc.set_threshold(900, 10, 10)
    )
    assert gc.get_threshold() == (900, 10, 10)


def test_backtest_result_and_market_when_dropped_are_freed_without_the_collector(market_root: Path) -> None:
    """Followed through weak references to the strategies (the kernel holds the minute one, the engine the
    daily one) and to a daily bar column only the market holds (the compiled classes take none)."""
    config = make_config(market_root)
    gc.collect()
    gc.disable()  # whatever is freed below is freed by reference counting
    try:
        market, days = load_market(config, START, END, backtest=True)
        result = run_backtest(config, loaded=(market, days))
        engine_parts = [weakref.ref(result.engine.kernel.minute), weakref.ref(result.engine.daily)]
        market_part = weakref.ref(next(iter(market.daily.values())).ts)
        del result
        assert [part() for part in engine_parts] == [None, None]
        del market
        assert market_part() is None
    finally:
        gc.enable()
