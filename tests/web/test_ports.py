"""A port out of range or already taken, for ``maemae sim serve`` and ``maemae dashboard``: one line, exit 2,
no traceback, in real processes, and nothing started (no exchange listening, no token or store made)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.test_paper import _config
from tests.user_errors import one_error_line
from tests.web.conftest import write_config


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port a real listener holds for the test."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def _maemae(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": "a-secret-of-sixteen-chars"}
    return subprocess.run(
        [sys.executable, "-m", "maemae.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def _refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    return one_error_line(result.stderr)


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_sim_serve_when_the_port_is_out_of_range_then_one_line(
    market_root: Path, tmp_path: Path, port: str
) -> None:
    config = _config(market_root, tmp_path)
    line = _refused(_maemae("sim", "serve", "--config", str(config), "--port", port))
    assert line == f"error: --port = {port}: expected a port number from 1 to 65535 (or 0: any free port)"


def test_sim_serve_when_the_port_is_taken_then_one_line_and_no_exchange(
    market_root: Path, tmp_path: Path, taken_port: int
) -> None:
    config = _config(market_root, tmp_path)
    result = _maemae("sim", "serve", "--config", str(config), "--port", str(taken_port))
    line = _refused(result)
    assert line == f"error: --port = {taken_port}: cannot listen on 127.0.0.1: Address already in use"
    assert "listening" not in result.stdout


def test_sim_serve_when_the_port_is_taken_then_refused_before_the_market_is_read(
    tmp_path: Path, taken_port: int
) -> None:
    """The port is bound first: a market folder that does not exist is never reached (it would be the
    error otherwise, after the wait of loading a real market)."""
    config = _config(tmp_path / "no-market-here", tmp_path)
    line = _refused(_maemae("sim", "serve", "--config", str(config), "--port", str(taken_port)))
    assert line == f"error: --port = {taken_port}: cannot listen on 127.0.0.1: Address already in use"


@pytest.mark.parametrize("port", ["99999", "-5"])
def test_dashboard_when_the_port_is_out_of_range_then_one_line_and_nothing_made(
    market_root: Path, tmp_path: Path, port: str
) -> None:
    config = write_config(market_root, tmp_path, [])
    line = _refused(_maemae("dashboard", "--config", str(config), "--port", port))
    assert line == f"error: --port / web.port = {port}: expected a port number from 1 to 65535"
    assert not (tmp_path / "web-token").exists()
    assert not (tmp_path / "state.db").exists()


def test_dashboard_when_the_port_is_taken_then_one_line_and_nothing_made(
    market_root: Path, tmp_path: Path, taken_port: int
) -> None:
    config = write_config(market_root, tmp_path, [])
    line = _refused(_maemae("dashboard", "--config", str(config), "--port", str(taken_port)))
    expected = f"--port / web.port = {taken_port}: cannot listen on 127.0.0.1: Address already in use"
    assert line == f"error: {expected}"
    assert not (tmp_path / "web-token").exists()


def test_dashboard_when_the_store_does_not_exist_then_refused_and_nothing_made(
    market_root: Path, tmp_path: Path
) -> None:
    """A dashboard on a mistyped store.url used to create an empty store there and serve it: an instance
    with nothing in it, whose Halt button stopped nothing."""
    config = write_config(market_root, tmp_path, [])
    result = _maemae("dashboard", "--config", str(config), "--port", "18766")
    assert result.returncode == 6, result
    line = one_error_line(result.stderr)
    assert line == (
        f"error: store.url = sqlite:///{tmp_path}/state.db: {tmp_path}/state.db does not exist: "
        "check the path, or run `maemae db migrate`"
    )
    assert not (tmp_path / "state.db").exists()
    assert not (tmp_path / "web-token").exists()
    assert not (tmp_path / "log").exists()
