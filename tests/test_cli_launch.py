"""Ctrl-C while the ``maemae`` command is still importing its modules (a second or two: typer, rich, numpy,
pandas) is one line and exit 130, like every other Ctrl-C line; it used to print a KeyboardInterrupt
traceback and die by SIGINT. Tested through the installed console script, the entry point users run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from maemae.launch import INTERRUPTED


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
@pytest.mark.parametrize("command", [["backtest", "--help"], ["paper", "--help"]])
def test_maemae_when_ctrl_c_while_importing_then_one_line_and_exit_130(command: list[str]) -> None:
    script = Path(sys.executable).parent / "maemae"
    # Python reports each import as it completes: the signal goes once typer is in, while the CLI's own
    # modules still load
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    child = subprocess.Popen(
        [script, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert child.stderr is not None
    lines = []
    for line in child.stderr:
        if not line.startswith("import time:"):
            lines.append(line.rstrip("\n"))
        elif line.split("|")[-1].strip() == "typer" and child.poll() is None:
            child.send_signal(signal.SIGINT)
    stdout, _ = child.communicate(timeout=60)
    assert child.returncode == 130, lines
    assert lines == [INTERRUPTED]
    assert stdout == ""
