"""A staging folder a killed run left (``.maemae-sample-*``, ``.maemae-run-*``) is removed by the next run
that writes in the same place; the folder of a run still going, one holding the files a swap moved aside,
and one without a lock file are kept. Before, every leftover stayed until removed by hand, and one in an
empty ``--dir`` made ``data sample`` refuse the folder as holding other files."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maemae.backtest.outputs import STAGING_PREFIX as RUN_PREFIX
from maemae.backtest.outputs import staged
from maemae.cli import main
from maemae.data.sample.target import STAGING_PREFIX as SAMPLE_PREFIX
from maemae.data.staging_folders import (
    OWNER_FILE,
    PREVIOUS,
    make_staging,
    release,
    remove_leftovers,
    remove_staging,
)
from tests.support.stopping import maemae, started

# a process that takes a staging folder's lock as a run does, says so, and waits to be killed
_HOLDER = """
import sys, time
from pathlib import Path
from maemae.data.staging_folders import make_staging
folder = make_staging(Path(sys.argv[1]), sys.argv[2])
print(folder, flush=True)
time.sleep(120)
"""


def _held_by_another_process(parent: Path, prefix: str) -> tuple[subprocess.Popen[str], Path]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(parent), prefix], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    return holder, Path(holder.stdout.readline().strip())


def test_leftovers_when_the_run_holding_a_folder_is_alive_keep_it_and_remove_it_once_killed(
    tmp_path: Path,
) -> None:
    holder, folder = _held_by_another_process(tmp_path, RUN_PREFIX)
    try:
        assert remove_leftovers(tmp_path, RUN_PREFIX) == []
        assert folder.is_dir()
    finally:
        holder.kill()
        holder.wait(10)
    assert remove_leftovers(tmp_path, RUN_PREFIX) == [folder]  # killed: the system let go of its lock
    assert not folder.exists()


def test_leftovers_keep_a_folder_holding_previous_files_one_without_a_lock_file_and_this_process_s(
    tmp_path: Path,
) -> None:
    swapped = make_staging(tmp_path, RUN_PREFIX)
    (swapped / PREVIOUS).mkdir()
    (swapped / PREVIOUS / "summary.json").write_text("{}", encoding="utf-8")
    unlocked = tmp_path / f"{RUN_PREFIX}older"
    unlocked.mkdir()
    ours = make_staging(tmp_path, RUN_PREFIX)
    other = tmp_path / f"{SAMPLE_PREFIX}x"  # another prefix: not this command's
    other.mkdir()
    (other / OWNER_FILE).touch()
    try:
        release(swapped)  # as a failed publish leaves it: its files are the user's to put back
        assert remove_leftovers(tmp_path, RUN_PREFIX) == []
        assert [path for path in (swapped, unlocked, ours, other) if not path.is_dir()] == []
    finally:
        remove_staging(ours)


def test_backtest_outputs_when_a_killed_run_left_its_staging_folder_then_the_next_run_removes_it(
    tmp_path: Path,
) -> None:
    holder, folder = _held_by_another_process(tmp_path, RUN_PREFIX)
    holder.kill()
    holder.wait(10)
    assert folder.is_dir()
    with staged(tmp_path, "--out") as staging:
        assert staging.is_dir()
        assert not folder.exists()
    assert [path.name for path in tmp_path.iterdir()] == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_data_sample_when_killed_while_writing_then_the_same_command_runs_in_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real case: ``kill -9`` while the sample is written leaves its staging folder in an empty
    ``--dir``; the same command then writes the market there (it refused the folder as holding other files)
    and leaves no staging folder."""
    root = tmp_path / "market"
    command = maemae("data", "sample", "--dir", str(root), "--stocks", "30", "--days", "40")
    with started(command) as child:
        deadline = time.monotonic() + 60
        while not any(root.glob(f"{SAMPLE_PREFIX}*/*")):  # its staging folder, with something in it
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the sample's staging folder never appeared"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert [path.name[: len(SAMPLE_PREFIX)] for path in root.iterdir()] == [SAMPLE_PREFIX]
    assert main(["data", "sample", "--dir", str(root), "--stocks", "2", "--days", "3"]) == 0, (
        capsys.readouterr()
    )
    assert not list(root.glob(f"{SAMPLE_PREFIX}*"))
