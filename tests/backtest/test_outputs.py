"""A backtest's output folder: checked before the run, its files replaced as one set after it, each with
the mode a plain ``open()`` gives; and a backtest that cannot trade (no minute bars, no stored code of a
fixed universe) refused with one line instead of a run of 0 orders."""

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from maemae.backtest import outputs, service
from maemae.backtest.compare import compare_policies
from maemae.backtest.outputs import OUTPUT_FILES, STAGING_PREFIX, publish
from maemae.backtest.service import load_market, run_backtest
from maemae.cli import main
from maemae.data.bars import Timeframe, day_ns
from maemae.data.store import BarStore
from maemae.domain.enums import Side
from maemae.errors import ConfigError, DataError, MaemaeError
from tests.backtest.conftest import make_config, read_only_folder, short_run_warning, write_cli_config
from tests.user_errors import one_error_line

START, END = date(2025, 12, 1), date(2025, 12, 5)
ROOT = os.geteuid() == 0  # permission bits do not stop root


def write_config(tmp_path: Path, root: Path, extra: str = "") -> Path:
    dates = f'start = {START}\nend = {END}\nout_dir = "{tmp_path / "out"}"'
    return write_cli_config(tmp_path, root, universe=extra, backtest=dates)


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if a backtest starts: the checks must come before the run."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the backtest ran before its output folder was checked")

    monkeypatch.setattr(service, "load_market", refuse)
    monkeypatch.setattr("maemae.backtest.compare.run_backtest", refuse)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every entry of ``folder`` (hidden ones included) with its bytes."""
    return {path.name: path.read_bytes() if path.is_file() else b"<dir>" for path in folder.iterdir()}


# ----- Bug A: the output folder


@pytest.mark.usefixtures("no_run")
def test_backtest_cli_when_out_is_a_file_exits_2_before_running(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_the_way = tmp_path / "afile"
    in_the_way.write_text("keep me", encoding="utf-8")
    config = write_config(tmp_path, market_root)
    assert main(["backtest", "--config", str(config), "--out", str(in_the_way)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert (
        line == f"error: --out {str(in_the_way)!r}: is a file; expected a folder (existing, or one to create)"
    )
    assert in_the_way.read_text(encoding="utf-8") == "keep me"


@pytest.mark.usefixtures("no_run")
def test_compare_cli_when_out_is_a_file_exits_2_before_running(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_the_way = tmp_path / "afile"
    in_the_way.write_text("keep me", encoding="utf-8")
    config = write_config(tmp_path, market_root)
    assert main(["compare", "--config", str(config), "--out", str(in_the_way)]) == 2
    line = one_error_line(capsys.readouterr().err)
    # --out as typed, as backtest says it (it named the comparison's folder in it, 'afile/compare')
    why = "is a file; expected a folder (existing, or one to create)"
    assert line == f"error: --out {str(in_the_way)!r}: {why}"


@pytest.mark.usefixtures("no_run")
def test_backtest_cli_when_out_dir_from_config_is_under_a_file_names_backtest_out_dir(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out").write_text("", encoding="utf-8")  # the config's out_dir is tmp_path / "out"
    assert main(["backtest", "--config", str(write_config(tmp_path, market_root))]) == 2
    assert one_error_line(capsys.readouterr().err).startswith("error: backtest.out_dir ")


@pytest.mark.usefixtures("no_run")
def test_backtest_cli_when_an_output_name_is_a_folder_exits_2_before_running(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs"
    (out / "report.html").mkdir(parents=True)
    config = write_config(tmp_path, market_root)
    assert main(["backtest", "--config", str(config), "--out", str(out)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line == f"error: --out {str(out)!r}: report.html there is a folder; expected a file"
    assert [path.name for path in out.iterdir()] == ["report.html"]


@pytest.mark.usefixtures("no_run")
def test_backtest_cli_when_out_is_not_writable_exits_2_before_running(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    read_only_folder(locked, monkeypatch)
    try:
        config = write_config(tmp_path, market_root)
        assert main(["backtest", "--config", str(config), "--out", str(locked / "run")]) == 2
    finally:
        locked.chmod(0o755)
    line = one_error_line(capsys.readouterr().err)
    assert line == f"error: --out {str(locked / 'run')!r}: no permission to create or write files there"
    assert list(locked.iterdir()) == []


def test_backtest_cli_when_report_cannot_be_written_keeps_the_previous_run(
    tmp_path: Path, market_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    config = write_config(tmp_path, market_root)
    assert main(["backtest", "--config", str(config)]) == 0
    before = snapshot(out)
    assert sorted(before) == sorted(OUTPUT_FILES)

    def full_disk(path: Path, html: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(service, "write_text_atomically", full_disk)  # the report only
    capsys.readouterr()
    assert main(["backtest", "--config", str(config), "--every-bar"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert line == (
        f"error: backtest.out_dir {str(out)!r}: could not write the backtest's outputs "
        f"({os.strerror(errno.ENOSPC)}); the files there are unchanged"
    )
    assert snapshot(out) == before  # the old set, byte for byte, and no staging folder left


def test_backtest_when_report_cannot_be_written_into_a_new_folder_leaves_no_partial_set(
    tmp_path: Path, market_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(path: Path, html: str) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(service, "write_text_atomically", fails)  # the report only
    out = tmp_path / "new"
    with pytest.raises(MaemaeError, match="could not write the backtest's outputs") as raised:
        run_backtest(make_config(market_root), start=START, end=END, out_dir=out)
    assert raised.value.exit_code == 1
    assert not out.exists()  # the folder the run made goes with it


def staged_over_an_old_set(tmp_path: Path) -> tuple[Path, Path]:
    """An output folder holding a previous run's files, and a staging folder in it holding a new set."""
    out = tmp_path / "out"
    out.mkdir()
    for name in OUTPUT_FILES:
        (out / name).write_text(f"old {name}", encoding="utf-8")
    staging = outputs.open_staging(out, "--out")
    for name in OUTPUT_FILES:
        (staging / name).write_text(f"new {name}", encoding="utf-8")
    return out, staging


def rename_failing(monkeypatch: pytest.MonkeyPatch, target: Path, times: int) -> None:
    """``os.replace`` in outputs refuses to write ``target`` ``times`` times (a file another program holds
    open on Windows, say)."""
    real_replace = os.replace
    left = [times]

    def replace(source: str | Path, destination: str | Path) -> None:
        if Path(destination) == target and left[0]:
            left[0] -= 1
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(destination))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)


def test_publish_when_a_rename_fails_half_way_puts_the_previous_files_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, staging = staged_over_an_old_set(tmp_path)
    rename_failing(monkeypatch, out / "equity.csv", times=1)
    with pytest.raises(MaemaeError, match=r"the files there are unchanged$"):
        publish(staging, out, "--out")
    outputs.discard(staging)
    assert snapshot(out) == {name: f"old {name}".encode() for name in OUTPUT_FILES}


def test_publish_when_the_previous_files_cannot_go_back_keeps_them_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, staging = staged_over_an_old_set(tmp_path)
    rename_failing(monkeypatch, out / "equity.csv", times=2)
    with pytest.raises(MaemaeError, match="could not all be put back: they are in ") as raised:
        publish(staging, out, "--out")
    outputs.discard(staging)
    kept = staging / "previous"
    assert str(kept) in str(raised.value)
    assert (kept / "equity.csv").read_text(encoding="utf-8") == "old equity.csv"  # nothing lost


def test_publish_when_interrupted_half_way_puts_the_previous_files_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, staging = staged_over_an_old_set(tmp_path)
    real_replace = os.replace
    interrupted: list[str | Path] = []

    def replace(source: str | Path, destination: str | Path) -> None:
        if Path(destination) == out / "equity.csv" and not interrupted:  # the new one, half-way through
            interrupted.append(destination)
            raise KeyboardInterrupt
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        publish(staging, out, "--out")
    monkeypatch.setattr(os, "replace", real_replace)
    outputs.discard(staging)
    assert snapshot(out) == {name: f"old {name}".encode() for name in OUTPUT_FILES}


def test_open_staging_when_out_is_under_a_file_raises_config_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"^--out '.*afile/x': '.*afile' is a file; expected a folder$"):
        outputs.open_staging(tmp_path / "afile" / "x", "--out")


# ----- Bug C: file modes


@pytest.mark.usefixtures("umask_022")
def test_backtest_outputs_when_umask_022_are_mode_644(tmp_path: Path, market_root: Path) -> None:
    out = tmp_path / "out"
    run_backtest(make_config(market_root), start=START, end=END, out_dir=out)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in out.iterdir()}
    assert modes == dict.fromkeys(OUTPUT_FILES, 0o644)
    assert not any(name.startswith(STAGING_PREFIX) for name in modes)


# ----- Bug B: backtests that cannot trade


@pytest.fixture(scope="module")
def daily_only_root(market_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test market without its minute bars: what `maemae data sample --daily-only` or pykrx gives."""
    root = tmp_path_factory.mktemp("daily-only")
    shutil.copytree(market_root, root, dirs_exist_ok=True)
    shutil.rmtree(root / "minute")
    shutil.rmtree(root / "cache", ignore_errors=True)
    return root


def test_backtest_cli_when_store_has_no_minute_bars_exits_2_naming_backtest_bars(
    tmp_path: Path, daily_only_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, daily_only_root)
    assert main(["backtest", "--config", str(config)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: backtest.bars = 'minute': data.root = {str(daily_only_root)!r} ")
    assert "backtest.bars = 'day'" in line
    assert not (tmp_path / "out" / "summary.json").exists()


def test_backtest_when_minute_bars_cover_only_the_last_days_still_trades(
    market_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "market"
    shutil.copytree(market_root, root, ignore=shutil.ignore_patterns("cache"))
    store = BarStore(root)
    cut = day_ns(date(2025, 12, 3))
    for code in store.codes(Timeframe.MINUTE):
        bars = store.read_arrays(code, Timeframe.MINUTE)
        store.write_arrays(code, Timeframe.MINUTE, bars.slice(int(bars.ts.searchsorted(cut)), len(bars)))
    result = run_backtest(make_config(root), start=START, end=END)
    assert result.recorder.fills
    assert min(fill.ts.date() for fill in result.recorder.fills) >= date(2025, 12, 3)


def test_backtest_cli_when_no_fixed_code_is_stored_exits_2_naming_them(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, market_root, 'selector = "fixed"\ncodes = ["005930"]')
    config.write_text(config.read_text(encoding="utf-8").replace('"357870"', '"999999"'), encoding="utf-8")
    assert main(["backtest", "--config", str(config)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("error: universe.codes = ['005930']: none of them, nor the safe asset, has bars ")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_load_market_when_some_fixed_codes_are_missing_warns_and_keeps_the_rest(market_root: Path) -> None:
    stored = str(BarStore(market_root).codes(Timeframe.DAY)[0])
    config = make_config(
        market_root,
        universe={"selector": "fixed", "codes": [stored, "005930"], "safe_asset_code": "999999"},
    )
    with capture_logs() as logs:
        _, days = load_market(config, START, END, backtest=True)
    assert days
    warnings = {entry["event"]: entry for entry in logs if entry["log_level"] == "warning"}
    assert warnings["universe_codes_not_stored"]["codes"] == ["005930"]
    assert warnings["safe_asset_not_stored"]["safe_asset_code"] == "999999"


def test_backtest_cli_when_some_fixed_codes_and_the_safe_asset_are_missing_says_so_to_the_user(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run on fewer stocks than asked for used to say so only in the log: the result line read as a run on
    all of them."""
    stored = str(BarStore(market_root).codes(Timeframe.DAY)[0])
    config = write_config(tmp_path, market_root, f'selector = "fixed"\ncodes = ["{stored}", "005930"]')
    config.write_text(config.read_text(encoding="utf-8").replace('"357870"', '"999999"'), encoding="utf-8")
    assert main(["backtest", "--config", str(config), "--start", str(START), "--end", str(END)]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    root = str(market_root)
    assert said == [
        f"warning: universe.codes: 005930 not stored under data.root = {root!r}: the run trades the other 1 "
        "(`maemae data info` lists them)",
        f"warning: universe.safe_asset_code = '999999' not stored under data.root = {root!r}: idle cash "
        "stays cash",
        short_run_warning(5),
    ]


def test_load_market_when_store_has_no_minute_bars_but_bars_day_is_accepted(daily_only_root: Path) -> None:
    config = make_config(
        daily_only_root, backtest={"bars": "day"}, strategies={"minute": {"class": "follow_daily"}}
    )
    _, days = load_market(config, START, END, backtest=True)
    assert days


def test_load_market_when_replaying_a_daily_only_store_is_not_refused_here(daily_only_root: Path) -> None:
    """Paper replays check their own day for minute bars (engine/paper.py); load_market leaves them be."""
    _, days = load_market(make_config(daily_only_root), START, END)
    assert days


def test_load_market_when_no_fixed_code_is_stored_raises_data_error(market_root: Path) -> None:
    config = make_config(
        market_root,
        universe={"selector": "fixed", "codes": ["005930", "000660"], "safe_asset_code": None},
    )
    with pytest.raises(DataError, match=r"universe.codes = \['005930', '000660'\]"):
        load_market(config, START, END, backtest=True)


def test_backtest_when_no_fixed_code_is_stored_but_the_safe_asset_is_parks_cash_in_it(
    market_root: Path,
) -> None:
    """The run can still trade: idle cash goes into the safe asset, so it is not refused."""
    config = make_config(market_root, universe={"selector": "fixed", "codes": ["005930"]})
    told: list[str] = []
    with capture_logs() as logs:
        result = run_backtest(config, start=START, end=END, notice=told.append)
    assert {fill.code for fill in result.recorder.fills} == {"357870"}
    assert any(entry["event"] == "universe_codes_not_stored" for entry in logs)
    # said as it is (it read "the run trades the other 0")
    assert told == [
        f"universe.codes: 005930 not stored under data.root = {str(market_root)!r}: the run only parks idle "
        "cash in the safe asset (`maemae data info` lists them)"
    ]


def test_backtest_when_one_order_parks_part_of_the_idle_cash_then_the_next_days_park_the_rest(
    market_root: Path,
) -> None:
    """A park order is held to the per-order cap and to its share of the bar's volume: of 50 M won idle, the
    first day parked under 5 M and no day after it parked more. Each later day that still finds nothing
    qualifying parks more, until what is left buys no share."""
    cap = 10_000_000
    config = make_config(
        market_root,
        universe={"selector": "fixed", "codes": ["005930"]},
        risk={"order_limits": {"max_amount_per_order": cap}},
    )
    result = run_backtest(config, start=START, end=END)
    days = [fill.ts.date() for fill in result.recorder.fills if fill.side is Side.BUY]
    assert {fill.code for fill in result.recorder.fills} == {"357870"}
    assert len(set(days)) == len(result.recorder.days) == 5  # each day of the run parked some
    assert all(fill.price * fill.quantity <= cap for fill in result.recorder.fills)
    idle = [day.cash for day in result.recorder.days]
    assert idle == sorted(idle, reverse=True)
    assert len(set(idle)) == 5  # less idle cash at each day's end


@pytest.mark.parametrize("writes", [False, True], ids=["in memory", "to --out"])
def test_compare_when_a_run_has_something_to_say_then_only_the_first_policy_says_it(
    tmp_path: Path, market_root: Path, writes: bool
) -> None:
    """What a run says of its days (here a short history) is the same in every policy: the table in memory
    and the one written to a folder say it once, by one rule."""
    said: list[str] = []
    out = tmp_path / "compare" if writes else None
    start, end = date(2025, 11, 6), date(2025, 11, 12)  # 2 stored sessions before the start
    compare_policies(make_config(market_root), start=start, end=end, out_dir=out, notice=said.append)
    assert said == [
        "the run starts on 2025-11-06 with 2 stored sessions before it, fewer than the daily strategy's "
        "10: it decides on a shorter history until 10 have passed"
    ]


def test_compare_when_its_table_cannot_be_written_keeps_the_old_set_and_says_so_in_one_line(
    tmp_path: Path, market_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "compare"
    out.mkdir()
    (out / "compare.html").write_text("old table", encoding="utf-8")
    rename_failing(monkeypatch, out / "compare.html", times=1)
    with pytest.raises(MaemaeError) as raised:
        compare_policies(make_config(market_root), start=START, end=END, out_dir=out, out_option="--out")
    assert str(raised.value) == (
        f"--out {str(out)!r}: could not write the comparison's outputs ({os.strerror(errno.EACCES)}); "
        "the files there are unchanged"
    )
    assert raised.value.exit_code == 1
    assert snapshot(out) == {"compare.html": b"old table"}  # the old set: no new table, folder or staging


@pytest.mark.parametrize("interrupted_at", [1, 3, 6, 8])  # moving the old set aside (1-5), the new in (6-10)
def test_publish_when_interrupted_right_after_a_rename_puts_the_previous_set_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interrupted_at: int
) -> None:
    """Ctrl-C can land between a rename and the note of it: the renamed file must still be put back."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name in OUTPUT_FILES:
        (out_dir / name).write_text(f"old {name}", encoding="utf-8")
    staging = outputs.open_staging(out_dir, "--out")
    for name in OUTPUT_FILES:
        (staging / name).write_text(f"new {name}", encoding="utf-8")
    real_replace, calls = os.replace, [0]

    def replace_then_interrupt(source: object, target: object) -> None:
        real_replace(source, target)  # type: ignore[arg-type]
        calls[0] += 1
        if calls[0] == interrupted_at:
            raise KeyboardInterrupt

    monkeypatch.setattr(outputs.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        publish(staging, out_dir, "--out")
    monkeypatch.setattr(outputs.os, "replace", real_replace)
    assert {name: (out_dir / name).read_text(encoding="utf-8") for name in OUTPUT_FILES} == {
        name: f"old {name}" for name in OUTPUT_FILES
    }
