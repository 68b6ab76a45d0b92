"""``maemae paper --replay DATE``: paper trading over a replayed day, paced on the wall clock, every change
persisted, resumable after a crash.

The exchange is either in this process (simple, but its state dies with the process) or the one
``maemae sim serve`` runs in a process of its own (``--exchange HOST:PORT``): then a killed paper run restarts
where it stopped, finds its orders and fills at the exchange and goes on (docs/state.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from maemae.backtest.runner import Cursor
from maemae.backtest.service import load_market
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.remote import serve
from maemae.brokers.sim.venue import SimulatedVenue
from maemae.config import MaemaeConfig
from maemae.domain.clock_time import KST
from maemae.domain.order_states import OrderState
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import connect_sim_exchange, make_sim_exchange, open_state_store
from maemae.engine.pacing import WallPacer
from maemae.engine.recovery import RecoveryReport
from maemae.engine.replay import run_persisted_replay
from maemae.errors import ConfigError, DataError, StoreError


@dataclass(frozen=True, slots=True)
class PaperSummary:
    day: date
    resumed_at: Cursor | None
    recovery: RecoveryReport
    orders: int
    denied: int
    fills: int
    equity: int | None  # at the close; None when the day was already closed before this run


def run_paper_replay(
    config: MaemaeConfig,
    day: date,
    speed: float,
    exchange: tuple[str, int] | None = None,
    authkey: bytes = b"",
) -> PaperSummary:
    pace = WallPacer(speed)  # checks the speed before anything is opened
    try:
        market, days = load_market(config, day, day)
    except DataError:
        days = []
    if days != [day]:
        raise ConfigError(f"--replay {day}: no stored minute bars for that trading day")
    store = open_state_store(config)
    clock = SimulatedClock(datetime.combine(day, time(0), tzinfo=KST))
    venue: SimulatedVenue
    try:
        cursor = Cursor.from_dict(store.load(None).runtime.get("cursor", {}))
        if exchange is None:
            if cursor is not None:
                raise StoreError(
                    f"store {config.store.url}: it holds a replay of {cursor.day} whose exchange ran inside "
                    "the paper process and is gone: resume with --exchange HOST:PORT "
                    "(`maemae sim serve`), or use a new store.url"
                )
            venue = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
        else:
            venue = connect_sim_exchange(exchange, authkey, clock)
        outcome = run_persisted_replay(config, market, [day], venue, store, clock, pace)
    finally:
        store.close()
    orders = outcome.engine.orders.orders.values()
    denied = sum(1 for o in orders if o.state is OrderState.DENIED)
    return PaperSummary(
        day,
        outcome.resumed_at,
        outcome.recovery,
        len(outcome.engine.orders.orders) - denied,
        denied,
        sum(len(o.fill_ids) for o in orders),
        outcome.days[-1].equity if outcome.days else None,
    )


def serve_sim_exchange(
    config: MaemaeConfig, address: tuple[str, int], authkey: bytes, ready: Callable[[tuple[str, int]], None]
) -> None:
    """Serve the simulated exchange of ``config`` at ``address`` until the process is stopped."""
    market, _ = load_market(config, None, None)

    def make(clock: Callable[[], datetime]) -> SimExchange:
        return make_sim_exchange(config, market.calendar, market.instruments, clock)

    serve(address, authkey, make, ready)
