"""The local KIS server on a real socket and the adapter connected to it (the market: ../conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from maemae.brokers.kis.mock.app import MockSettings
from maemae.brokers.kis.mock.server import MockServer
from maemae.brokers.kis.mock.venue import KisMockVenue
from maemae.brokers.sim.exchange import SimExchange
from maemae.config import MaemaeConfig
from maemae.config.broker import KisBrokerConfig
from maemae.data.store import BarStore
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_calendar, make_sim_exchange


@pytest.fixture
def server(config: MaemaeConfig, market_root: Path) -> Iterator[MockServer]:
    calendar = make_calendar(config)
    store = BarStore(market_root)
    instruments = store.read_instruments()

    def make(clock: Callable[[], datetime]) -> SimExchange:
        return make_sim_exchange(config, calendar, instruments, clock)

    settings = MockSettings(token_interval_s=0.2, ping_interval_s=0.2)
    mock = MockServer(make, settings=settings, history=store).start()
    yield mock
    mock.stop()


@pytest.fixture
def connect(
    server: MockServer, clock: SimulatedClock, tmp_path: Path
) -> Iterator[Callable[..., KisMockVenue]]:
    """Adapters connected to the server (each one like a maemae process: they share the token file)."""
    made: list[KisMockVenue] = []

    def make(
        trade_codes: Sequence[str] = (), environ: dict[str, str] | None = None, **changes: object
    ) -> KisMockVenue:
        base = KisBrokerConfig(token_cache=tmp_path / "kis-token.json", timeout_seconds=1.0)
        config = server.broker_config(base).model_copy(update=changes)
        venue = KisMockVenue.from_config(
            config,
            clock=clock.now,
            trade_codes=trade_codes,
            environ={**server.environment(base), **(environ or {})},
            sleep=lambda seconds: None,
        )
        made.append(venue)
        return venue

    yield make
    for venue in made:
        venue.close()
