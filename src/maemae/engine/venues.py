"""Where a paper run's orders go: the simulated exchange in this process, in ``maemae sim serve``, behind
the local KIS server (reached through the KIS adapter), in this process or in ``maemae kis-mock``, or behind
the fake Creon COM layer (reached through the Creon adapter, in this process)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from maemae.backtest.market import BacktestMarket
from maemae.brokers.creon.fake.venue import FakeCreonVenue
from maemae.brokers.kis.mock.app import MockSettings
from maemae.brokers.kis.mock.server import MockServer, mock_environment
from maemae.brokers.kis.mock.venue import KisMockVenue, check_kis_mock
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.venue import SimulatedVenue
from maemae.config import MaemaeConfig
from maemae.data.store import BarStore
from maemae.engine.clock import Clock
from maemae.engine.composition import connect_sim_exchange, make_sim_exchange
from maemae.wording import NEW_STORE


@dataclass(frozen=True, slots=True)
class VenueChoice:
    """Where the paper run trades: ``sim`` (``address`` of ``maemae sim serve``, or None for in-process) or
    ``kis-mock`` (``url`` of ``maemae kis-mock``, or None to start the server in this process) or
    ``creon-fake`` (the Creon adapter over the fake COM layer, in this process)."""

    broker: Literal["sim", "kis-mock", "creon-fake"] = "sim"
    address: tuple[str, int] | None = None
    authkey: bytes = b""
    url: str | None = None

    @property
    def outlives_the_run(self) -> bool:
        return self.address is not None or self.url is not None


def how_to_go_on(choice: VenueChoice) -> str:
    """How the line of a replay a signal stopped ends: whether the same command goes on with the day. With
    the exchange inside the stopped process it cannot: that exchange, its orders and holdings are gone, and
    the next run on the store is refused, so the line says what to do instead."""
    if choice.outlives_the_run:
        return ": start the same command again to go on"
    return (
        ", but the exchange ran inside this process and is gone, so this day cannot be resumed: "
        f"replay it into {NEW_STORE}, or run the exchange on its own (`maemae sim serve` or "
        "`maemae kis-mock`) and pass --exchange for a run that can be resumed"
    )


def open_venue(
    config: MaemaeConfig,
    market: BacktestMarket,
    clock: Clock,
    choice: VenueChoice,
    stack: ExitStack,
) -> SimulatedVenue:
    """Open the venue ``choice`` names; whatever must be closed afterwards goes on ``stack``."""
    if choice.broker == "sim":
        if choice.address is None:
            return make_sim_exchange(config, market.calendar, market.instruments, clock.now)
        remote = connect_sim_exchange(choice.address, choice.authkey, clock)
        stack.callback(remote.close)
        return remote
    if choice.broker == "creon-fake":
        creon = FakeCreonVenue.over_exchange(
            exchange_factory(config, market),
            clock=clock.now,
            history=BarStore(config.data.root),
            trade_codes=[str(c) for c in market.instruments],
        )
        return creon
    settings = MockSettings()
    url = choice.url
    if url is not None:
        check_kis_mock(url)
    else:
        server = MockServer(
            exchange_factory(config, market), settings=settings, history=BarStore(config.data.root)
        ).start()
        stack.callback(server.stop)
        url = server.base_url
    kis = config.broker.kis.model_copy(
        update={
            "base_url": url,
            "ws_url": url.replace("http", "ws", 1) + "/tryitout",
            "paper": settings.paper,
            "requests_per_second": 1000,  # the local server has no rate limit to respect
        }
    )
    venue = KisMockVenue.from_config(
        kis, clock=clock.now, trade_codes=[str(c) for c in market.instruments], environ=mock_environment(kis)
    )
    stack.callback(venue.close)
    return venue


def exchange_factory(
    config: MaemaeConfig, market: BacktestMarket
) -> Callable[[Callable[[], datetime]], SimExchange]:
    def make(clock: Callable[[], datetime]) -> SimExchange:
        return make_sim_exchange(config, market.calendar, market.instruments, clock)

    return make
