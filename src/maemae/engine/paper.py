"""``maemae paper --replay DATE``: paper trading over a replayed day, paced on the wall clock, every change
persisted, resumable after a crash.

The venue is the simulated exchange, reached one of three ways:

* in this process (simple, but its state dies with the process);
* ``maemae sim serve`` in a process of its own (``--exchange HOST:PORT``): then a killed paper run restarts
  where it stopped, finds its orders and fills at the exchange and goes on (docs/state.md);
* through the KIS adapter (``--broker kis-mock``): the local KIS server holds the exchange and maemae trades
  with it over KIS's HTTP and WebSocket protocol, exactly as with KIS; the server runs in this process, or
  as ``maemae kis-mock`` (``--exchange URL``), which outlives a crashed run like ``sim serve`` does.

At the close the book check (``engine.books``) compares maemae's orders, positions and cash with the venue's.

Ctrl-C and SIGTERM end the replay before its next step, with one line saying where it stopped and whether
the same command goes on (only with ``--exchange``: an exchange inside the process is gone with it). As for
``maemae run``, Ctrl-C exits 130 and SIGTERM, a stop that was asked for, 0; a second signal stops at once.
A Ctrl-C before the replay starts (the market loading) or after the close (the book check, the report) is
one line too, saying what it cut short and what is kept (``engine.stop_signals.CtrlC``); one pressed while
the engine's compiled code loads the market, opens the exchange or checks the book takes effect once that
work is done (``CtrlC.uncut``).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from maemae.alerts.dispatcher import dispatcher_for
from maemae.backtest.market import BacktestMarket
from maemae.backtest.runner import Cursor
from maemae.backtest.service import NoTradingDays, load_market
from maemae.brokers.kis.mock.app import MockSettings
from maemae.brokers.kis.mock.replay import MarketReplay
from maemae.brokers.kis.mock.server import MockServer
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.remote import serve
from maemae.config import MaemaeConfig
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.order_states import OrderState
from maemae.engine.alerting import AuditedAlerts, alert_error
from maemae.engine.books import book_differences
from maemae.engine.clock import AcceleratedClock, SimulatedClock
from maemae.engine.composition import check_the_start, make_calendar, open_state_store
from maemae.engine.live import refuse_an_earlier_day
from maemae.engine.pacing import WallPacer
from maemae.engine.recovery import RecoveryReport
from maemae.engine.replay import replay_moment, run_persisted_replay
from maemae.engine.stop_signals import (
    CtrlC,
    StopSignals,
    after_the_close,
    before_the_day,
    during_the_day,
    stopped_line,
)
from maemae.engine.venues import VenueChoice, exchange_factory, how_to_go_on, open_venue
from maemae.errors import ConfigError, MaemaeError, RunInterrupted, StoreError, without_passwords
from maemae.krx.sessions import replay_schedule
from maemae.service.report import write_day_report
from maemae.wording import NEW_STORE

if TYPE_CHECKING:
    from maemae.store.repository import SqlStateStore


@dataclass(frozen=True, slots=True)
class PaperSummary:
    day: date
    resumed_at: Cursor | None
    recovery: RecoveryReport
    orders: int
    denied: int
    fills: int
    equity: int | None  # at the close; None when the day was already closed before this run
    book_differences: list[str]  # maemae's book against the venue's at the end; empty when equal
    report: Path | None = None  # the end-of-day report (HTML), when this run closed the day
    stopped: str | None = None  # SIGTERM ended the run before the close: where, and whether it can go on
    report_error: MaemaeError | None = None  # why the report could not be written; told after the book check


def run_paper_replay(
    config: MaemaeConfig,
    day: date,
    speed: float,
    choice: VenueChoice | None = None,
    tell: Callable[[str], None] | None = None,
) -> PaperSummary:
    """``maemae paper``: ``day`` replayed on ``choice``'s venue at ``speed``; ``tell`` hears how the replay
    starts as it starts (``run_persisted_replay``)."""
    choice = choice or VenueChoice()
    stops = StopSignals()
    pace = WallPacer(speed, sleep=stops.sleep)  # checks the speed before anything is opened
    with CtrlC(before_the_day(day)) as ctrl_c:
        with ctrl_c.uncut():
            market = _replay_market(config, day)
        check_the_start(config)
        return _replay_day(config, day, choice, market, stops, pace, ctrl_c, tell)


def _replay_day(
    config: MaemaeConfig,
    day: date,
    choice: VenueChoice,
    market: BacktestMarket,
    stops: StopSignals,
    pace: WallPacer,
    ctrl_c: CtrlC,
    tell: Callable[[str], None] | None,
) -> PaperSummary:
    """The replay from taking the store's lock to the report after the close; ``ctrl_c`` is told where the
    run is, for the line a Ctrl-C outside ``stops`` ends it with."""
    from maemae.store.instance_lock import instance_lock  # here: `sim serve` needs no SQLAlchemy

    clock = SimulatedClock(datetime.combine(day, time(0), tzinfo=KST))
    with ExitStack() as stack:
        alerts = dispatcher_for(config.alerts)  # a missing secret is refused before anything is written
        stack.callback(alerts.close, 10)
        lock = stack.enter_context(instance_lock(config.store.url))  # one run per store, before it is touched
        store = open_state_store(config)
        store.before_write = lock.check  # a run that lost the lock writes nothing more
        stack.callback(store.close)
        sink = AuditedAlerts(alerts, store)
        cursor = Cursor.from_dict(store.load(None).runtime.get("cursor", {}))
        if cursor is not None and not choice.outlives_the_run:
            raise _held_replay(store, cursor, day)
        if cursor is not None:
            refuse_an_earlier_day(without_passwords(store.url), cursor.day, day)
        started = replay_moment(market.calendar, day, cursor)  # an error before the first step is dated here
        try:
            # inside: a venue that cannot be reached is alerted and saved as the run's last error too
            with ctrl_c.uncut():
                venue = open_venue(config, market, clock, choice, stack)
            ctrl_c.line = during_the_day(day, how_to_go_on(choice))
            with stops:
                outcome = run_persisted_replay(
                    config,
                    market,
                    [day],
                    venue,
                    store,
                    clock,
                    pace,
                    sink,
                    check_lock=lock.check,
                    stop=lambda: stops.received is not None,
                    tell=tell,
                )
        except MaemaeError as error:  # the operator hears of it before the process exits
            alert_error(sink, error, max(clock.now(), started), store)
            raise
        engine = outcome.engine
        # a day stopped half-way is not judged: fills after its last step show at the exchange only, and a
        # resumed run collects them (as `maemae run` does)
        differences = []
        if outcome.stopped_at is None:  # the day is closed: a Ctrl-C from here on cannot undo that
            ctrl_c.line = after_the_close(day)
            with ctrl_c.uncut():
                differences = book_differences(
                    engine.orders, engine.portfolio, engine.orders.broker, venue.all_orders()
                )
        report, report_error = write_day_report(config, store, day) if outcome.days else (None, None)
    orders = engine.orders.orders.values()
    denied = sum(1 for o in orders if o.state is OrderState.DENIED)
    fills = sum(len(o.fill_ids) for o in orders)
    stopped = None
    if outcome.stopped_at is not None and stops.received is not None:
        at = outcome.stopped_at
        stopped = stopped_line(
            at.day, stops.received, len(orders) - denied, fills, how_to_go_on(choice), step=at.next_bar
        )
        if stops.received is signal.SIGINT:
            raise RunInterrupted(stopped)
    return PaperSummary(
        day,
        outcome.resumed_at,
        outcome.recovery,
        len(orders) - denied,
        denied,
        fills,
        outcome.days[-1].equity if outcome.days else None,
        differences,
        report,
        stopped,
        report_error,
    )


def _held_replay(store: SqlStateStore, cursor: Cursor, day: date) -> StoreError:
    """Why a store holding a replay cannot be used with an exchange inside this process: that replay's
    exchange died with its process, so this run's exchange would start empty and recovery would take the
    store's holdings for sold outside maemae. What to do depends on what the store holds: the day asked for,
    complete (nothing to do: its report is there); another day, complete; or a replay stopped half-way,
    which no exchange can resume any more."""
    where = without_passwords(store.url)
    if any(result.day == cursor.day for result in store.daily_results()):
        if cursor.day == day:
            return StoreError(
                f"store {where}: the replay of {day} is complete in this store (`maemae report` shows it): "
                f"to replay the day again, give the run {NEW_STORE}"
            )
        return StoreError(
            f"store {where} holds the completed replay of {cursor.day}, and its exchange ran inside that "
            f"paper process and is gone: replay {day} with {NEW_STORE}"
        )
    return StoreError(
        f"store {where}: it holds a replay of {cursor.day} stopped at step {cursor.next_bar} whose exchange "
        f"ran inside the paper process and is gone, so it cannot be resumed: use {NEW_STORE} (and "
        "--exchange, `maemae sim serve` or `maemae kis-mock`, for a run that can be resumed after a crash)"
    )


def _replay_market(config: MaemaeConfig, day: date) -> BacktestMarket:
    """The stored market of the replayed ``day``, refused before anything is written when KRX did not trade
    that day, or when the day has no minute bars: a daily-only store (``maemae data sample --daily-only``)
    would otherwise replay an empty day and save it as if it had traded. Same checks and words as
    ``maemae run --replay``."""
    replay_schedule(day, make_calendar(config))
    refusal = ConfigError(f"--replay {day}: no stored minute bars for that trading day")
    try:
        market, days = load_market(config, day, day)
    except NoTradingDays:  # the store's own problems (no such folder, a corrupt file) keep their line
        raise refusal from None
    if days != [day] or not market.has_minutes(day):
        raise refusal
    return market


def serve_sim_exchange(
    config: MaemaeConfig, address: tuple[str, int], authkey: bytes, ready: Callable[[tuple[str, int]], None]
) -> None:
    """Serve the simulated exchange of ``config`` at ``address`` until the process is stopped. The market is
    loaded once the address is bound, so a taken or bad port is refused before that wait."""

    def make_exchange(clock: Callable[[], datetime]) -> SimExchange:
        market, _ = load_market(config, None, None)
        return exchange_factory(config, market)(clock)

    serve(address, authkey, make_exchange, ready)


def serve_kis_mock(
    config: MaemaeConfig,
    port: int,
    *,
    paper: bool,
    ready: Callable[[str], None],
    replay: date | None = None,
    speed: float = 60,
) -> None:
    """Serve the local KIS server of ``config`` (its exchange and stored market) on 127.0.0.1:``port``;
    with ``replay`` its market moves through that stored day by itself, ``speed`` times real time, from a
    minute before the pre-open as it starts to listen: a client whose clock starts at that time when the
    server says it listens is in step with its market (loading the day takes seconds, minutes of market time
    at speed 10 or more)."""
    market, _ = load_market(config, None, None)
    moving, clock = None, None
    if replay is not None:
        schedule = replay_schedule(replay, market.calendar)
        clock = AcceleratedClock(schedule.pre_open - timedelta(minutes=1), speed)
        moving = MarketReplay(BarStore(config.data.root), market.calendar, replay, clock.now)
    server = MockServer(
        exchange_factory(config, market),
        settings=MockSettings(paper=paper),
        history=BarStore(config.data.root),
        port=port,
        replay=moving,
    )
    if clock is not None:
        clock.restart()
    server.serve_forever(ready)
