"""Stopping maemae the way a terminal's Ctrl-C (or a service manager's SIGTERM) does, once the command has
reached a given point: the one start, wait, signal and clean-up the stop tests share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# ``maemae ARGS`` (argv[3:]) with one of its functions (argv[1], ``module:name``) made to touch a file
# (argv[2]) and wait when called: a point to press Ctrl-C at where maemae has no hook a config could reach,
# such as the market loading before the day; the signal cuts the wait short as it would the real work
_PAUSED = """
import importlib, sys, time
from pathlib import Path

module, name = sys.argv[1].split(":")
owner = importlib.import_module(module)
real = getattr(owner, name)

def paused(*args, **kwargs):
    Path(sys.argv[2]).touch()
    time.sleep(120)
    return real(*args, **kwargs)

setattr(owner, name, paused)
from maemae.cli import main
sys.exit(main(sys.argv[3:]))
"""


def maemae(*args: str) -> list[str]:
    """The command line of ``maemae ARGS`` in a new interpreter."""
    return [sys.executable, "-m", "maemae.cli", *args]


def paused_at(target: str, marker: Path, *args: str) -> list[str]:
    """The command line of ``maemae ARGS`` whose ``target`` (``module:function``, as the caller looks it up)
    touches ``marker`` and waits when it is called."""
    return [sys.executable, "-c", _PAUSED, target, str(marker), *args]


@contextmanager
def started(command: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """``command`` in a process group of its own, as a terminal starts one (so Ctrl-C reaches all of it, a
    sweep's workers too), its output captured; killed, group and all, if the test leaves it running."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def wait_until(
    process: subprocess.Popen[str],
    reached: Callable[[], bool],
    what: str,
    timeout: float = 90,
    every: float = 0.05,
) -> None:
    """Wait until ``reached()``; fail, naming ``what``, when the process ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while not reached():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{what}: not reached in {timeout:g} s"
        time.sleep(every)


def press(process: subprocess.Popen[str], how: signal.Signals = signal.SIGINT) -> tuple[str, str]:
    """Send ``how`` to the process's group, as a terminal's Ctrl-C does; its output once it ends."""
    os.killpg(process.pid, how)
    return process.communicate(timeout=60)


def stopped_when(
    command: list[str],
    reached: Callable[[], bool],
    what: str,
    how: signal.Signals = signal.SIGINT,
    env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    """Start ``command``, send ``how`` once ``reached()``; its exit code, stdout and stderr."""
    with started(command, env) as process:
        wait_until(process, reached, what)
        out, err = press(process, how)
    return process.returncode, out, err
