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


def test_a_command_without_its_own_ctrl_c_line_when_interrupted_then_one_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """typer turns a KeyboardInterrupt into exit 130 without a word; the commands that write (backtest,
    data, run, paper) say what they leave, and every other one at least says that it was interrupted."""
    from maemae.cli import config_cmd, main

    def pressed(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(config_cmd, "read_config_file", pressed)
    assert main(["config", "check", "examples/minimal.toml"]) == 130
    captured = capsys.readouterr()
    assert captured.err == "error: maemae config check interrupted by Ctrl-C before it finished\n"
    assert captured.out == ""
