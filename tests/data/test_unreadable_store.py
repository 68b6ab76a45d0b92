"""A file or folder of the store that this user may not read is one line naming it, exit 2, for a backtest and
for ``data info`` alike. A backtest ended in an 84-line PermissionError traceback on such a file; a folder
that could not be read (``day/``) read as an empty one: the backtest said the store held no daily bars, and
``data info`` listed the minute bars alone and exited 0.

Root reads every file whatever its mode, so as root the commands run without the capabilities that allow it
(``setpriv``), as a plain user's would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from maemae.data.sample import generate_sample_market
from tests.market_config import market_toml
from tests.user_errors import one_error_line

WITHOUT_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="file modes are POSIX"),
    pytest.mark.skipif(
        os.geteuid() == 0 and shutil.which("setpriv") is None,
        reason="as root a file's mode does not stop a read, and setpriv (to drop that power) is missing",
    ),
]


def maemae(*args: str) -> subprocess.CompletedProcess[str]:
    """``maemae ARGS`` in a new process that file modes apply to."""
    prefix = WITHOUT_OVERRIDE if os.geteuid() == 0 else []
    command = [*prefix, sys.executable, "-m", "maemae.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def market(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A small sample store and a backtest config on it; every mode set back afterwards, so the test's
    folder can be removed."""
    root = tmp_path / "market"
    generate_sample_market(root, stocks=3, days=30, seed=4)
    config = tmp_path / "config.toml"
    config.write_text(market_toml(root, mode="backtest"), encoding="utf-8")
    yield root, config
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def backtest(config: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return maemae("backtest", "--config", str(config), "--out", str(tmp_path / "out"))


def test_backtest_and_info_when_a_bar_file_cannot_be_read_name_it_in_one_line(
    market: tuple[Path, Path], tmp_path: Path
) -> None:
    root, config = market
    unreadable = sorted((root / "day").iterdir())[0]
    unreadable.chmod(0)
    expected = (
        f"error: {unreadable}: cannot read this file (permission denied): give this user read access to it "
        "(its owner and mode), then run the command again"
    )
    for done in (backtest(config, tmp_path), maemae("data", "info", "--dir", str(root))):
        assert done.returncode == 2, done.stderr
        assert one_error_line(done.stderr) == expected


@pytest.mark.parametrize("folder", ["day", "minute"])
def test_backtest_and_info_when_a_folder_of_the_store_cannot_be_read_name_it_in_one_line(
    market: tuple[Path, Path], tmp_path: Path, folder: str
) -> None:
    root, config = market
    (root / folder).chmod(0)
    expected = (
        f"error: {root / folder}: cannot read this folder (permission denied): give this user read access to "
        "it (its owner and mode), then run the command again"
    )
    for done in (backtest(config, tmp_path), maemae("data", "info", "--dir", str(root))):
        assert done.returncode == 2, done.stderr
        assert one_error_line(done.stderr) == expected
