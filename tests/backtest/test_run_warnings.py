"""What ``maemae backtest`` and ``maemae compare`` say about a run that is not what it seems (a new user's
review): strategy errors in a comparison, an end after the stored days, the daily strategy's own history
before a start, and sessions without minute bars: each a ``warning:`` line on stderr, exit 0. (``--out`` as
typed, when a folder in it is a file: test_compare_set, test_sweep_outputs.)"""

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from maemae.backtest.compare import HEADERS, PolicyResult, compare_csv, shown_headers
from maemae.backtest.metrics import compute_metrics
from maemae.backtest.service import WARMUP_SESSIONS, warmup_sessions
from maemae.cli import main
from maemae.data.bars import BAR_COLUMNS, BarArrays, Timeframe
from maemae.data.store import BarStore
from tests.backtest.conftest import make_config, short_run_warning, write_cli_config
from tests.backtest.test_cli_backtest_refusals import stored_sessions
from tests.backtest.test_strategy_contract import user_class

FAILING = """
from typing import ClassVar
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

class NoParams(StrategyParams):
    pass

class Failing(MinuteStrategy):
    name: ClassVar[str] = "failing"
    Params: ClassVar[type[StrategyParams]] = NoParams

    def on_bar(self, data: MinuteInput):
        raise ValueError("boom")
"""

SHORT_WINDOW = """
from typing import ClassVar
from maemae.strategy.api import DailyInput, DailyStrategy, Signal, StrategyParams

class NoParams(StrategyParams):
    pass

class {name}(DailyStrategy):
    name: ClassVar[str] = "window"
    Params: ClassVar[type[StrategyParams]] = NoParams

    def history_days(self) -> int:
        return {days}

    def evaluate(self, data: DailyInput) -> Signal:
        return Signal.HOLD
"""


def _daily(tmp_path: Path, days: int) -> str:
    name = f"Window{days}"
    return user_class(tmp_path, SHORT_WINDOW.format(name=name, days=days), name)


# ----- 1. compare: the strategy's errors


def test_compare_when_the_strategy_raises_then_the_tables_count_its_errors_and_a_warning_says_so(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    days = stored_sessions(market_root)
    minute = user_class(tmp_path, FAILING, "Failing")
    config = write_cli_config(tmp_path, market_root, extra=f'[strategies.minute]\nclass = "{minute}"\n')
    out = tmp_path / "out"
    args = ["compare", "-c", str(config), "--out", str(out), "--start", str(days[-3])]
    assert main(args) == 0
    captured = capsys.readouterr()
    folder = out / "compare"
    rows = list(csv.DictReader((folder / "compare.csv").open(encoding="utf-8")))
    counts = {row["policy"]: int(row["strategy_errors"]) for row in rows}
    summaries = {
        policy: json.loads((folder / policy / "summary.json").read_text(encoding="utf-8"))["strategy_errors"]
        for policy in counts
    }
    assert counts == summaries
    assert min(counts.values()) > 0
    assert "<th>strategy errors</th>" in (folder / "compare.html").read_text(encoding="utf-8")
    header = next(line for line in captured.out.splitlines() if "┃ policy" in line)
    assert header.split("┃")[-2].strip() == "strategy errors"  # the printed table's column, whole
    assert "cooldown+reentry+caps+take_profit " in captured.out
    warning = next(line for line in captured.err.splitlines() if "strategy errors" in line)
    most = max(counts, key=lambda policy: (counts[policy], -list(counts).index(policy)))
    assert warning.startswith(
        f"warning: strategy errors in 6 of 6 policies (most: {most}, {counts[most]:,}; first: "
    )
    assert "boom" in warning
    assert warning.endswith(
        "): their figures are of a strategy that failed on those calls (summary.json counts them, the log "
        "has each)"
    )


def test_compare_when_no_strategy_raised_then_the_printed_table_keeps_its_columns() -> None:
    """The demo's table is as it was; compare.csv has the column always, 0, for a program reading it."""
    metrics = compute_metrics(1_000_000, [1_000_000, 1_000_000], [], [], {})
    results = [PolicyResult("none", metrics)]
    assert shown_headers(results) == HEADERS
    assert compare_csv(results).splitlines()[0].endswith(",strategy_errors")
    assert compare_csv(results).splitlines()[1].endswith(",0")


# ----- 2. an end after the stored days


def test_backtest_when_the_end_is_after_the_stored_days_warns_and_names_the_last_day(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    days = stored_sessions(market_root)
    config = write_cli_config(tmp_path, market_root)
    args = ["backtest", "-c", str(config), "--out", str(tmp_path / "out"), "--start", str(days[-5])]
    assert main([*args, "--end", "2026-03-10"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"warning: --end 2026-03-10 is after the last stored day: the run ends on {days[-1]}",
        short_run_warning(5),
    ]
    assert captured.out.startswith(f"{days[-5]}..{days[-1]}: ")
    assert main([*args, "--end", str(days[-1])]) == 0
    assert capsys.readouterr().err.strip().splitlines() == [short_run_warning(5)], "an end in the data"


# ----- 3. the daily strategy's own history


def test_backtest_when_the_start_is_before_the_stored_days_names_the_daily_strategys_own_history(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A strategy needing 1 session was told of a warm-up of 60, the fixed constant."""
    first = stored_sessions(market_root)[0]
    daily = _daily(tmp_path, 1)
    config = write_cli_config(tmp_path, market_root)
    text = config.read_text(encoding="utf-8").replace('class = "sma_daily"', f'class = "{daily}"')
    config.write_text(text.replace("short = 3\nlong = 10\n", ""), encoding="utf-8")
    args = ["backtest", "-c", str(config), "--out", str(tmp_path / "out"), "--start", "2024-01-02"]
    assert main([*args, "--end", str(first)]) == 0
    assert capsys.readouterr().err.strip().splitlines()[0] == (
        f"warning: --start 2024-01-02 is before the first stored day: the run starts on {first}, with no "
        "stored session before it; the daily strategy decides on 1 session"
    )


def test_default_start_when_the_daily_strategy_needs_more_than_the_floor_then_leaves_its_history(
    tmp_path: Path, market_root: Path
) -> None:
    """The built-ins' window (here 10, SMADaily's default 20) is under the floor of 60, so their runs keep
    their days; a strategy needing 100 sessions is left 100."""
    assert warmup_sessions(make_config(market_root)) == WARMUP_SESSIONS == 60
    wide = make_config(market_root, strategies={"daily": {"class": _daily(tmp_path, 100)}})
    assert warmup_sessions(wide) == 100


# ----- 4. sessions without minute bars


@pytest.fixture(scope="module")
def one_minute_day_root(market_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test market with minute bars on its last session alone: daily bars on every one."""
    root = tmp_path_factory.mktemp("one-minute-day")
    shutil.copytree(market_root, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("cache"))
    store = BarStore(root)
    last = stored_sessions(market_root)[-1]
    for code in store.codes(Timeframe.MINUTE):
        bars = store.read_arrays(code, Timeframe.MINUTE)
        kept = BarArrays(*(getattr(bars, n)[_kst_day(bars.ts, last)] for n in BAR_COLUMNS))
        store.write_arrays(code, Timeframe.MINUTE, kept)
    return root


def _kst_day(ts: np.ndarray, day: date) -> np.ndarray:
    """Which of ``ts`` (UTC nanoseconds) fall on ``day`` in Korea (UTC+9, no daylight saving)."""
    shifted = (ts + 9 * 3_600_000_000_000).astype("datetime64[ns]").astype("datetime64[D]")
    return np.asarray(shifted == np.datetime64(day))


def test_backtest_when_most_sessions_have_no_minute_bars_warns_how_many(
    tmp_path: Path, market_root: Path, one_minute_day_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    days = stored_sessions(market_root)
    config = write_cli_config(tmp_path, one_minute_day_root)
    args = ["backtest", "-c", str(config), "--out", str(tmp_path / "out"), "--start", str(days[-13])]
    assert main(args) == 0
    assert capsys.readouterr().err.strip().splitlines() == [
        f"warning: 12 of 13 sessions have no minute bars for the universe (the first {days[-13]}): the "
        "minute strategy trades only on the others",
        short_run_warning(13),
    ]
    full = write_cli_config(tmp_path, market_root)
    assert (
        main(["backtest", "-c", str(full), "--out", str(tmp_path / "out2"), "--start", str(days[-13])]) == 0
    )
    assert capsys.readouterr().err.strip().splitlines() == [short_run_warning(13)], "minute bars every day"
