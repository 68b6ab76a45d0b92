"""The trading process behind the dashboard's Start and Stop buttons.

Start runs ``maemae run --config <file> <web.run_args>`` as a child in its own session (closing the dashboard
does not stop trading); Stop sends it SIGTERM, on which ``maemae run`` saves its state and exits, so a later
start resumes where it stopped. Its output goes to a file beside the logs. A run started elsewhere is not
stopped from here: halt it instead, which works whatever started it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from maemae.errors import ConfigError

STOP_WAIT_S = 60


@dataclass(frozen=True, slots=True)
class ProcessState:
    running: bool
    pid: int | None
    exit_code: int | None
    output: list[str]  # the last lines it printed


class TradingProcess:
    def __init__(self, config_file: Path, run_args: list[str], output: Path) -> None:
        self.command = [sys.executable, "-m", "maemae.cli", "run", "--config", str(config_file), *run_args]
        self.output = output
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def start(self) -> int:
        with self._lock:
            if self._child is not None and self._child.poll() is None:
                raise ConfigError(f"start: a trading process (pid {self._child.pid}) is already running")
            self.output.parent.mkdir(parents=True, exist_ok=True)
            with self.output.open("ab") as sink:
                self._child = subprocess.Popen(
                    self.command,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            return self._child.pid

    def stop(self) -> int:
        """SIGTERM and wait for the exit (the state is saved by then); returns the exit code."""
        with self._lock:
            child = self._child
            if child is None or child.poll() is not None:
                raise ConfigError("stop: no trading process started from this dashboard is running")
            child.send_signal(signal.SIGTERM)
            try:
                return child.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                child.kill()
                return child.wait()

    def state(self, lines: int = 5) -> ProcessState:
        child = self._child
        code = child.poll() if child is not None else None
        output: list[str] = []
        if self.output.exists():
            with self.output.open(encoding="utf-8", errors="replace") as handle:
                output = [line.rstrip() for line in deque(handle, maxlen=lines)]
        return ProcessState(
            running=child is not None and code is None,
            pid=child.pid if child is not None else None,
            exit_code=code,
            output=output,
        )
