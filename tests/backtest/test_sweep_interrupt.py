"""Ctrl-C during ``maemae sweep`` (SIGINT to the terminal's process group, so the workers get it too) stops
the sweep within seconds: the trials not started are cancelled, the workers end, it exits 130 and writes no
outputs. The pool's shutdown used to wait for every queued trial first. A Ctrl-C while the pool is still
starting (its fork server importing maemae, a worker just forked) is the same: one line, no traceback from
any process."""

from __future__ import annotations

import sys
import time
from functools import partial
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from tests.backtest.test_sweep_outputs import sweep_config
from tests.support.stopping import maemae, press, started, wait_until

# 108 sets, each on the whole range and on two train windows: about 15 s on two workers here, far longer
# than the few seconds a stop may take
GRID = """
[grid]
"strategies.daily.params.short" = [2, 3, 4, 5, 6, 7]
"strategies.daily.params.long" = [8, 10, 12, 15, 20, 25]
"risk.stop_loss.pct" = [1, 2, 3]
[walk_forward]
windows = 3
"""


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_sweep_when_ctrl_c_mid_sweep_then_stops_within_seconds_exits_130_and_writes_nothing(
    market_root: Path, tmp_path: Path
) -> None:
    command, out = _sweep_command(market_root, tmp_path)
    with started(command) as child:
        sweep = psutil.Process(child.pid)
        wait_until(child, partial(_two_workers_busy, sweep), "the workers' start", timeout=60, every=0.1)
        time.sleep(1.0)  # trials running, many more queued
        family = [sweep, *sweep.children(recursive=True)]
        pressed = time.monotonic()
        out_text, err_text = press(child)
        took = time.monotonic() - pressed
    assert child.returncode == 130, err_text
    assert took < 5, f"the sweep ran {took:.1f} s after Ctrl-C"
    assert "Traceback" not in err_text
    assert out_text == ""
    assert not (out / "sweep").exists() or not any((out / "sweep").iterdir())  # nothing, not even a temporary
    _, alive = psutil.wait_procs(family, timeout=10)
    assert not alive, f"processes left running: {alive}"


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
@pytest.mark.parametrize("moment", ["fork-server-starting", "first-worker-forked"])
def test_sweep_when_ctrl_c_while_the_pool_starts_exits_130_without_a_traceback(
    market_root: Path, tmp_path: Path, moment: str
) -> None:
    command, out = _sweep_command(market_root, tmp_path)
    with started(command) as child:
        sweep = psutil.Process(child.pid)
        wait_until(
            child, partial(_pool_reached, sweep, moment), f"the pool's {moment}", timeout=60, every=0.005
        )
        family = [sweep, *sweep.children(recursive=True)]
        _, err_text = press(child)
    assert child.returncode == 130, err_text
    assert "Traceback" not in err_text, err_text
    assert err_text.strip().count("\n") == 0, err_text  # the sweep's one line
    assert not (out / "sweep").exists() or not any((out / "sweep").iterdir())
    _, alive = psutil.wait_procs(family, timeout=10)
    assert not alive, f"processes left running: {alive}"


def _sweep_command(market_root: Path, tmp_path: Path) -> tuple[list[str], Path]:
    """The sweep on two workers, and its --out."""
    config = sweep_config(market_root, tmp_path)
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    out = tmp_path / "out"
    args = ["--config", str(config), "--grid", str(grid), "--out", str(out), "--workers", "2"]
    return maemae("sweep", *args), out


def _two_workers_busy(sweep: psutil.Process) -> bool:
    """Whether two of the sweep's pool workers are running trials."""
    return len([p for p in sweep.children(recursive=True) if not _fork_server(p, sweep) and _busy(p)]) >= 2


def _pool_reached(sweep: psutil.Process, moment: str) -> bool:
    """Whether the sweep's process pool has reached ``moment``: its fork server started (it then imports
    maemae for about a second), or the fork server's first worker forked (it then starts its trial loop)."""
    try:
        servers = [p for p in sweep.children() if _fork_server(p, sweep)]
        if moment == "fork-server-starting":
            return bool(servers)
        return any(server.children() for server in servers)
    except psutil.NoSuchProcess:
        return False


def _fork_server(process: psutil.Process, sweep: psutil.Process) -> bool:
    """The pool's fork server: busy importing maemae for a second at the start, but running no trial. Its
    workers are its forks, with its command line, one generation further down."""
    try:
        return process.ppid() == sweep.pid and "forkserver" in " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return False


def _busy(process: psutil.Process) -> bool:
    """A pool worker that is running a trial (the fork server and the resource tracker mostly sleep)."""
    try:
        return bool(process.cpu_percent(interval=0.05) > 20)
    except psutil.NoSuchProcess:
        return False
