"""The backtest driver takes the run's settled objects out of the cyclic collector's scans while it runs
(the orders, fills and events it keeps for the reports), once the collector has made a full collection, and
hands them back when the run ends."""

import gc
import weakref
from datetime import date
from pathlib import Path

from maemae.backtest.runner import YOUNG_COLLECTION_EVERY
from maemae.backtest.service import run_backtest
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
    """The objects of a run nobody refers to any more (its engine is a reference cycle) are not kept alive
    through the next run by being settled with them. The test follows the run's strategies (the compiled
    engine's classes take no weak references): the kernel holds the minute one, the engine the daily one."""
    config = make_config(market_root)
    engine = run_backtest(config, start=START, end=END).engine
    olds = [weakref.ref(engine.kernel.minute), weakref.ref(engine.daily)]
    del engine
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
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        run_backtest(make_config(market_root), start=START, end=END, progress=lambda *_: gc.collect())
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()


def test_backtest_runs_young_collections_less_often_and_restores_the_process_setting(
    market_root: Path,
) -> None:
    seen: list[tuple[int, int, int]] = []
    before = gc.get_threshold()
    gc.set_threshold(700, 11, 12)
    try:
        run_backtest(
            make_config(market_root),
            start=START,
            end=END,
            progress=lambda *_: seen.append(gc.get_threshold()),
        )
        assert seen
        assert all(threshold == (YOUNG_COLLECTION_EVERY, 11, 12) for threshold in seen)
        assert gc.get_threshold() == (700, 11, 12)

        gc.set_threshold(YOUNG_COLLECTION_EVERY * 2, 10, 10)  # a process that chose a higher one keeps it
        seen.clear()
        run_backtest(
            make_config(market_root),
            start=START,
            end=END,
            progress=lambda *_: seen.append(gc.get_threshold()),
        )
        assert seen
        assert all(threshold[0] == YOUNG_COLLECTION_EVERY * 2 for threshold in seen)
    finally:
        gc.set_threshold(*before)
