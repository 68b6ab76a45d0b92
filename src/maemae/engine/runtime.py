"""``maemae run``: one trading day of the live loop (``engine.live``), composed for the config's mode.

=========================================  ==================================================================
config                                     what trades, and with which prices
=========================================  ==================================================================
``mode = "paper"``, ``broker.kind="kis"``  KIS's paper server (``broker.kis.paper = true``): its prices,
                                           its order book
``mode = "paper"``, ``broker.kind="sim"``  the simulated exchange in this process, on KIS's real-time prices
                                           (read-only use of the KIS keys)
``mode = "live"``, ``broker.kind="kis"``   the real account (``broker.kis.paper = false``), after a person
                                           confirms the first order (``--confirm`` or the terminal)
``broker.kind="creon"`` (paper or live)    the account Creon Plus is logged in to (Windows only): its
                                           prices, its order book; a person confirms the first order in
                                           either mode, since maemae cannot tell Creon's paper server
``--replay DATE`` (paper)                  a stored day played back as live quotes on a simulated clock
                                           (``--speed 0``) or an accelerated wall clock, orders to the
                                           simulated exchange (``--broker sim``), through the KIS adapter
                                           and the local KIS server (``--broker kis-mock``), or through
                                           the Creon adapter and the fake COM layer (``--broker creon-fake``)
=========================================  ==================================================================

Any other combination is refused with one line before anything connects. On start the saved state is loaded
and settled with the broker (``engine.recovery``); then the scheduler runs the day: it waits for the open,
does nothing on a day KRX does not trade, and ends after the close. The store's instance lock is checked
before every order request and once a minute (``engine.lock_guard``): a run that lost it stops (exit 7).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import structlog

from maemae.alerts.dispatcher import dispatcher_for
from maemae.alerts.messages import AlertSink
from maemae.backtest.market import BacktestMarket
from maemae.brokers.creon.adapter import CreonBroker
from maemae.brokers.creon.com import Win32Runtime
from maemae.brokers.kis.adapter import KisBroker
from maemae.brokers.kis.auth import KisCredentials
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.venue import SimulatedVenue
from maemae.config import MaemaeConfig
from maemae.config.root import check_live_broker
from maemae.data.bars import Timeframe
from maemae.data.sources.base import BarSource
from maemae.data.store import BarStore
from maemae.data.update import Fetcher, RunReport
from maemae.domain.codes import StockCode
from maemae.engine.alerting import AuditedAlerts, alert_error
from maemae.engine.books import book_differences
from maemae.engine.broker_wrapper import innermost
from maemae.engine.clock import AcceleratedClock, Clock, SimulatedClock, WallClock
from maemae.engine.composition import (
    Core,
    build_core,
    check_the_start,
    make_calendar,
    make_sim_exchange,
    open_existing_state_store,
    open_state_store,
    universe_selector,
)
from maemae.engine.confirmation import Ask, FirstOrderConfirmation, masked
from maemae.engine.data_sources import open_source
from maemae.engine.live import (
    CLOSE_GRACE,
    PRE_OPEN_LEAD,
    DayReport,
    LiveDay,
    day_codes,
    refuse_an_earlier_day,
    resume_time,
)
from maemae.engine.live_state import saved_universe
from maemae.engine.lock_guard import LockCheck, LockGuardedBroker
from maemae.engine.pacing import check_speed
from maemae.engine.persistence import StateRecorder
from maemae.engine.quotes import BrokerMinutes, PriceSource, ReplayedQuotes, TodaySoFar
from maemae.engine.recovery import RecoveryReport, recover
from maemae.engine.scheduler import Scheduler
from maemae.engine.sim_book import carry_over
from maemae.engine.stop_signals import (
    CtrlC,
    StopSignals,
    after_the_close,
    before_the_day,
    during_the_day,
    stopped_line,
)
from maemae.engine.venues import VenueChoice, how_to_go_on, open_venue
from maemae.errors import ConfigError, MaemaeError, RunInterrupted, StoreError
from maemae.krx.calendar import TradingCalendar
from maemae.krx.sessions import SessionSchedule, replay_schedule, session_schedule
from maemae.ports.broker import Broker
from maemae.ports.state import SavedState, StateChange, StateStore
from maemae.service.report import write_day_report
from maemae.store.database import describe
from maemae.store.instance_lock import instance_lock
from maemae.wording import NEW_STORE, counted

log = structlog.get_logger("maemae.run")

LOCK_CHECK_EVERY = timedelta(minutes=1)  # how soon a run that sends no order finds its instance lock lost


@dataclass(frozen=True, slots=True)
class RunOptions:
    replay: date | None = None
    speed: float = 0.0  # with --replay: 0 jumps from timer to timer; N runs N times faster than real time
    venue: VenueChoice = field(default_factory=VenueChoice)
    confirmed: bool = False  # --confirm: the person confirmed live trading up front
    ask: Ask | None = None  # how to ask at the first live order (None: no terminal)
    clock: Clock | None = None  # without --replay: the wall clock (tests give another)
    data_source: BarSource | None = None  # data.update_before_open's source (tests give a recorded one)
    tell: Callable[[str], None] | None = None  # the start's lines, as they happen (CLI: the terminal)


@dataclass(frozen=True, slots=True)
class RunSummary:
    day: date
    note: str  # what happened, in one line
    report: DayReport | None = None
    recovery: RecoveryReport | None = None
    book_differences: list[str] = field(default_factory=list)
    report_path: Path | None = None  # the end-of-day report (HTML)
    report_error: MaemaeError | None = None  # why it could not be written; told after the book check
    book_checked: bool = False  # the book was compared with the broker's (not on a day a signal stopped)


def check_mode(config: MaemaeConfig, replay: bool) -> None:
    """Refuse, in one line, any mode and broker that ``maemae run`` must not trade with."""
    kind, kis = config.broker.kind, config.broker.kis
    if config.mode == "backtest":
        raise ConfigError(
            'mode = "backtest": `maemae run` trades a day on the clock; set mode = "paper" or "live" '
            "(backtests: `maemae backtest`)"
        )
    if replay:
        check_replay_mode(config)
    if config.mode == "live":
        check_live_broker(config)
    elif kind == "kis" and not kis.paper and not replay:
        raise ConfigError(
            'mode = "paper" with broker.kis.paper = false would trade the real account: '
            'set broker.kis.paper = true, or mode = "live"'
        )


def check_replay_mode(config: MaemaeConfig) -> None:
    """Refuse to replay a day with a live config (``maemae run --replay``, ``maemae paper``): the replay
    would write a paper day into the live store. (``maemae paper`` takes a backtest config, as the quick
    start does: a replay trades nothing real, and a backtest keeps no state store.)"""
    if config.mode == "live":
        raise ConfigError('--replay with mode = "live": a replayed day is paper trading; set mode = "paper"')


def update_market_data(config: MaemaeConfig, through: date, source: BarSource | None = None) -> RunReport:
    """Before the open: the daily bars missing since each stored code's last day, through the last session
    (``data.update_before_open``). A code the source fails for keeps its stored bars and is logged; the day
    trades on what is stored."""
    name = config.data.update_before_open
    assert name is not None or source is not None
    store = BarStore(config.data.root)
    fetcher = Fetcher(store, source or open_source(str(name), config), make_calendar(config))
    ranges = fetcher.update_ranges(store.codes(Timeframe.DAY), through, through)
    report = fetcher.run(ranges)
    if report.results:
        log.info("data_updated", summary=report.summary(), report=report.report_path)
    for failed in report.failed:
        log.warning("data_update_failed", code=failed.code, error=failed.error)
    return report


def stale_daily_bars(
    config: MaemaeConfig, calendar: TradingCalendar, day: date, codes: Sequence[str]
) -> str | None:
    """A warning when the day's stocks' stored daily bars end before the session before ``day``: the daily
    strategy would decide a day on the clock on old prices (and the universe is chosen from them), which
    nothing else in the run would show. None when they are up to date, or a replay (its days are stored)."""
    store = BarStore(config.data.root)
    ends = [end for code in codes if (end := store.last_day(StockCode(code), Timeframe.DAY)) is not None]
    wanted = calendar.previous_session(day)
    latest = max(ends, default=None)
    if latest is not None and latest >= wanted:
        return None
    if latest is None:
        behind = f"no stored daily bars for the day's {counted(len(codes), 'stock')}"
    else:
        missing = calendar.count_sessions(calendar.next_session(latest), wanted)
        behind = f"the stored daily bars end on {latest}, {counted(missing, 'session')} before {wanted}"
    log.warning("daily_bars_behind", day=day.isoformat(), latest=latest and latest.isoformat())
    return (
        f"warning: {behind}: the daily strategy decides {day} on them as stored (`maemae data update`, or "
        "data.update_before_open, brings them up to date)"
    )


def needs_confirmation(config: MaemaeConfig) -> bool:
    """Whether a person confirms the first order: live trading, and any Creon run (maemae cannot tell
    Creon's paper server from the real one, so it treats every Creon account as real)."""
    return config.mode == "live" or config.broker.kind == "creon"


def check_broker_secrets(config: MaemaeConfig, replay: bool) -> None:
    """Refuse, in one line, a day on the clock whose KIS secrets are not in the environment. Checked first,
    so a scheduled run fails on any day, a weekend included, not on the next trading day after its store is
    made; a replay's venue brings its own."""
    if not replay and config.broker.needs_kis_secrets:
        KisCredentials.from_environment(config.broker.kis)


def run_trading_day(config: MaemaeConfig, options: RunOptions) -> RunSummary:
    check_mode(config, options.replay is not None)
    check_broker_secrets(config, options.replay is not None)
    check_speed(options.speed)
    calendar = make_calendar(config)
    clock: Clock | None = None  # a replay's is made once its store says where the day stands
    if options.replay is not None:
        day = options.replay
        schedule = replay_schedule(day, calendar)
    else:
        clock = options.clock or WallClock()
        day = clock.now().date()
        on_the_clock = session_schedule(day, calendar)
        if on_the_clock is None:
            return RunSummary(day, f"{day} is not a KRX trading day: nothing to do")
        if clock.now() > on_the_clock.close + CLOSE_GRACE and not _left_open(config, day):
            return RunSummary(day, f"the session of {day} is over: nothing to do")
        schedule = on_the_clock
    with CtrlC(before_the_day(day)) as ctrl_c:
        # a replayed day's market is read before any folder or lock file is made, so a day without its minute
        # bars is refused leaving nothing behind (a day on the clock reads its own once its data is updated)
        with ctrl_c.uncut():
            market = _day_market(config, calendar, day, replay=True) if options.replay is not None else None
        check_the_start(config)  # after the checks that make no folder: a refused run leaves none behind
        return _trade_day(config, options, calendar, schedule, clock, market, ctrl_c)


def _start_line(
    schedule: SessionSchedule,
    now: datetime,
    codes: Sequence[str],
    held: Collection[str],
    trades_with: str,
    speed: float | None,
) -> str:
    """The line a run tells once it has recovered and planned its day: what it trades, with whom, and what
    it does next, so that a terminal left open over the day does not sit silent until the close. ``speed``:
    a replay's (None on the clock)."""
    if speed == 0:
        when = "replaying the day as fast as it goes"
    elif now < schedule.open:
        when = f"waiting for the open at {schedule.open:%H:%M} KST"
    else:
        when = f"trading until the close at {schedule.close:%H:%M} KST"
    if speed:
        when += f", {speed:g} times as fast as the day ran"
    held_here = sum(1 for code in codes if code in held)
    return (
        f"{schedule.day}: {counted(len(codes), 'stock')} ({held_here:,} held) with {trades_with}; {when} "
        "(`maemae status` and the dashboard follow the day; Ctrl-C stops it)"
    )


def _trades_with(config: MaemaeConfig, options: RunOptions) -> str:
    """What the day trades with, in words: the account on the clock, the venue in a replay."""
    if options.replay is None:
        return trading_account(config)
    venue = options.venue
    if venue.url is not None:
        return f"the replay's {venue.broker} at {venue.url}"
    if venue.address is not None:
        return f"the replay's {venue.broker} exchange at {venue.address[0]}:{venue.address[1]}"
    return f"the replay's {venue.broker} exchange in this process"


def _left_open(config: MaemaeConfig, day: date) -> bool:
    """Whether the store holds a day on the clock of ``day`` that stopped before its close (killed, or the
    machine down over the close): a start after the close closes it (recovery collects the fills its orders
    had since, the closing auction's among them; the day's result, book check and report follow), as the
    unbroken run would have. A store that does not exist, or cannot be read, has nothing left open: the start
    says the session is over, as before, and creates nothing."""
    try:
        store = open_existing_state_store(config)
    except StoreError:
        return False
    try:
        cursor = store.runtime_document("cursor") or {}
        if cursor.get("driver") != "live" or cursor.get("day") != day.isoformat():
            return False
        return all(result.day != day for result in store.daily_results())
    finally:
        store.close()


def _trade_day(
    config: MaemaeConfig,
    options: RunOptions,
    calendar: TradingCalendar,
    schedule: SessionSchedule,
    clock: Clock | None,
    market: BacktestMarket | None,
    ctrl_c: CtrlC,
) -> RunSummary:
    """The day itself, from taking the store's lock to the report after the close; ``ctrl_c`` is told where
    the run is, for the line a Ctrl-C outside the day's own stop handling ends it with."""
    day = schedule.day
    replay = options.replay is not None
    with ExitStack() as stack:
        # a missing alert secret is refused before the lock, whose file a refused run would leave behind
        alerts = dispatcher_for(config.alerts)
        stack.callback(alerts.close, 10)
        # one run per store, taken before anything is read or written (a second run must not even fetch)
        lock = stack.enter_context(instance_lock(config.store.url))
        if not replay and config.data.update_before_open is not None:
            update_market_data(config, calendar.previous_session(day), options.data_source)
        if market is None:
            with ctrl_c.uncut():
                market = _day_market(config, calendar, day, replay=False)
        store = open_state_store(config)
        store.before_write = lock.check  # a run that lost the lock writes nothing more
        stack.callback(store.close)
        sink = AuditedAlerts(alerts, store)
        saved = store.load(day)
        cursor = saved.runtime.get("cursor", {})
        resumed = resume_time(cursor, day)  # (refuses a replay's store)
        if clock is None:  # a replay: a stopped one goes on from its last cycle
            start = resumed or schedule.open - PRE_OPEN_LEAD - timedelta(minutes=1)
            clock = SimulatedClock(start) if options.speed == 0 else AcceleratedClock(start, options.speed)
        if replay:
            _refuse_a_gone_exchange(config.store.url, day, options.venue, saved)
        else:
            _one_account(config, store, saved)
        if cursor:  # as paper: an exchange of its own process that outlived the store's later day
            refuse_an_earlier_day(describe(config.store.url), date.fromisoformat(str(cursor["day"])), day)
        selector = universe_selector(config, calendar)
        holdings = [p.code for p in saved.positions if p.account_quantity]
        started = saved_universe(store, day)  # a restart's: KIS streams the stocks the day trades
        codes = [str(c) for c in day_codes(config, market, selector, day, holdings, started)]
        behind = None if replay else stale_daily_bars(config, calendar, day, codes)
        # a broker that cannot be reached, or a recovery query that fails, is alerted and saved as the
        # run's last error (as the day's errors are, and as paper's are): a scheduled run must not end silent
        with _alerted(sink, clock, store):
            broker, prices, feed = _trading_venue(config, market, clock, options, codes, stack, replay)
            if not replay and isinstance(broker, SimExchange):  # broker.kind "sim" on the clock
                carry_over(broker, saved, day)  # its predecessor's book, as the store keeps it
            today_so_far = _today_so_far(prices)
            # the lock is checked right before each request leaves, after any confirmation prompt: a person
            # may take minutes to answer, and the lock may be lost meanwhile
            broker = LockGuardedBroker(broker, lock.check)
            if needs_confirmation(config):
                account, product_code = _account(broker)
                broker = FirstOrderConfirmation(
                    broker, account, confirmed=options.confirmed, ask=options.ask, product_code=product_code
                )
            with ctrl_c.uncut():
                core = build_core(config, calendar, market.instruments, broker, resilient=True)
                recorder = StateRecorder(store, core.kernel)
                recovery = recover(core.kernel, saved, core.orders.broker, recorder, clock.now(), sink)
        live = LiveDay(
            core,
            day=day,
            market=market,
            selector=selector,
            calendar=calendar,
            store=store,
            recorder=recorder,
            prices=prices,
            feed=feed,
            today_so_far=today_so_far,
            alerts=sink,
        )
        scheduler = Scheduler(clock)
        live.plan(scheduler)
        _watch_lock(scheduler, lock.check)
        if options.tell is not None:  # a day on the clock runs for hours: the terminal hears how it starts
            options.tell(recovery.line())
            speed = options.speed if replay else None
            with_what = _trades_with(config, options)
            # what is held after recovery: a fill it found at the broker holds shares the store did not have
            held = [str(code) for code, p in core.kernel.portfolio.positions.items() if p.account_quantity]
            options.tell(_start_line(schedule, clock.now(), codes, held, with_what, speed))
            if behind is not None:
                options.tell(behind)
        ctrl_c.line = during_the_day(day, going_on(options))
        try:
            with _alerted(sink, clock, store):
                stopped_by = _drive(scheduler, live, clock)
        finally:  # the day's repeated strategy errors are logged with their counts however the day ended
            core.kernel.close_day()
        if live.closed:
            ctrl_c.line = after_the_close(day)
        interrupted = None if live.closed else stopped_by
        # a day stopped half-way is not judged (see _drive)
        with ctrl_c.uncut():
            differences = [] if interrupted else _book_check(core, broker, feed)
        report = write_day_report(config, store, day) if live.closed else (None, None)
    ending = going_on(options)
    return _summary(day, live, recovery, interrupted, differences, report, ending)


@contextmanager
def _alerted(sink: AlertSink, clock: Clock, store: StateStore) -> Iterator[None]:
    """An error the run stops on reaches the operator (an alert, ``maemae status``'s last error) before the
    process exits."""
    try:
        yield
    except MaemaeError as error:
        alert_error(sink, error, clock.now(), store)
        raise


def going_on(options: RunOptions) -> str:
    """How the line of a day a signal stopped ends. A day on the clock goes on with the same command (the
    broker keeps its orders and holdings; the simulated exchange of ``broker.kind = "sim"`` is carried over
    from the store: ``engine.sim_book``), as does a replay whose exchange runs in a process of its own; a
    replay whose exchange ran inside this one cannot."""
    if options.replay is not None and not options.venue.outlives_the_run:
        return how_to_go_on(options.venue)
    return " and the book is checked at the close: start the same command again to go on"


def _summary(
    day: date,
    live: LiveDay,
    recovery: RecoveryReport,
    interrupted: signal.Signals | None,
    differences: list[str],
    report: tuple[Path | None, MaemaeError | None],
    going_on: str,
) -> RunSummary:
    """How the run ended; a day a signal stopped before the close says so (Ctrl-C: ``RunInterrupted``),
    ending with ``going_on``: whether the same command goes on with it."""
    if interrupted is not None:
        line = stopped_line(day, interrupted, live.report.orders, live.report.fills, going_on)
        if interrupted is signal.SIGINT:
            raise RunInterrupted(line)
        return RunSummary(day, line, live.report, recovery)
    note = f"{day}: the day is closed" if live.closed else f"{day}: stopped before the close"
    return RunSummary(day, note, live.report, recovery, differences, *report, book_checked=True)


def _day_market(
    config: MaemaeConfig, calendar: TradingCalendar, day: date, *, replay: bool
) -> BacktestMarket:
    """The stored market of ``day``; a replayed day must have its minute bars (they are its quotes)."""
    market = BacktestMarket(
        BarStore(config.data.root), calendar, day, day, adjusted=config.data.adjusted_history
    )
    if replay and not market.has_minutes(day):
        raise ConfigError(f"--replay {day}: no stored minute bars for that trading day")
    return market


def _book_check(core: Core, broker: Broker, feed: SimulatedVenue | None) -> list[str]:
    """maemae's book against the broker's at the end of the run: one line per difference."""
    at_broker = feed.all_orders() if feed is not None else _real(broker).day_orders()
    return book_differences(core.orders, core.portfolio, core.orders.broker, at_broker)


def _refuse_a_gone_exchange(url: str, day: date, venue: VenueChoice, saved: SavedState) -> None:
    """A replay whose exchange runs inside this process starts from an empty exchange, so a store that
    holds another day, or orders of this one, would be "recovered" against nothing: every holding cut to 0
    as sold outside maemae, the cash reset, a loss made up. (An exchange of its own process still holds
    them.)"""
    if venue.outlives_the_run:
        return
    where = describe(url)
    held = str(saved.runtime.get("cursor", {}).get("day") or day)
    if held != day.isoformat():
        raise StoreError(
            f"store {where} holds the replayed day {held}, whose exchange ran inside that run and is gone, "
            f"so --replay {day} on it would lose its holdings and cash: replay {day} with {NEW_STORE} "
            f"(this one keeps {held}: `maemae report --config F {held}`)"
        )
    if saved.orders:
        raise StoreError(
            f"store {where}: it holds orders of {day} whose exchange ran inside an earlier run and is "
            f"gone: use --exchange (`maemae sim serve` or `maemae kis-mock`), or {NEW_STORE}"
        )


ACCOUNT_DOCUMENT = "account"  # the runtime document naming the account a store's day on the clock trades


def trading_account(config: MaemaeConfig) -> str:
    """The account a day on the clock trades, as a store keeps it: the broker, KIS's paper or real server and
    the account number (its last four digits hidden: the line may go to an alert). Known before anything
    connects; Creon's account is the one it is logged in to."""
    kind = config.broker.kind
    if kind == "sim":
        return 'the simulated exchange (broker.kind = "sim")'
    if kind == "creon":
        return "the Creon account logged in"
    kis = config.broker.kis
    number = KisCredentials.from_environment(kis).account
    return f"KIS {'paper' if kis.paper else 'real'} account {masked(number)}-{kis.product_code}"


def _one_account(config: MaemaeConfig, store: StateStore, saved: SavedState) -> None:
    """A store keeps one account's book: its orders, holdings, cash and broker order numbers. A run on it for
    another account (the config switched from KIS's paper server to the real one, another account number, or
    another broker) is refused before anything connects: its recovery would look the store's orders up by
    their numbers among the other account's orders, whose numbers may be the same, and take those orders'
    fills (a trade made outside maemae, on the real account) for maemae's own. The first run on a store, or
    on one saved by an older maemae, records its account."""
    account = trading_account(config)
    held = saved.runtime.get(ACCOUNT_DOCUMENT, {}).get("account")
    if held is None:
        store.commit(StateChange(runtime={ACCOUNT_DOCUMENT: {"account": account}}))
    elif held != account:
        where = describe(config.store.url)
        raise StoreError(
            f"store {where} keeps the book of {held}, and this run trades {account}: one account per store "
            "(recovery would take the other account's orders for the store's), so give this run its own "
            "store.url, or set the config back"
        )


def _trading_venue(
    config: MaemaeConfig,
    market: BacktestMarket,
    clock: Clock,
    options: RunOptions,
    codes: list[str],
    stack: ExitStack,
    replay: bool,
) -> tuple[Broker, PriceSource, SimulatedVenue | None]:
    """The broker orders go to, where prices come from, and the simulated exchange to feed (or None)."""
    if replay:
        assert options.replay is not None
        venue = open_venue(config, market, clock, options.venue, stack)
        return venue, ReplayedQuotes(market, options.replay, clock.now), venue
    if config.broker.kind == "creon":  # COM: made on this thread, which also runs the day
        creon = CreonBroker(Win32Runtime(), clock=clock.now, config=config.broker.creon, trade_codes=codes)
        return creon, creon, None
    kis = KisBroker.from_config(config.broker.kis, clock=clock.now, trade_codes=codes)
    stack.callback(kis.close)
    if config.broker.kind == "kis":
        return kis, kis, None
    sim = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
    return sim, kis, sim


def _today_so_far(prices: PriceSource) -> TodaySoFar | None:
    """Where a run started during the day finds today's minute bars before its start (or its restart's
    pause): the stored day of a replay, KIS's minute chart on the clock. Creon's chart is not asked: its
    today's bars are untested here (a Creon run builds today's bars from its start)."""
    if isinstance(prices, ReplayedQuotes):
        return prices.bars_before
    if isinstance(prices, KisBroker):
        kis = prices
        return BrokerMinutes(
            lambda code, now, after: kis.minute_bars_today(
                code, f"{now:%H%M%S}", None if after is None else f"{after:%H%M%S}"
            )
        )
    return None


def _real(broker: Broker) -> KisBroker | CreonBroker:
    inner = innermost(broker)
    assert isinstance(inner, KisBroker | CreonBroker)  # without a simulated exchange, a real broker
    return inner


def _account(broker: Broker) -> tuple[str, str | None]:
    """The account number a person confirms a live order with, and KIS's product code that may follow it."""
    real = _real(broker)
    if isinstance(real, KisBroker):
        credentials = real.rest.credentials
        return credentials.account, credentials.product_code
    return real.account, None


def _watch_lock(scheduler: Scheduler, check: LockCheck) -> None:
    """Check the instance lock at every whole minute, before that minute's timers (the live loop's timers
    start on whole minutes): a run that sends no order still finds a lost lock within a minute, and does no
    more work after it."""
    first = scheduler.clock.now().replace(second=0, microsecond=0) + LOCK_CHECK_EVERY
    scheduler.every(LOCK_CHECK_EVERY, lambda _now: check(), start=first, name="instance lock", priority=-1)


def _drive(scheduler: Scheduler, live: LiveDay, clock: Clock) -> signal.Signals | None:
    """Run the day's timers: jumping on a simulated clock, sleeping on a wall clock until the close (or until
    SIGINT/SIGTERM, after which the state is already saved). Returns the signal that stopped the day, if one
    did: such a day has not closed, and fills may have come after its last poll (the restart collects them),
    so its book is not compared with the broker's; that would report differences that do not exist."""
    schedule = live.schedule
    assert schedule is not None
    if isinstance(clock, SimulatedClock):  # (a start after the close runs the close at once)
        return _run_simulated(
            scheduler, max(schedule.close + CLOSE_GRACE, clock.now()) + timedelta(minutes=1)
        )
    speed = clock.speed if isinstance(clock, AcceleratedClock) else 1.0
    received: list[signal.Signals] = []

    async def main() -> None:
        stop = asyncio.Event()
        live.on_close = lambda _report: stop.set()
        loop = asyncio.get_running_loop()

        def stop_by(number: signal.Signals) -> None:
            received.append(number)
            stop.set()

        for number in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, or not the main thread
                loop.add_signal_handler(number, stop_by, number)
        await scheduler.run_forever(stop, speed)

    asyncio.run(main())
    return received[0] if received else None


def _run_simulated(scheduler: Scheduler, until: datetime) -> signal.Signals | None:
    """A replay at speed 0 (a simulated clock, as fast as it goes): the timers due at each moment in turn,
    until ``until`` or until SIGINT/SIGTERM (:class:`StopSignals`, as ``maemae paper``), which stops the day
    between two moments, so its state is saved and the run ends with the same line as a day on the wall clock
    (Ctrl-C used to escape as a bare KeyboardInterrupt: exit 130 and not a word)."""
    with StopSignals() as stops:
        while stops.received is None and (due := scheduler.next_due()) is not None and due <= until:
            scheduler.run_until(due)  # every timer due at that moment, as one run_until(until) would
        if stops.received is None:
            scheduler.run_until(until)
    return stops.received


def replayed_day_in_process(
    config: MaemaeConfig,
    market: BacktestMarket,
    day: date,
    clock: SimulatedClock,
    store: StateStore,
    alerts: AlertSink | None = None,
    *,
    carried: bool = True,
) -> tuple[LiveDay, SimExchange]:
    """A stored day on the live loop with the simulated exchange in this process, recovered from ``store``:
    what tests and benchmarks drive with their own scheduler. The exchange takes over the store's book, as
    a restart's on the clock does; not ``carried``, it starts empty, as an account that no longer holds
    what the store says."""
    sim = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
    saved = store.load(day)
    if carried:
        carry_over(sim, saved, day)
    core = build_core(config, market.calendar, market.instruments, sim, resilient=True)
    recorder = StateRecorder(store, core.kernel)
    recover(core.kernel, saved, core.orders.broker, recorder, clock.now(), alerts)
    live = LiveDay(
        core,
        day=day,
        market=market,
        selector=universe_selector(config, market.calendar),
        calendar=market.calendar,
        store=store,
        recorder=recorder,
        prices=ReplayedQuotes(market, day, clock.now),
        feed=sim,
        alerts=alerts,
    )
    return live, sim
