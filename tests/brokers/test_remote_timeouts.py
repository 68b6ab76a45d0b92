"""A ``--exchange`` address that answers nothing (another service, a frozen ``maemae sim serve``) ends the
run as a lost connection, exit 7, instead of hanging it for good with its store's lock held: multiprocessing's
connections have no timeouts of their own."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from multiprocessing.connection import Listener

import pytest

from maemae.brokers.sim import remote
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import connect_sim_exchange
from maemae.errors import BrokerConnectionLost

KEY = b"0123456789abcdef0123"


@pytest.fixture
def silent_port() -> Iterator[tuple[str, int]]:
    """A TCP port that accepts a connection and never sends a byte (as an HTTP server waits for a request)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        accepted: list[socket.socket] = []
        waiter = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
        waiter.start()
        yield server.getsockname()[:2]
        for connection in accepted:
            connection.close()


def test_connect_when_the_port_never_answers_the_handshake_then_a_lost_connection_line(
    silent_port: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 0.5)
    clock = SimulatedClock(datetime(2025, 12, 3, 9, tzinfo=KST))
    with pytest.raises(BrokerConnectionLost) as raised:
        connect_sim_exchange(silent_port, KEY, clock)
    host, port = silent_port
    assert str(raised.value) == (
        f"sim exchange {host}:{port}: cannot connect (no answer to the handshake in 0.5 s): "
        "is `maemae sim serve` running?"
    )
    assert raised.value.exit_code == 7


def test_call_when_the_exchange_stops_replying_then_a_lost_connection_and_the_connection_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exchange that took the call and never replies (stopped with SIGSTOP, or stuck)."""
    monkeypatch.setattr(remote, "REPLY_TIMEOUT_S", 0.5)
    with Listener(("127.0.0.1", 0), authkey=KEY) as listener:
        held: list[object] = []
        taker = threading.Thread(target=lambda: held.append(listener.accept()), daemon=True)
        taker.start()
        exchange = remote.RemoteExchange(listener.address, KEY, lambda: datetime(2025, 12, 3, 9, tzinfo=KST))
        taker.join(5)
        with pytest.raises(BrokerConnectionLost, match=r"^sim exchange: no reply to end_day in 0.5 s$"):
            exchange.end_day()
        with pytest.raises(
            BrokerConnectionLost, match="connection lost"
        ):  # not a late reply read as this one's
            exchange.end_day()
