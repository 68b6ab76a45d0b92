"""``maemae sweep`` refuses a bad sweep file or ``--cluster`` address in one line naming the key or option,
the value and what was expected (exit 2, no traceback), before any trial runs: an unknown section or key is
an error, not a default left in its place, and a wrong type is never truncated or guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.backtest.sweep import SweepSpec, read_spec
from maemae.backtest.sweep_backends import DaskBackend, LocalBackend, checked_address
from maemae.cli import main
from tests.backtest.test_sweep_outputs import sweep_config
from tests.user_errors import refused

GRID = "[grid]\n'risk.stop_loss.pct' = [2, 5]\n"
SEARCH_KEYS = "(allowed: mode, samples, seed, metric)"


@pytest.fixture(autouse=True)
def no_trial_may_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial that runs, locally or on a cluster, fails the test: the refusal must come first."""

    def refuse(*_: object) -> list[dict[str, object]]:
        raise AssertionError("a trial ran before the sweep's options were checked")

    monkeypatch.setattr(LocalBackend, "run", refuse)
    monkeypatch.setattr(DaskBackend, "run", refuse)


def _sweep(market_root: Path, directory: Path, spec: str, *options: str) -> int:
    grid = directory / "grid.toml"
    grid.write_text(spec, encoding="utf-8")
    config = sweep_config(market_root, directory)
    out = directory / "out"
    return main(["sweep", "--config", str(config), "--grid", str(grid), "--out", str(out), *options])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            GRID + '[search]\nmetrc = "total_return"\n',
            f"search.metrc = 'total_return': unknown key {SEARCH_KEYS}",
        ),
        (GRID + "[search]\nsampels = 1\n", f"search.sampels = 1: unknown key {SEARCH_KEYS}"),
        (
            GRID + "[walk_forwrd]\nwindows = 2\n",
            "walk_forwrd = {...}: unknown section (allowed: grid, search, walk_forward)",
        ),
        (GRID + "[walk_forward]\nwindow = 2\n", "walk_forward.window = 2: unknown key (allowed: windows)"),
        (
            GRID + '[search]\nmode = "random"\nsamples = "ten"\n',
            "search.samples = 'ten': expected a whole number",
        ),
        (
            GRID + '[search]\nmode = "random"\nsamples = 1.9\n',
            "search.samples = 1.9: expected a whole number",
        ),
        (GRID + '[search]\nsamples = "10"\n', "search.samples = '10': expected a whole number"),
        (GRID + "[search]\nseed = 2.5\n", "search.seed = 2.5: expected a whole number"),
        (GRID + '[walk_forward]\nwindows = "two"\n', "walk_forward.windows = 'two': expected a whole number"),
        ('search = "random"\n' + GRID, "search = 'random': expected a table"),
        ("walk_forward = 2\n" + GRID, "walk_forward = 2: expected a table"),
        ("grid = 3\n", "grid = 3: expected a table"),
    ],
)
def test_sweep_file_when_a_key_is_unknown_or_of_the_wrong_type_then_one_line_exit_2(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str, expected: str
) -> None:
    line = refused(_sweep(market_root, tmp_path, spec, "--workers", "1"), capsys)
    assert line == f"error: --grid {tmp_path / 'grid.toml'}: {expected}"
    assert not (tmp_path / "out" / "sweep" / "trials.csv").exists()


def test_sweep_file_when_every_key_is_right_then_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "grid.toml"
    path.write_text(
        GRID + '[search]\nmode = "random"\nsamples = 3\nseed = 7\nmetric = "total_return"\n'
        "[walk_forward]\nwindows = 2\n",
        encoding="utf-8",
    )
    assert read_spec(path) == SweepSpec(
        {"risk.stop_loss.pct": [2, 5]}, mode="random", samples=3, seed=7, metric="total_return", windows=2
    )
    path.write_text(GRID, encoding="utf-8")
    assert read_spec(path) == SweepSpec({"risk.stop_loss.pct": [2, 5]})  # every section but the grid optional


@pytest.mark.parametrize(
    "address",
    [
        "nonsense",
        "tcp://127.0.0.1",
        "http://127.0.0.1:8786",
        "127.0.0.1:8786",
        "tcp://127.0.0.1:port",
        "tcp://127.0.0.1:0",
        "tcp://127.0.0.1:70000",
        "tcp://:8786",
    ],
)
def test_cluster_when_the_address_is_malformed_then_one_line_exit_2_before_any_trial(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], address: str
) -> None:
    line = refused(_sweep(market_root, tmp_path, GRID, "--cluster", address), capsys)
    assert line == (
        f"error: --cluster {address!r}: expected a Dask scheduler address like tcp://HOST:8786 (tcp://, a "
        "host and a port from 1 to 65535)"
    )


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tcp://localhost:1", "tcp://[::1]:65535"])
def test_cluster_when_the_address_is_well_formed_then_taken_as_given(address: str) -> None:
    assert checked_address(address) == address


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "[grid]\n'risk.cooldown.minutes' = [-1, 5]\n",
            "grid: risk.cooldown.minutes = -1: expected a number >= 1",
        ),
        (
            "[grid]\n'strategies.daily.params.short' = [50]\n",
            "grid: strategies.daily.params (short=50, long=10): short (50) must be less than long (10)",
        ),
        (
            "[grid]\n'risk.stop_loss.pct' = [2, 5]\n[walk_forward]\nwindows = 10\n",
            "walk_forward.windows = 10: 5 trading days are too few; expected at least 20 (2 a window)",
        ),
    ],
    ids=["grid-value", "grid-strategy-rule", "walk-forward-windows"],
)
def test_sweep_when_refused_for_its_grid_or_windows_then_one_line_exit_2_and_no_out_folder(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str, expected: str
) -> None:
    """A refusal leaves no trace of ``--out``, as ``backtest`` and ``compare`` leave none: the sweep made an
    empty ``out/sweep`` before its grid's values, strategies and windows were checked."""
    dates = ("--start", "2025-12-01", "--end", "2025-12-05")  # 5 trading days of the sample market
    line = refused(_sweep(market_root, tmp_path, spec, "--workers", "1", *dates), capsys)
    assert line == f"error: {expected}"
    assert not (tmp_path / "out").exists()


def test_sweep_file_when_saved_as_cp949_then_one_line_naming_its_line_and_utf8(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sweep file written by a Korean Windows editor (CP949) was the codec's words."""
    grid = tmp_path / "grid.toml"
    grid.write_bytes((GRID + "# 손절 2%, 5%\n").encode("cp949"))
    config = sweep_config(market_root, tmp_path)
    out = tmp_path / "out"
    line = refused(main(["sweep", "--config", str(config), "--grid", str(grid), "--out", str(out)]), capsys)
    assert line.startswith(f"error: {grid}: line 3: not UTF-8 text (byte 0x")
    assert "expected UTF-8" in line
    assert not out.exists()
