"""The live loop closes the kernel's day at the close, as the backtest does after each day: a minute strategy
that fails on every call has its repeats of the day logged with their full count under that day at the
close (not only at the 10/100/1,000 marks, and not at a next day's start a one-day run never reaches), and
the kernel lets go of the day's bars."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from maemae.backtest.service import load_market
from maemae.domain.clock_time import KST
from maemae.domain.intents import IntentSource
from maemae.engine.books import book_differences
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.replay import run_persisted_replay
from maemae.engine.runtime import replayed_day_in_process
from maemae.engine.scheduler import Scheduler
from maemae.errors import StrategyError
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config
from tests.backtest.test_strategy_contract import user_class
from tests.backtest.test_strategy_mistakes import DAILY, MINUTE
from tests.engine.test_kernel_strategy_errors import failing_strategy

DAY = date(2025, 12, 3)


@pytest.mark.whole_day
def test_live_day_when_the_minute_strategy_always_raises_logs_the_days_repeats_at_the_close(
    market_root: Path, tmp_path: Path
) -> None:
    config = make_config(
        market_root,
        execution={"halt_file": str(tmp_path / "HALT")},
        strategies={"minute": {"class": failing_strategy(tmp_path)}},
    )
    market, _ = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(7, 0), tzinfo=KST))
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    closed: list[int] = []
    try:
        live, sim = replayed_day_in_process(config, market, DAY, clock, store)
        kernel = live.core.kernel
        scheduler = Scheduler(clock)
        assert live.plan(scheduler)
        with capture_logs() as logs:
            # how many lines of the day's repeats are logged when the day's results are handed on
            live.on_close = lambda _report: closed.append(
                len([e for e in logs if e["event"] == "strategy_errors_repeated" and "day" in e])
            )
            scheduler.run_until(datetime.combine(DAY, time(16, 0), tzinfo=KST))
        assert live.closed
        errors = kernel.strategy_errors
        assert errors > 1_000
        full = [e for e in logs if e["event"] == "strategy_error"]
        repeated = [e for e in logs if e["event"] == "strategy_errors_repeated"]
        day_ends = [e for e in repeated if "day" in e]
        assert len(full) == 1
        assert [(e["day"], e["hook"]) for e in day_ends] == [(DAY.isoformat(), "on_bar")]
        assert 1 + day_ends[0]["count"] == errors  # every error of the day: logged in full, or counted here
        assert closed == [1], "logged before the day's results are handed on"
        assert kernel.data == {}  # the day's bars are let go of
        # what runs after the close does not need them: the book check
        core = live.core
        assert book_differences(core.orders, core.portfolio, sim, sim.all_orders()) == []
    finally:
        store.close()


def test_paper_replay_when_stopped_mid_day_logs_the_days_repeats_so_far(
    market_root: Path, tmp_path: Path
) -> None:
    """A day a signal stops (``maemae paper`` stopped by Ctrl-C) never reaches its close: its repeats are
    logged with their count when the replay stops, not lost with the process."""
    config = make_config(
        market_root,
        execution={"halt_file": str(tmp_path / "HALT")},
        strategies={"minute": {"class": failing_strategy(tmp_path)}},
    )
    market, days = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
    exchange = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with capture_logs() as logs:
            outcome = run_persisted_replay(
                config, market, days, exchange, store, clock, stop=lambda: clock.now().time() >= time(11, 0)
            )
    finally:
        store.close()
    assert outcome.stopped_at is not None
    errors = outcome.engine.kernel.strategy_errors
    assert errors > 100
    day_ends = [e for e in logs if e["event"] == "strategy_errors_repeated" and "day" in e]
    assert [(e["day"], e["hook"]) for e in day_ends] == [(DAY.isoformat(), "on_bar")]
    assert 1 + day_ends[0]["count"] == errors


@pytest.mark.whole_day
def test_live_day_when_evaluate_returns_no_signal_then_an_error_at_the_users_evaluate_and_no_buy(
    market_root: Path, tmp_path: Path
) -> None:
    """The live loop kept what ``evaluate`` returned as the stock's signal: 1.7 stood for BUY."""
    config = make_config(
        market_root,
        execution={"halt_file": str(tmp_path / "HALT")},
        strategies={
            "daily": {"class": user_class(tmp_path, DAILY, "Fraction")},
            "minute": {"class": user_class(tmp_path, MINUTE, "OnBuy")},
        },
    )
    market, _ = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(7, 0), tzinfo=KST))
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        live, _sim = replayed_day_in_process(config, market, DAY, clock, store)
        scheduler = Scheduler(clock)
        assert live.plan(scheduler)
        with capture_logs() as logs:
            scheduler.run_until(datetime.combine(DAY, time(16, 0), tzinfo=KST))
        assert live.closed
        (first, *_) = [e for e in logs if e["event"] == "strategy_error"]
        expected = "evaluate returned 1.7 (float): expected a Signal (Signal.BUY, Signal.SELL or Signal.NONE)"
        assert (first["hook"], first["error"]) == ("evaluate", repr(StrategyError(f"above: {expected}")))
        defined = DAILY.splitlines().index("class Fraction(Above):") + 2
        assert first["at"] == f"{tmp_path / 'fraction.py'}:{defined} in evaluate (what it returned)"
        orders = live.core.orders.orders.values()
        assert not [o for o in orders if o.source is IntentSource.STRATEGY]
    finally:
        store.close()
