"""The fake Creon (a logged-in Creon Plus over the simulated exchange) and the Creon adapter on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from maemae.brokers.creon.fake.venue import FakeCreonVenue
from maemae.brokers.creon.fake.world import FakeCreon
from maemae.brokers.sim.exchange import SimExchange
from maemae.config import MaemaeConfig
from maemae.config.broker import CreonBrokerConfig
from maemae.data.store import BarStore
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_calendar, make_sim_exchange


class LimitClock:
    """A stand-in for the wall clock the request limits count on: sleeping moves it, nothing else does."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def make_world(config: MaemaeConfig, market_root: Path) -> Callable[..., FakeCreon]:
    calendar = make_calendar(config)
    instruments = BarStore(market_root).read_instruments()

    def make_exchange(clock: Callable[[], datetime]) -> SimExchange:
        return make_sim_exchange(config, calendar, instruments, clock)

    def make(**options: Any) -> FakeCreon:
        return FakeCreon(make_exchange, **options)

    return make


@pytest.fixture
def world(make_world: Callable[..., FakeCreon]) -> FakeCreon:
    return make_world()


@pytest.fixture
def connect(world: FakeCreon, clock: SimulatedClock, market_root: Path) -> Callable[..., FakeCreonVenue]:
    """Creon adapters on the fake (each one like a maemae process started on the same Creon Plus)."""

    def make(
        trade_codes: Sequence[str] = (),
        on: FakeCreon | None = None,
        sleep: Callable[[float], None] | None = None,
        **config: Any,
    ) -> FakeCreonVenue:
        return FakeCreonVenue(
            on or world,
            clock=clock.now,
            history=BarStore(market_root),
            config=CreonBrokerConfig(**config),
            trade_codes=trade_codes,
            sleep=sleep,
        )

    return make
