"""The progress bars of ``maemae backtest`` and ``maemae sweep`` on a terminal: ``loading`` until the total
is known, never ``0/None``, and a sweep's total from its start rather than from its first finished trial."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from maemae.backtest.sweep import SweepSpec, sweep
from maemae.backtest.sweep_backends import LocalBackend
from maemae.cli.backtest_cmd import _progress
from tests.backtest.conftest import make_config


def _frames(label: str, unit: str, totals: list[int | None]) -> str:
    """What a terminal receives while the bar goes through ``totals`` (None: not known yet)."""
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with _progress(label, unit, console) as bar:
        task = bar.add_task(unit, total=None)
        for total in totals:
            bar.update(task, completed=0 if total is None else total // 2, total=total)
            bar.refresh()
    return screen.getvalue()


@pytest.mark.parametrize(("label", "unit"), [("backtest", "days"), ("sweep", "trials")])
def test_progress_when_the_total_is_not_known_yet_then_loading_and_never_none(label: str, unit: str) -> None:
    loading = _frames(label, unit, [None])
    assert "loading" in loading
    assert "None" not in loading
    counted = _frames(label, unit, [None, 10])
    assert f"5/10 {unit}" in counted
    assert "None" not in counted


def test_sweep_progress_when_trials_start_then_the_total_is_reported_before_the_first_is_done(
    market_root: Path,
) -> None:
    seen: list[tuple[int, int]] = []
    spec = SweepSpec({"risk.stop_loss.pct": [2, 5]}, metric="total_return")
    sweep(
        make_config(market_root),
        spec,
        LocalBackend(1),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(0, 2), (1, 2), (2, 2)]
