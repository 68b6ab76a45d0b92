import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from maemae.backtest.metrics import SHORT_RUN_SESSIONS
from maemae.config import MaemaeConfig, parse_config


def make_config(root: Path, **sections: Any) -> MaemaeConfig:
    """A backtest config on ``root`` with short averages, so 40 sessions give signals."""
    base: dict[str, Any] = {
        "data": {"root": str(root)},
        "universe": {"safe_asset_code": "357870", "max_stocks": 8},
        "strategies": {"daily": {"class": "sma_daily", "params": {"short": 3, "long": 10}}},
        "backtest": {"initial_cash": 50_000_000},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
    return parse_config(base)


def write_cli_config(
    tmp_path: Path, root: Path, *, universe: str = "", backtest: str = "", extra: str = ""
) -> Path:
    """``tmp_path/cfg.toml`` for the commands: the test market at ``root``, a small universe (plus the
    ``universe`` lines), a quick moving average, the ``backtest`` lines, logs under ``tmp_path/log`` (not on
    the console), then ``extra`` sections."""
    path = tmp_path / "cfg.toml"
    path.write_text(
        f"""
[data]
root = "{root}"
[universe]
safe_asset_code = "357870"
max_stocks = 8
{universe}
[strategies.daily]
class = "sma_daily"
[strategies.daily.params]
short = 3
long = 10
[backtest]
{backtest}
[logging]
dir = "{tmp_path / "log"}"
console = false
{extra}
""",
        encoding="utf-8",
    )
    return path


def short_run_warning(sessions: int) -> str:
    """The line a run of fewer than ``SHORT_RUN_SESSIONS`` sessions ends with: every run on the 40-session
    test market is one."""
    return (
        f"warning: the run has {sessions} sessions: CAGR, Sharpe and turnover are annualised from them and "
        f"say little; {SHORT_RUN_SESSIONS} sessions or more give them meaning"
    )


def maemae_on_a_full_disk(*args: str) -> subprocess.CompletedProcess[str]:
    """``maemae ARGS`` in a new process whose files may not grow past 2 KiB, as on a full disk (root
    ignores a read-only folder): the outputs' writes fail with EFBIG after the folder passed its check."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, resource.RLIM_INFINITY))

    command = [sys.executable, "-m", "maemae.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, preexec_fn=limit, check=False)


def read_only_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``folder`` (existing) refuse new entries, as to a user without write permission. Root writes
    through permission bits, so under root a folder made in it is refused as the system refuses a user."""
    folder.chmod(0o555)
    if os.geteuid() != 0:
        return
    real_mkdir = os.mkdir

    def mkdir(path: str | Path, mode: int = 0o777, **kwargs: Any) -> None:
        if Path(path).parent == folder:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        real_mkdir(path, mode, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
