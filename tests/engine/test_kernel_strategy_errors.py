"""A strategy that fails on every bar: every error is counted (``strategy_errors``), but each kind is logged
in full once and its repeats summed up, so a month of them is a few lines, not hundreds of thousands; and the
backtest's result line and report say that the strategy failed, rather than only "0 executed orders"."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from maemae.backtest.metrics import compute_metrics
from maemae.backtest.report_html import render_report
from maemae.backtest.service import run_backtest
from maemae.cli import main
from maemae.engine.kernel import DISTINCT_ERRORS_LOGGED, OTHER_ERRORS, _power_of_ten
from tests.backtest.conftest import make_config

START, END = date(2025, 11, 24), date(2025, 11, 26)

FAILING = """
from typing import ClassVar

from maemae.strategy.api import MinuteStrategy, StrategyParams


class FailingParams(StrategyParams):
    pass


class Failing(MinuteStrategy):
    name: ClassVar[str] = "failing"
    Params: ClassVar[type[StrategyParams]] = FailingParams
    calls = 0

    def on_bar(self, data):
        Failing.calls += 1
        if VARYING:
            raise IndexError(f"index {Failing.calls} is out of bounds")
        raise RuntimeError("boom")
"""


def failing_strategy(tmp_path: Path, *, varying: bool = False) -> str:
    """A minute strategy that raises on every bar: always the same error, or one with a changing message."""
    path = tmp_path / "failing.py"
    path.write_text(FAILING.replace("VARYING", str(varying)), encoding="utf-8")
    return f"{path}:Failing"


def backtest_logs(market_root: Path, strategy: str) -> tuple[int, list[dict[str, Any]]]:
    config = make_config(market_root, strategies={"minute": {"class": strategy}})
    with capture_logs() as logs:
        result = run_backtest(config, start=START, end=END)
    return result.engine.kernel.strategy_errors, logs


def test_backtest_when_on_bar_always_raises_logs_the_error_once_and_counts_every_one(
    market_root: Path, tmp_path: Path
) -> None:
    errors, logs = backtest_logs(market_root, failing_strategy(tmp_path))
    full = [e for e in logs if e["event"] == "strategy_error"]
    repeated = [e for e in logs if e["event"] == "strategy_errors_repeated"]
    assert errors > 5_000
    assert len(full) == 1
    assert full[0]["hook"] == "on_bar"
    assert "RuntimeError('boom')" in full[0]["error"]
    assert full[0]["at"].endswith("in on_bar")
    day_ends = [e for e in repeated if "day" in e]
    assert [e["day"] for e in day_ends] == ["2025-11-24", "2025-11-25", "2025-11-26"]
    assert 1 + sum(e["count"] for e in day_ends) == errors
    milestones = [e["so_far"] for e in repeated if "so_far" in e]
    assert milestones == [10, 100, 1_000]  # 9,120 errors in the three days
    assert len(full) + len(repeated) < 20


def test_backtest_when_every_error_message_differs_logs_a_bounded_number_of_them(
    market_root: Path, tmp_path: Path
) -> None:
    errors, logs = backtest_logs(market_root, failing_strategy(tmp_path, varying=True))
    full = [e for e in logs if e["event"] == "strategy_error"]
    day_ends = [e for e in logs if e["event"] == "strategy_errors_repeated" and "day" in e]
    assert len(full) == DISTINCT_ERRORS_LOGGED
    assert {e["error"] for e in day_ends} == {OTHER_ERRORS}
    assert DISTINCT_ERRORS_LOGGED + sum(e["count"] for e in day_ends) == errors


def test_backtest_cli_when_the_strategy_failed_says_how_often_and_the_first_error(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cfg.toml"
    config.write_text(
        f"""
[data]
root = "{market_root}"
[strategies.daily]
class = "sma_daily"
params = {{ short = 3, long = 10 }}
[strategies.minute]
class = "{failing_strategy(tmp_path)}"
[backtest]
start = {START}
end = {END}
out_dir = "{tmp_path / "out"}"
""",
        encoding="utf-8",
    )
    assert main(["backtest", "-c", str(config)]) == 0
    result = capsys.readouterr().out.splitlines()[0]
    assert re.search(
        r", 0 executed orders, \d{1,3}(,\d{3})+ strategy errors \(first: failing on_bar on ", result
    )
    assert result.endswith(": RuntimeError('boom'))")


def test_render_report_when_the_strategy_failed_has_a_strategy_errors_row_else_none() -> None:
    metrics = compute_metrics(1_000, [1_000], [], [], Counter())
    failed = render_report(
        "t", metrics, [], [], {}, {}, strategy_errors=12_345, first_strategy_error="failing on_bar: E()"
    )
    assert (
        "<tr><th>strategy errors</th><td>12,345 (first: failing on_bar: E()); see the log</td></tr>" in failed
    )
    assert "strategy errors" not in render_report("t", metrics, [], [], {}, {})


@pytest.mark.parametrize(
    ("count", "reported"), [(1, False), (9, False), (10, True), (20, False), (1_000, True)]
)
def test_power_of_ten_when_counting_repeats_reports_at_10_100_1000(count: int, reported: bool) -> None:
    assert _power_of_ten(count) is reported
