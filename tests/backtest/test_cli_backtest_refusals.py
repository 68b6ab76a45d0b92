"""``maemae backtest`` and ``maemae compare`` refusing their data, dates or ``--out`` with one line each
(exit 2, no traceback) and leaving no ``--out`` folder behind; a start before the stored days is run, with
a warning that the daily history is shorter than the daily strategy's."""

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from maemae.backtest.service import load_market
from maemae.cli import main
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.errors import DataError
from tests.backtest.conftest import make_config, short_run_warning, write_cli_config
from tests.user_errors import refused

COMMANDS = ["backtest", "compare"]


def write_config(tmp_path: Path, root: Path, backtest: str = "") -> Path:
    return write_cli_config(tmp_path, root, backtest=backtest)


def run(command: str, config: Path, out: Path, *dates: str) -> int:
    return main([command, "-c", str(config), "--out", str(out), *dates])


@pytest.fixture(scope="module")
def minute_only_root(market_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test market without its daily bars: what a minute-only CSV import gives."""
    root = tmp_path_factory.mktemp("minute-only")
    shutil.copytree(market_root, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("cache"))
    shutil.rmtree(root / "day")
    return root


# ----- data.root


@pytest.mark.parametrize("command", COMMANDS)
def test_when_data_root_is_missing_one_line_names_it_and_how_to_make_one(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "markte"  # a typo
    line = refused(run(command, write_config(tmp_path, root), tmp_path / "out"), capsys)
    assert line == (
        f"error: data.root = {str(root)!r}: no such folder; expected the market-data folder (make one with "
        f"`maemae data sample --dir {root}` or `maemae data import --csv FILE --dir {root}`)"
    )
    assert not (tmp_path / "out").exists()


def test_when_a_relative_data_root_is_missing_the_line_says_which_folder_it_was_read_from(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The examples' ``var/demo/market`` is found from the repository's root only: run from elsewhere, the
    line says where it was looked for, so the user does not make a second market there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    line = refused(run("backtest", write_config(tmp_path, Path("var/demo/market")), tmp_path / "out"), capsys)
    assert line.startswith(
        f"error: data.root = 'var/demo/market': no such folder (relative to the current folder {elsewhere}); "
    )
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_when_data_root_is_a_file_one_line_says_so(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "market.parquet"
    root.write_bytes(b"")
    line = refused(run(command, write_config(tmp_path, root), tmp_path / "out"), capsys)
    assert line == f"error: data.root = {str(root)!r}: is a file; expected the market-data folder"
    assert not (tmp_path / "out").exists()


def test_backtest_when_the_store_holds_minute_bars_only_says_daily_bars_are_needed_and_where_to_get_them(
    tmp_path: Path, minute_only_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert BarStore(minute_only_root).codes(Timeframe.MINUTE)
    line = refused(run("backtest", write_config(tmp_path, minute_only_root), tmp_path / "out"), capsys)
    assert line.startswith(
        f"error: data.root = {str(minute_only_root)!r}: holds minute bars but no daily bars;"
    )
    assert "`maemae data import` does not build them from minute bars" in line
    assert "`maemae data import --timeframe day`" in line
    assert not (tmp_path / "out").exists()


def test_load_market_when_the_folder_holds_no_bars_names_the_ways_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r": no bars stored; expected daily bars \(make them with `maemae data"
    ):
        load_market(make_config(tmp_path), None, None, backtest=True)


# ----- dates


@pytest.mark.parametrize("command", COMMANDS)
def test_when_start_is_after_end_one_line_names_both_options(
    command: str, tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, market_root)
    code = run(command, config, tmp_path / "out", "--start", "2025-11-28", "--end", "2025-11-03")
    line = refused(code, capsys)
    assert (
        line == "error: --start 2025-11-28 is after --end 2025-11-03: expected a start on or before the end"
    )
    assert not (tmp_path / "out").exists()


def test_backtest_when_start_is_after_the_configured_end_names_backtest_end(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, market_root, "end = 2025-11-03")
    line = refused(run("backtest", config, tmp_path / "out", "--start", "2025-11-28"), capsys)
    assert (
        line
        == "error: --start 2025-11-28 is after backtest.end 2025-11-03: expected a start on or before the end"
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_when_no_stored_day_is_in_range_no_out_folder_is_left(
    command: str, tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new" / "out"
    line = refused(run(command, write_config(tmp_path, market_root), out, "--start", "2027-06-01"), capsys)
    assert not (tmp_path / "new").exists()
    # the range as given, and the days the store holds (the sweep says the same)
    assert line.startswith("error: --start 2027-06-01: no stored trading day in that range; data.root = ")
    assert "holds daily bars from 20" in line


def test_backtest_when_start_is_before_the_stored_days_warns_and_runs_from_the_first(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = min(s.first for s in BarStore(market_root).info() if s.timeframe is Timeframe.DAY).date()
    config = write_config(tmp_path, market_root)
    assert run("backtest", config, tmp_path / "out", "--start", "2024-01-02", "--end", "2025-12-05") == 0
    captured = capsys.readouterr()
    run_days = [day for day in stored_sessions(market_root) if day <= date(2025, 12, 5)]
    assert captured.err.strip().splitlines() == [
        f"warning: --start 2024-01-02 is before the first stored day: the run starts on {first}, with no "
        "stored session before it; the daily strategy decides on 10 sessions",
        short_run_warning(len(run_days)),
    ]
    assert captured.out.startswith(f"{first}..2025-12-05: ")


def test_backtest_when_fewer_sessions_are_stored_before_the_start_than_the_strategy_needs_warns(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    days = stored_sessions(market_root)
    start = days[5]  # five stored sessions before it; the tests' daily strategy has a long window of 10
    config = write_config(tmp_path, market_root)
    assert run("backtest", config, tmp_path / "out", "--start", str(start)) == 0
    assert capsys.readouterr().err.strip().splitlines() == [
        f"warning: the run starts on {start} with 5 stored sessions before it, fewer than the daily "
        "strategy's 10: it decides on a shorter history until 10 have passed",
        short_run_warning(len(days) - 5),
    ]
    assert run("backtest", config, tmp_path / "out2", "--start", str(days[10])) == 0
    said = capsys.readouterr().err.strip().splitlines()
    assert said == [short_run_warning(len(days) - 10)], "ten sessions before the start are enough"


def stored_sessions(root: Path) -> list[date]:
    """The sessions the sample market holds daily bars for, in order."""
    infos = [info for info in BarStore(root).info() if info.timeframe is Timeframe.DAY]
    market, _ = load_market(make_config(root), None, None)
    return market.trading_days(min(i.first for i in infos).date(), max(i.last for i in infos).date())


def test_load_market_when_the_configured_start_is_before_the_stored_days_logs_a_warning(
    market_root: Path,
) -> None:
    lines: list[str] = []
    config = make_config(market_root, backtest={"start": "2024-01-02"})
    with capture_logs() as logs:
        _, days = load_market(config, None, None, backtest=True, notice=lines.append)
    warning = next(entry for entry in logs if entry["event"] == "start_before_stored_history")
    assert warning["log_level"] == "warning"
    assert warning["first_stored_day"] == str(days[0])
    assert lines == [
        f"backtest.start 2024-01-02 is before the first stored day: the run starts on {days[0]}, with no "
        "stored session before it; the daily strategy decides on 10 sessions"
    ]


# ----- --out


@pytest.mark.parametrize("command", COMMANDS)
def test_when_out_is_empty_one_line_and_nothing_written_here(
    command: str,
    tmp_path: Path,
    market_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    config = write_config(tmp_path, market_root)
    line = refused(main([command, "-c", str(config), "--out", ""]), capsys)
    assert line == "error: --out '': expected a folder path, not an empty value"
    assert os.listdir(here) == []


def test_when_the_range_is_a_weekend_inside_the_stored_days_then_named_with_the_stored_range(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It read "backtest: no stored trading days between ...", naming neither option nor the stored days."""
    config = write_config(tmp_path, market_root)
    line = refused(
        run("backtest", config, tmp_path / "out", "--start", "2025-11-29", "--end", "2025-11-30"), capsys
    )
    assert line.startswith(
        "error: --start 2025-11-29 --end 2025-11-30: no KRX session in that range; data.root = "
    )
    assert line.endswith(": expected a range with a trading day")
    assert "holds daily bars from 20" in line
