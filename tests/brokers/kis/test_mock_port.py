"""`maemae kis-mock --port`: a port out of range or already taken is one line and exit 2, before the server
starts (it was a traceback from uvicorn's thread, or uvicorn's "ERROR:" line, then an "error:" line).

Run as a process of its own, as a user runs it: what uvicorn's thread prints goes to the real stderr, and a
server that did start is stopped by the timeout instead of blocking the test.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.test_run import _config as run_config


def _kis_mock(config: Path, port: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAEMAE_PURE_PYTHON": "1"}
    args = [sys.executable, "-m", "maemae.cli", "kis-mock", "--config", str(config), "--port", str(port)]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("port", [99999, -1])
def test_kis_mock_when_port_out_of_range_then_one_line_exit_2(
    market_root: Path, tmp_path: Path, port: int
) -> None:
    done = _kis_mock(run_config(market_root, tmp_path), port)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: kis-mock --port {port}: expected a port number from 1 to 65535 (or 0 for any free one)"
    ]
    assert done.stdout == ""


def test_kis_mock_when_port_in_use_then_one_line_exit_2(market_root: Path, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _kis_mock(run_config(market_root, tmp_path), port)
    assert done.returncode == 2
    in_use = os.strerror(errno.EADDRINUSE)
    assert done.stderr.splitlines() == [
        f"error: kis-mock --port {port}: cannot listen on 127.0.0.1: {in_use}"
    ]
    assert "listening" not in done.stdout
