"""The backtest driver takes the run's settled objects out of the cyclic collector's scans while it runs
(the orders, fills and events it keeps for the reports), and hands them back when the run ends."""

import gc
import weakref
from datetime import date
from pathlib import Path

from maemae.backtest.service import run_backtest
from tests.backtest.conftest import make_config

START, END = date(2025, 11, 17), date(2025, 11, 21)


def test_backtest_when_running_freezes_settled_objects_and_unfreezes_them_at_the_end(
    market_root: Path,
) -> None:
    seen: list[int] = []
    assert gc.get_freeze_count() == 0

    run_backtest(
        make_config(market_root), start=START, end=END, progress=lambda *_: seen.append(gc.get_freeze_count())
    )

    assert len(seen) == 5
    assert all(count > 0 for count in seen)
    assert seen[-1] > seen[0], "each day's start settles what the days before made"
    assert gc.get_freeze_count() == 0


def test_backtest_when_the_process_froze_objects_itself_leaves_them_frozen(market_root: Path) -> None:
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        run_backtest(make_config(market_root), start=START, end=END)
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()


def test_backtest_when_the_run_before_left_garbage_frees_it_before_settling(market_root: Path) -> None:
    """The kernel of a run nobody refers to any more (its engine is a reference cycle) is not kept alive
    through the next run by being settled with it."""
    config = make_config(market_root)
    before = weakref.ref(run_backtest(config, start=START, end=END).engine.kernel)
    alive_during_next: list[bool] = []

    run_backtest(
        config, start=START, end=END, progress=lambda *_: alive_during_next.append(before() is not None)
    )

    assert alive_during_next == [False] * 5
