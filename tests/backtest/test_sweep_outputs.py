"""``maemae sweep --out``: a folder that cannot take the outputs is refused in one line before any trial runs,
and the four outputs are written as one set, each whole, never half-written or mixed with an older sweep."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from maemae.backtest.sweep import SweepSpec, sweep
from maemae.backtest.sweep_backends import LocalBackend
from maemae.backtest.sweep_report import SWEEP_FILES, sweep_into
from maemae.cli import main
from tests.backtest.conftest import maemae_on_a_full_disk, make_config
from tests.user_errors import one_error_line, refused


def sweep_config(market_root: Path, directory: Path) -> Path:
    path = directory / "c.toml"
    path.write_text(
        f'[data]\nroot = "{market_root}"\n[universe]\nsafe_asset_code = "357870"\nmax_stocks = 8\n'
        '[strategies.daily]\nclass = "sma_daily"\nparams = { short = 3, long = 10 }\n'
        f'[logging]\ndir = "{directory}/log"\nconsole = false\n',
        encoding="utf-8",
    )
    return path


def sweep_args(market_root: Path, directory: Path, out: str) -> list[str]:
    grid = directory / "grid.toml"
    grid.write_text("[grid]\n'risk.stop_loss.pct' = [2, 5]\n", encoding="utf-8")
    config = sweep_config(market_root, directory)
    return ["sweep", "--config", str(config), "--grid", str(grid), "--out", out, "--workers", "1"]


@pytest.fixture
def no_trial_may_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial that runs fails the test: the refusal must come before the sweep's work."""

    def refuse(*_: object) -> list[dict[str, object]]:
        raise AssertionError("a trial ran before --out was checked")

    monkeypatch.setattr(LocalBackend, "run", refuse)


@pytest.mark.usefixtures("no_trial_may_run")
def test_sweep_when_out_is_a_file_then_one_line_before_any_trial(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    line = refused(main(sweep_args(market_root, tmp_path, str(blocker))), capsys)
    assert line == f"error: --out '{blocker}': is a file; expected a folder (existing, or one to create)"


@pytest.mark.usefixtures("no_trial_may_run")
def test_sweep_when_out_cannot_be_created_then_one_line_before_any_trial(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused(main(sweep_args(market_root, tmp_path, "/proc/nope")), capsys)
    assert line.startswith("error: --out '/proc/nope': ")
    assert not Path("/proc/nope").exists()


@pytest.mark.usefixtures("no_trial_may_run")
def test_sweep_when_an_output_name_is_a_folder_then_one_line_before_any_trial(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out" / "sweep" / "trials.csv").mkdir(parents=True)
    line = refused(main(sweep_args(market_root, tmp_path, str(tmp_path / "out"))), capsys)
    assert line == (
        f"error: --out '{tmp_path}/out': '{tmp_path}/out/sweep/trials.csv' is a folder; expected a file"
    )


def test_sweep_when_its_outputs_cannot_be_written_then_the_line_names_the_out_given(
    market_root: Path, tmp_path: Path
) -> None:
    """As ``compare``'s: the ``--out`` given, then the ``sweep`` folder made in it (not ``'x/sweep'``)."""
    out = tmp_path / "out"
    child = maemae_on_a_full_disk(*sweep_args(market_root, tmp_path, str(out)))
    assert child.returncode == 1, child.stderr
    assert one_error_line(child.stderr) == (
        f"error: --out {str(out)!r}: could not write the sweep's outputs in {str(out / 'sweep')!r} "
        "(File too large); the files there are unchanged"
    )
    assert not out.exists()


# The child writes the set with a file-size limit (as on a full disk): every file is refused past 200 bytes.
_WRITE_WITH_A_FULL_DISK = textwrap.dedent(
    """
    import pickle, resource, signal, sys
    from pathlib import Path
    from maemae.backtest.sweep_report import sweep_into
    from maemae.errors import MaemaeError

    result = pickle.loads(Path(sys.argv[1]).read_bytes())
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, resource.RLIM_INFINITY))
    try:
        sweep_into(Path(sys.argv[2]), "--out", lambda: result)
    except MaemaeError as error:
        print(error)
    """
)


def test_write_sweep_when_the_disk_fills_then_the_previous_set_stays_whole_and_no_temporary_is_left(
    market_root: Path, tmp_path: Path
) -> None:
    config = make_config(market_root)
    result = sweep(config, SweepSpec({"risk.stop_loss.pct": [2, 5]}, metric="total_return"), LocalBackend(1))
    out = tmp_path / "sweep"
    old = {name: f"old {name}\n".encode() for name in SWEEP_FILES}
    out.mkdir()
    for name, data in old.items():
        (out / name).write_bytes(data)
    pickled = tmp_path / "result.pickle"
    pickled.write_bytes(pickle.dumps(result))

    child = subprocess.run(
        [sys.executable, "-c", _WRITE_WITH_A_FULL_DISK, str(pickled), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == (
        f"--out '{out}': could not write the sweep's outputs (File too large); the files there are unchanged"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old  # no temporary left beside them

    assert sweep_into(out, "--out", lambda: result) is result
    assert sorted(p.name for p in out.iterdir()) == sorted(SWEEP_FILES)
    assert "maemae sweep" in (out / "sweep.html").read_text(encoding="utf-8")


@pytest.mark.usefixtures("no_trial_may_run")
@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (
            ["--start", "2027-06-01", "--end", "2027-07-01"],
            "--start 2027-06-01 --end 2027-07-01: no stored trading day in that range; data.root = "
            "'{root}' holds daily bars from {first} to {last}",
        ),
        (
            ["--start", "2027-06-01"],
            "--start 2027-06-01: no stored trading day in that range; data.root = '{root}' holds daily bars "
            "from {first} to {last}",
        ),
        (
            ["--start", "2025-12-10", "--end", "2025-12-01"],
            "--start 2025-12-10 is after --end 2025-12-01: expected a start on or before the end",
        ),
    ],
)
def test_sweep_when_the_range_misses_the_store_then_one_line_naming_what_was_given_and_what_is_stored(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], dates: list[str], expected: str
) -> None:
    from maemae.data.bars import Timeframe
    from maemae.data.store import BarStore

    daily = [s for s in BarStore(market_root).info() if s.timeframe is Timeframe.DAY]
    first, last = min(s.first for s in daily).date(), max(s.last for s in daily).date()
    args = sweep_args(market_root, tmp_path, str(tmp_path / "out"))
    line = refused(main([*args, *dates]), capsys)
    assert line == "error: " + expected.format(root=market_root, first=first, last=last)


def test_sweep_when_an_optuna_set_breaks_a_strategy_rule_then_one_grid_line_and_no_out_folder(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Optuna set is known only once the study asks for it, so its trial is the first to load its
    strategies: the refusal is still the grid's line, and the folder staged for the outputs goes with it."""
    args = sweep_args(market_root, tmp_path, str(tmp_path / "out"))
    (tmp_path / "grid.toml").write_text(
        "[grid]\n'strategies.daily.params.short' = [50]\n[search]\nmode = 'optuna'\nsamples = 1\n",
        encoding="utf-8",
    )
    line = refused(main(args), capsys)
    assert line == (
        "error: grid: strategies.daily.params (short=50, long=10): short (50) must be less than long (10)"
    )
    assert not (tmp_path / "out").exists()
