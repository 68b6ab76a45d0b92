"""The supervisor restarts a paper run killed, cut off from its exchange or that lost its store's instance
lock, and stops on anything else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from maemae.engine.supervisor import Supervisor
from maemae.errors import InstanceLockLost
from maemae.store.instance_lock import lock_file
from tests.engine.test_paper import DAY, KEY, _config, _serve, _wait_for_cursor


class FakeChild:
    pids = iter(range(100, 200))

    def __init__(self, code: int) -> None:
        self.code = code
        self.pid = next(self.pids)

    def wait(self) -> int:
        return self.code


def _supervisor(codes: list[int], lines: list[str], slept: list[float], **options: int) -> Supervisor:
    def start(_command: Sequence[str]) -> FakeChild:
        return FakeChild(codes.pop(0))

    return Supervisor(["worker"], lines.append, sleep=slept.append, start=start, **options)  # type: ignore[arg-type]


def test_supervisor_when_killed_or_connection_lost_then_restarts_with_backoff_until_done() -> None:
    lines: list[str] = []
    slept: list[float] = []
    assert _supervisor([-9, 7, 7, 0], lines, slept).run() == 0
    assert slept == [1.0, 2.0, 4.0]
    assert "worker ended by signal 9; restart 1 in 1 s" in lines[1]
    assert "worker ended by code 7; restart 2 in 2 s" in lines[3]
    assert lines[-1] == "supervisor: worker exited with code 0"


def test_supervisor_when_the_instance_lock_is_lost_then_restarts() -> None:
    lines: list[str] = []
    slept: list[float] = []
    assert _supervisor([InstanceLockLost.exit_code, 0], lines, slept).run() == 0
    assert slept == [1.0]
    assert f"worker ended by code {InstanceLockLost.exit_code}; restart 1 in 1 s" in lines[1]


@pytest.mark.parametrize("code", [1, 2, 6])
def test_supervisor_when_worker_fails_for_good_then_no_restart(code: int) -> None:
    slept: list[float] = []
    assert _supervisor([code], [], slept).run() == code
    assert slept == []


def test_supervisor_when_restarts_run_out_then_gives_up() -> None:
    lines: list[str] = []
    assert _supervisor([-9, -9, -9], lines, [], max_restarts=2).run() == 1
    assert "giving up" in lines[-1]


def _supervised_paper(config_file: Path, exchange: str) -> list[str]:
    """``maemae paper --supervise`` of the day on the exchange server at ``exchange``, fast."""
    command = [sys.executable, "-m", "maemae.cli", "paper", "--config", str(config_file), "--supervise"]
    return [*command, "--replay", DAY.isoformat(), "--exchange", exchange, "--speed", "3000"]


@pytest.mark.whole_day
def test_paper_supervised_when_worker_killed_then_restarted_and_the_day_completes(
    market_root: Path, tmp_path: Path
) -> None:
    config_file = _config(market_root, tmp_path)
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    server, exchange = _serve(config_file, env)
    try:
        command = _supervised_paper(config_file, exchange)
        supervisor = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        first = supervisor.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("supervisor: worker pid")
        worker = int(first.split()[3])
        _wait_for_cursor(f"sqlite:///{tmp_path}/state.db", 60, 60)
        os.kill(worker, signal.SIGKILL)
        out, _ = supervisor.communicate(timeout=180)
        assert supervisor.returncode == 0, out
        assert "worker ended by signal 9; restart 1 in 1 s" in out
        assert "resumed 2025-12-03 at step" in out
        assert out.rstrip().endswith("supervisor: worker exited with code 0")
    finally:
        server.kill()
        server.wait(10)


@pytest.mark.whole_day
def test_paper_supervised_when_its_lock_file_is_removed_then_restarted_relocked_and_the_day_completes(
    market_root: Path, tmp_path: Path
) -> None:
    config_file = _config(market_root, tmp_path)
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    server, exchange = _serve(config_file, env)
    try:
        command = _supervised_paper(config_file, exchange)
        supervisor = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        _wait_for_cursor(f"sqlite:///{tmp_path}/state.db", 60, 60)
        os.remove(lock_file(tmp_path / "state.db"))
        out, err = supervisor.communicate(timeout=180)
        assert supervisor.returncode == 0, out + err
        assert "this run lost its instance lock (its lock file " in err
        assert "worker ended by code 7; restart 1 in 1 s" in out
        assert "resumed 2025-12-03 at step" in out
        assert "book: maemae's orders, holdings and cash equal the venue's" in out
        assert out.rstrip().endswith("supervisor: worker exited with code 0")
        assert lock_file(tmp_path / "state.db").exists()  # the restarted worker locked a new one
    finally:
        server.kill()
        server.wait(10)


def test_paper_when_exchange_goes_away_then_exit_code_7_and_one_line(
    market_root: Path, tmp_path: Path
) -> None:
    config_file = _config(market_root, tmp_path)
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    server, exchange = _serve(config_file, env)
    command = [sys.executable, "-m", "maemae.cli", "paper", "--config", str(config_file)]
    command += ["--replay", DAY.isoformat(), "--exchange", exchange, "--speed", "3000"]
    paper = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_cursor(f"sqlite:///{tmp_path}/state.db", 60, 60)
    server.kill()
    server.wait(10)
    _, err = paper.communicate(timeout=60)
    assert paper.returncode == 7
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    # one error line, last; the console shows warnings before it (here the error alert, logged as it is sent)
    assert [line for line in lines if line.startswith("error:")] == lines[-1:]
    assert lines[-1].startswith("error: sim exchange: connection lost")
    # and what to do next, as a stop by Ctrl-C says it: nothing is sent twice by starting it again
    assert lines[-1].endswith(
        "; the state is saved: the same command goes on from it (--supervise restarts it by itself)"
    )
