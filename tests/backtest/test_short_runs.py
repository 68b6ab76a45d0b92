"""Figures that say little or nothing are shown as such: a win rate with no sell is n/a (it was 0.0, which
reads as every sale lost), a run of a few sessions is told its annualised figures are extrapolated, and the
comparison's printed table gives each figure its unit."""

import json
from collections import Counter
from pathlib import Path

import pytest

from maemae.backtest.compare import PolicyResult, compare_csv, compare_html
from maemae.backtest.metrics import SHORT_RUN_SESSIONS, Metrics, compute_metrics, short_run_note
from maemae.backtest.outputs import write_summary
from maemae.backtest.sweep_report import _cell
from maemae.cli import main
from maemae.wording import counted
from tests.backtest.conftest import short_run_warning, write_cli_config


def _metrics(realised_by_sell: list[int], sessions: int = 2) -> Metrics:
    equity = [100_000_000 + 100_000 * (n + 1) for n in range(sessions)]
    return compute_metrics(100_000_000, equity, [], realised_by_sell, Counter())


def test_win_rate_when_nothing_was_sold_is_none_not_zero() -> None:
    assert _metrics([]).win_rate is None
    assert _metrics([5_000, -1_000]).win_rate == 0.5
    assert _metrics([-1_000]).win_rate == 0.0  # a sale that lost is still a 0 % win rate


def test_summary_when_nothing_was_sold_writes_a_null_win_rate(tmp_path: Path) -> None:
    write_summary(tmp_path / "summary.json", _metrics([]), {})
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["win_rate"] is None
    assert summary["sharpe"] == round(summary["sharpe"], 6)  # the other ratios are still rounded numbers


def test_compare_tables_when_nothing_was_sold_leave_the_win_rate_empty_and_say_n_a() -> None:
    results = [PolicyResult("none", _metrics([])), PolicyResult("cooldown", _metrics([1_000]))]
    lines = compare_csv(results).splitlines()
    assert lines[1].endswith(",,0")  # the empty win rate, then the strategy's errors
    assert lines[2].endswith(",1.000,0")
    page = compare_html(results)
    assert "<td>n/a</td>" in page
    assert "<td>100.0%</td>" in page


def test_compare_html_when_shown_gives_each_figure_its_unit() -> None:
    metrics = _metrics([1_000, -1_000])
    page = compare_html([PolicyResult("none", metrics)])
    for header in ("return", "max drawdown", "orders", "turnover /yr", "commission + tax", "win rate"):
        assert f"<th>{header}</th>" in page
    assert f"<td>{metrics.total_return:.2%}</td>" in page  # 0.2 % as a percentage, not 0.0020
    assert f"<td>{metrics.turnover:.2f}x</td>" in page
    assert "<td>0 won</td>" in page


def test_sweep_report_cell_when_a_win_rate_is_missing_shows_n_a() -> None:
    assert _cell(None) == "n/a"
    assert _cell(float("nan")) == "n/a"  # None in a float column of the trial table
    assert _cell(0.25) == "0.25"


@pytest.mark.parametrize(("sessions", "said"), [(SHORT_RUN_SESSIONS - 1, True), (SHORT_RUN_SESSIONS, False)])
def test_short_run_note_when_fewer_sessions_than_the_bound_only(sessions: int, said: bool) -> None:
    metrics = _metrics([], sessions)
    assert metrics.sessions == sessions
    assert (short_run_note(metrics) is not None) is said


def test_short_run_note_when_one_session_says_session_once() -> None:
    """It read "the run has 1 sessions"."""
    note = short_run_note(_metrics([], 1))
    assert note is not None
    assert note.startswith("the run has 1 session: ")


@pytest.mark.parametrize(
    ("count", "noun", "written"),
    [
        (4645, "executed order", "4,645 executed orders"),
        (1, "intent", "1 intent"),
        (0, "intent", "0 intents"),
    ],
)
def test_result_line_counts_when_large_or_one_are_written_as_read(
    count: int, noun: str, written: str
) -> None:
    """The result line read "4645 executed orders" beside "76,000 strategy errors", and "1 intents denied"."""
    assert counted(count, noun) == written


def test_backtest_cli_when_run_on_a_week_warns_that_annualised_figures_say_little(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dates = f'start = 2025-12-01\nend = 2025-12-05\nout_dir = "{tmp_path / "out"}"'
    assert main(["backtest", "--config", str(write_cli_config(tmp_path, market_root, backtest=dates))]) == 0
    assert capsys.readouterr().err.splitlines() == [short_run_warning(5)]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["sessions"] == 5


def test_compare_cli_when_printed_shows_units(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dates = f'start = 2025-12-01\nend = 2025-12-05\nout_dir = "{tmp_path / "out"}"'
    assert main(["compare", "--config", str(write_cli_config(tmp_path, market_root, backtest=dates))]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [short_run_warning(5)]  # once, not once a policy
    printed = captured.out
    assert "cooldown+reentry+caps+take_profit" in printed  # whole, never cut to fit
    assert "turnover /yr" in printed
    assert "commission + tax" in printed
    table = [line for line in printed.splitlines() if line.strip("│ ").startswith("none ")]
    assert len(table) == 1
    assert "%" in table[0]
    assert " won" in table[0]


def test_optuna_study_when_a_trial_sold_nothing_counts_it_failed_and_keeps_its_row() -> None:
    from maemae.backtest.optimise import optimise

    def run_batch(trials: list[tuple[int, dict[str, object]]]) -> list[dict[str, object]]:
        # a set that never sells has no win rate; the others win half their sales
        return [
            {"trial": number, "win_rate": None if params["x"] == 1 else 0.5, **params}
            for number, params in trials
        ]

    rows = optimise({"x": [1, 2]}, samples=8, seed=1, metric="win_rate", parallelism=2, run_batch=run_batch)
    assert len(rows) == 8
    sold_nothing = [row for row in rows if row["x"] == 1]
    assert sold_nothing
    assert all(row["win_rate"] is None for row in sold_nothing)
