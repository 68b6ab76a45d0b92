"""``maemae sim serve`` outlives a stray caller: a browser, a port scan, a client with another key or a KIS
client given its address by mistake is turned away alone, and the exchange (every trader's orders and
holdings) keeps serving the traders that have the key."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from pathlib import Path

import httpx
import pytest

from maemae.brokers.sim.remote import RemoteExchange
from maemae.domain.clock_time import KST
from tests.engine.test_paper import _config

KEY = "0123456789abcdef0123"


def test_sim_serve_when_stray_callers_connect_then_it_keeps_serving(
    market_root: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    config = _config(market_root, tmp_path)
    command = [sys.executable, "-m", "maemae.cli", "sim", "serve", "--config", str(config), "--port", "0"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("sim exchange listening on 127.0.0.1:"), line
        host, port = line.rsplit(" ", 1)[1].strip().split(":")
        address = (host, int(port))

        socket.create_connection(address, timeout=5).close()  # a port scan: connects, says nothing, goes
        with pytest.raises(httpx.HTTPError):  # a browser, or `--broker kis-mock` given this address
            httpx.get(f"http://{host}:{port}/", timeout=5)
        with pytest.raises((AuthenticationError, EOFError, ConnectionError)):
            Client(address, authkey=b"another key of 20 chars")

        exchange = RemoteExchange(address, KEY.encode(), lambda: datetime(2025, 12, 3, 9, tzinfo=KST))
        try:
            assert exchange.cash().deposit > 0  # the same exchange, still serving
        finally:
            exchange.close()
        assert server.poll() is None
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "Traceback" not in err
    assert err.count("sim_connection_refused") == 3, err
