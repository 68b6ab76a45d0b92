"""The crash test's harness: a replayed trading day, the exchange in its own process, maemae killed with
SIGKILL at chosen points and restarted until the day is done.

Kill points are counted in the trader process: before and after every state-store commit, every order
request (submit, cancel, modify), every broker query that recovery makes, and after every event poll that
returned events (the events are then consumed at the exchange and exist only in the dying process). A trader
started with ``kill_at = n`` kills itself with SIGKILL at its n-th point, exactly as ``kill -9`` would, with
no chance to clean up. The exchange process lives on, like a real broker.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from maemae.backtest.service import load_market
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.remote import Address, RemoteExchange, serve
from maemae.config import MaemaeConfig
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_calendar, make_sim_exchange
from maemae.engine.replay import run_persisted_replay
from maemae.ports.state import SavedState, StateChange
from maemae.store.repository import SqlStateStore

FORK = multiprocessing.get_context("fork")
_ORDER_CALLS = {"submit", "cancel", "modify"}
_QUERY_CALLS = {"find_orders", "fills_today", "order_status", "holdings", "cash"}


class CrashPoints:
    """Counts the points where a crash can happen and kills this process at the chosen one."""

    def __init__(self, kill_at: int | None) -> None:
        self.kill_at = kill_at
        self.count = 0

    def point(self) -> None:
        self.count += 1
        if self.count == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


class CrashingVenue:
    """The remote exchange with crash points around the calls whose timing matters."""

    def __init__(self, venue: RemoteExchange, points: CrashPoints) -> None:
        self._venue = venue
        self._points = points

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._venue, name)
        if not callable(target):
            return target
        if name in _ORDER_CALLS or name in _QUERY_CALLS:

            def around(*args: Any) -> Any:
                self._points.point()
                result = target(*args)
                self._points.point()
                return result

            return around
        if name == "poll_events":

            def after_events(*args: Any) -> Any:
                events = target(*args)
                if events:
                    self._points.point()
                return events

            return after_events
        return target


class CrashingStore:
    """The SQL store with crash points before and after each commit."""

    def __init__(self, store: SqlStateStore, points: CrashPoints) -> None:
        self._store = store
        self._points = points

    def commit(self, change: StateChange) -> None:
        self._points.point()
        self._store.commit(change)
        self._points.point()

    def load(self, day: date | None) -> SavedState:
        return self._store.load(day)

    def runtime_document(self, name: str) -> dict[str, Any] | None:
        return self._store.runtime_document(name)

    def audit_entries(self) -> list[Any]:
        return self._store.audit_entries()


@dataclass(frozen=True)
class Setup:
    config: MaemaeConfig
    day: date
    url: str
    authkey: bytes


def _exchange_factory(config: MaemaeConfig) -> Callable[[Callable[[], datetime]], SimExchange]:
    market, _ = load_market(config, None, None)
    calendar = make_calendar(config)

    def make(clock: Callable[[], datetime]) -> SimExchange:
        return make_sim_exchange(config, calendar, market.instruments, clock)

    return make


def _serve(config: MaemaeConfig, authkey: bytes, report: Connection) -> None:
    serve(("127.0.0.1", 0), authkey, _exchange_factory(config), ready=report.send)


@contextmanager
def exchange_process(config: MaemaeConfig) -> Iterator[tuple[Address, bytes]]:
    """The simulated exchange in a process of its own, on a free port of 127.0.0.1."""
    authkey = secrets.token_bytes(16)
    receive, send = FORK.Pipe(duplex=False)
    process = FORK.Process(target=_serve, args=(config, authkey, send), daemon=True)
    process.start()
    try:
        if not receive.poll(60):
            raise RuntimeError("the exchange process did not start")
        yield receive.recv(), authkey
    finally:
        process.kill()
        process.join(10)


def run_trader(setup: Setup, address: Address, kill_at: int | None) -> int:
    """One trader life: recover, replay the day until done or killed. Returns the points it passed."""
    market, _ = load_market(setup.config, setup.day, setup.day)
    points = CrashPoints(kill_at)
    store = SqlStateStore(setup.url)
    clock = SimulatedClock(datetime.combine(setup.day, time(0), tzinfo=KST))
    remote = RemoteExchange(address, setup.authkey, clock.now)
    try:
        run_persisted_replay(
            setup.config,
            market,
            [setup.day],
            CrashingVenue(remote, points),  # type: ignore[arg-type]
            CrashingStore(store, points),
            clock,
        )
    finally:
        remote.close()
        store.close()
    return points.count


def _trader_child(setup: Setup, address: Address, kill_at: int | None, report: Connection) -> None:
    report.send(run_trader(setup, address, kill_at))


@dataclass
class Life:
    kill_at: int | None
    killed: bool
    points: int | None


def trader_life(setup: Setup, address: Address, kill_at: int | None) -> Life:
    """Run one trader in a forked process; it either finishes the day or dies by SIGKILL."""
    receive, send = FORK.Pipe(duplex=False)
    process = FORK.Process(target=_trader_child, args=(setup, address, kill_at, send))
    process.start()
    send.close()
    process.join(300)
    if process.exitcode is None:
        process.kill()
        raise RuntimeError("a trader did not finish in 300 s")
    if process.exitcode == -signal.SIGKILL:
        return Life(kill_at, True, None)
    if process.exitcode != 0:
        raise RuntimeError(f"a trader failed with exit code {process.exitcode}")
    return Life(kill_at, False, receive.recv())


def store_url(directory: Path, name: str) -> str:
    return f"sqlite:///{directory / name}"
