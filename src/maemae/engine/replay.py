"""A persisted replay: the backtest driver with the state store attached, restartable after any crash.

This is how a paper replay runs (and what the crash test kills): the same engine as a backtest, against a
simulated venue that may live in another process, with every state change written through the
:class:`~maemae.engine.persistence.StateRecorder` and the driver's position saved after every step. On start
it loads the saved state and recovers with the venue (``engine.recovery``) before it takes the next step, so a
restart continues the day where it stopped, without sending an order twice or losing a fill.

An order whose request's reply was lost (a submit, cancel or modify) is settled by querying the venue at the
end of the step, as recovery does after a restart. Before every step it obeys the kill switch
(``engine.operator``) and applies changed parameters (``engine.params``; a strategy's parameter builds the
strategies again and evaluates the day's daily signals again from that step on). Cash and holdings are
reconciled with the venue every ``execution.reconcile_s`` of market time, by the rule of
``execution.reconciliation`` (trades made outside maemae show up there, are audited and left alone).

It runs in "every bar" mode, as the live loop does: each step is decided from the state alone, so a step
redone after a restart decides exactly what it would have decided the first time.

Given the store's instance lock (``check_lock``), it checks the lock before every step (a market minute)
and before every order request (``engine.lock_guard``), and stops with ``InstanceLockLost`` once it is lost.
Given ``stop`` (a paper run's Ctrl-C or SIGTERM), it asks it before every step and ends the replay there,
between two saved steps, so the store holds exactly where a restart goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from maemae.alerts.messages import AlertSink, NoAlerts
from maemae.backtest.market import BacktestMarket
from maemae.backtest.runner import BacktestRunner, Cursor, DayRecord, Pacer
from maemae.brokers.sim.venue import SimulatedVenue
from maemae.config import MaemaeConfig
from maemae.domain.clock_time import KST
from maemae.engine.alerting import DayWatch, TradeAlerts, alert_day_closed, alert_differences
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import Engine, build_backtest_engine
from maemae.engine.lock_guard import LockCheck, LockGuardedBroker
from maemae.engine.operator import OperatorSwitch
from maemae.engine.params import ParamsWatcher
from maemae.engine.persistence import StateRecorder
from maemae.engine.recovery import (
    RecoveryReport,
    in_doubt,
    reconcile_and_record,
    recover,
    settle_in_doubt,
)
from maemae.execution.reconciliation import ShortfallWatch
from maemae.krx.calendar import TradingCalendar
from maemae.krx.sessions import session_schedule
from maemae.ports.state import StateStore


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    engine: Engine
    recovery: RecoveryReport
    resumed_at: Cursor | None
    days: list[DayRecord]  # the days this run closed
    stopped_at: Cursor | None = None  # where ``stop`` ended the replay (the step a restart goes on from)


class _Stopped(Exception):
    """Raised before a step when ``stop`` asks for it: the only way out of the runner between two steps."""


def replay_moment(calendar: TradingCalendar, day: date, cursor: Cursor | None) -> datetime:
    """When, in the replayed day's time, a replay of ``day`` (re)starts from ``cursor``: ten minutes before
    the open for a day not begun, the start of the next bar to step for a day stopped half-way, a second
    after the close for a closed day. What a start records (its recovery, an error it stops on) is dated
    there: the replay's clock reads midnight until its first step, which told the operator nothing."""
    schedule = session_schedule(day, calendar)
    if schedule is None:  # not a session: nothing of the day's time to go by
        return datetime.combine(day, time(0), tzinfo=KST)
    if cursor is None or cursor.day != day:
        return schedule.open - timedelta(minutes=10)  # where the runner starts a day
    starts = schedule.minute_bar_starts()
    return starts[cursor.next_bar] if cursor.next_bar < len(starts) else schedule.close + timedelta(seconds=1)


def _tell_the_start(tell: Callable[[str], None], cursor: Cursor | None, recovery: RecoveryReport) -> None:
    """Where a replay goes on from (a stopped one), and what its recovery found."""
    if cursor is not None:
        tell(f"resumed {cursor.day} at step {cursor.next_bar}")
    tell(recovery.line())


def run_persisted_replay(
    config: MaemaeConfig,
    market: BacktestMarket,
    days: list[date],
    venue: SimulatedVenue,
    store: StateStore,
    clock: SimulatedClock | None = None,
    pace: Pacer | None = None,
    alerts: AlertSink | None = None,
    *,
    check_lock: LockCheck | None = None,
    stop: Callable[[], bool] | None = None,
    tell: Callable[[str], None] | None = None,
) -> ReplayOutcome:
    """Replay ``days`` on ``venue``, every change saved to ``store``; ``tell`` hears, as the replay starts,
    where it goes on from and what recovery found (a replay paced to the wall clock runs for hours)."""
    engine = build_backtest_engine(
        config,
        market.calendar,
        market.instruments,
        days[0],
        venue=venue,
        clock=clock,
        resilient=True,
        orders_through=partial(LockGuardedBroker, check=check_lock) if check_lock is not None else None,
    )
    recorder = StateRecorder(store, engine.kernel)
    sink: AlertSink = alerts or NoAlerts()
    TradeAlerts(engine.orders, sink, fills=config.alerts.fills)
    watch = DayWatch(engine.kernel, sink)
    cursor = Cursor.from_dict(store.load(None).runtime.get("cursor", {}))
    if cursor is not None and cursor.day < days[0]:
        # an earlier day, closed or stopped and never resumed, is over: the replay starts its own first day
        # (it printed "resumed" with the earlier day's step), and recovery ends what that day left open
        cursor = None
    saved = store.load(cursor.day if cursor else days[0])
    restart = replay_moment(market.calendar, cursor.day if cursor else days[0], cursor)
    started = max(engine.clock.now(), restart)
    report = recover(engine.kernel, saved, engine.orders.broker, recorder, started, sink, "venue")
    if tell is not None:
        _tell_the_start(tell, cursor, report)
    runner = BacktestRunner(engine, market, every_bar=True)
    closed = len(runner.recorder.days)

    reconcile_every = max(1, config.execution.reconcile_s // 60)  # steps are market minutes
    shortfalls = ShortfallWatch()

    position = cursor or Cursor(days[0], 0)  # the next step to run: where a stop leaves the replay

    def on_step(at: Cursor) -> None:
        nonlocal closed, position
        position = at
        if in_doubt(engine.orders):  # a reply was lost this step: settle by query, never by sending again
            settle_in_doubt(engine.orders, engine.orders.broker, engine.clock.now())
        now = engine.clock.now()
        recorder.checkpoint(at.to_dict(), valued=(now, runner.price_of) if runner.price_of else None)
        watch.check(engine.clock.now())
        if at.next_bar % reconcile_every == 0:
            lines = reconcile_and_record(
                engine.kernel, engine.orders.broker, recorder, engine.clock.now(), shortfalls, runner.price_of
            )
            alert_differences(sink, lines, engine.clock.now())
        if len(runner.recorder.days) > closed:  # the runner just closed a day
            closed = len(runner.recorder.days)
            record = runner.recorder.days[-1]
            recorder.close_day(record.day, engine.clock.now(), record.equity, record.prices)
            today = [o for o in engine.orders.orders.values() if o.created_at.date() == record.day]
            alert_day_closed(
                sink,
                record.day,
                engine.clock.now(),
                orders=sum(1 for o in today if o.broker_order_no),
                fills=sum(len(o.fill_ids) for o in today),
                equity=record.equity,
                start_equity=engine.gate.state.day_start_equity,
            )

    switch = OperatorSwitch(store, engine.kernel, recorder, config.execution.halt_file, sink)
    params = ParamsWatcher(
        store, config, engine.kernel, recorder, lambda daily, minute, _: runner.use_strategies(daily, minute)
    )

    def before_step(at: datetime) -> None:
        if pace is not None:
            pace(at)
        if check_lock is not None:  # after the wait, before the step does anything
            check_lock()
        if stop is not None and stop():
            raise _Stopped
        switch.poll(at)
        params.poll(at)

    try:
        runner.run(days, resume=cursor, on_step=on_step, before_step=before_step)
    except _Stopped:
        engine.kernel.close_day()  # the day's repeated strategy errors, as at a close
        return ReplayOutcome(engine, report, cursor, runner.recorder.days, stopped_at=position)
    return ReplayOutcome(engine, report, cursor, runner.recorder.days)
