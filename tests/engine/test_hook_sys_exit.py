"""``sys.exit()`` in a strategy's hook is the strategy's bug like any other error: counted, logged once and
never fatal (DESIGN 1.9). SystemExit is no ``Exception``, so the drivers let it through: a backtest ended
half-way with the exit code the strategy gave and no outputs, and a live day stopped at its first minute.
Each hook is tried in the driver that calls it: the backtest's (``evaluate_day``, ``wake_bars``; ``evaluate``
and ``on_bar`` in ``--every-bar`` mode) and the live day's ``evaluate`` and ``on_bar``."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from maemae.backtest.service import load_market, run_backtest
from maemae.cli import main
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import replayed_day_in_process
from maemae.engine.scheduler import Scheduler
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config

START, END = date(2025, 11, 24), date(2025, 11, 26)
DAY = date(2025, 12, 3)

EXITING = """
import sys
from typing import ClassVar

from maemae.strategy.rsi_minute import RSIMinute
from maemae.strategy.sma_daily import SMADaily


class ExitingDaily(SMADaily):
    name: ClassVar[str] = "exiting_daily"

    def evaluate_day(self, code, closes, volumes, prices, cumulative):
        if "evaluate_day" in HOOKS:
            sys.exit(3)
        return super().evaluate_day(code, closes, volumes, prices, cumulative)

    def evaluate(self, data):
        if "evaluate" in HOOKS:
            sys.exit(3)
        return super().evaluate(data)


class ExitingMinute(RSIMinute):
    name: ClassVar[str] = "exiting_minute"

    def wake_bars(self, bars, today_start, daily_signals):
        if "wake_bars" in HOOKS:
            sys.exit(3)
        return super().wake_bars(bars, today_start, daily_signals)

    def on_bar(self, data):
        if "on_bar" in HOOKS:
            sys.exit("bye")
        return super().on_bar(data)
"""


def exiting_strategies(tmp_path: Path, hook: str) -> dict[str, dict[str, str]]:
    """The built-in strategies, with ``hook`` calling ``sys.exit()`` every time it is called."""
    path = tmp_path / "exiting.py"
    path.write_text(EXITING.replace("HOOKS", repr((hook,))), encoding="utf-8")
    return {"daily": {"class": f"{path}:ExitingDaily"}, "minute": {"class": f"{path}:ExitingMinute"}}


def _logged_hooks(logs: list[dict[str, object]]) -> set[object]:
    return {e["hook"] for e in logs if e["event"] == "strategy_error" and "SystemExit" in str(e["error"])}


@pytest.mark.parametrize(
    ("hook", "every_bar", "reported_as"),
    [
        ("evaluate_day", False, "evaluate"),
        ("evaluate", True, "evaluate"),
        ("wake_bars", False, "wake_bars"),
        ("on_bar", True, "on_bar"),  # every bar: on these days no bar of the day's mask wakes a stock
    ],
)
def test_backtest_when_a_hook_calls_sys_exit_counts_it_as_a_strategy_error_and_runs_every_day(
    market_root: Path, tmp_path: Path, hook: str, every_bar: bool, reported_as: str
) -> None:
    config = make_config(market_root, strategies=exiting_strategies(tmp_path, hook))
    with capture_logs() as logs:
        result = run_backtest(config, start=START, end=END, every_bar=every_bar)
    assert [record.day for record in result.recorder.days] == [START, date(2025, 11, 25), END]
    assert result.engine.kernel.strategy_errors > 0
    assert _logged_hooks(logs) == {reported_as}


def test_backtest_command_when_evaluate_day_calls_sys_exit_writes_its_outputs_and_exits_0(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategies = exiting_strategies(tmp_path, "evaluate_day")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[data]\nroot = "{market_root}"\n[universe]\nmax_stocks = 3\n'
        f'[strategies.daily]\nclass = "{strategies["daily"]["class"]}"\n'
        f'[strategies.minute]\nclass = "{strategies["minute"]["class"]}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(
        ["backtest", "--config", str(config), "--start", str(START), "--end", str(END), "--out", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    assert (out / "summary.json").is_file()


@pytest.mark.whole_day
@pytest.mark.parametrize(("hook", "reported_as"), [("evaluate", "evaluate"), ("on_bar", "on_bar")])
def test_live_day_when_a_hook_calls_sys_exit_trades_on_to_the_close(
    market_root: Path, tmp_path: Path, hook: str, reported_as: str
) -> None:
    config = make_config(
        market_root,
        execution={"halt_file": str(tmp_path / "HALT")},
        strategies=exiting_strategies(tmp_path, hook),
    )
    market, _ = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(7, 0), tzinfo=KST))
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        live, _ = replayed_day_in_process(config, market, DAY, clock, store)
        scheduler = Scheduler(clock)
        assert live.plan(scheduler)
        with capture_logs() as logs:
            scheduler.run_until(datetime.combine(DAY, time(16, 0), tzinfo=KST))
        assert live.closed
        assert live.core.kernel.strategy_errors > 100  # every minute's call, not one that ended the day
        assert _logged_hooks(logs) == {reported_as}
    finally:
        store.close()
