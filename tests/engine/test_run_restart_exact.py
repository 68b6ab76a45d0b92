"""A day on the live loop stopped half-way and started again trades exactly as the same day run unbroken:
the minute bars the run built from its snapshots, each stock's daily signal, the day's universe and its
safe-asset decision are saved with every cycle and taken back at the restart (``engine.live_state``), and the
timers go on on the grid they ran on before the stop. Before, a restart on the clock had no bars of today,
ran its timers from the moment of the restart and made the safe-asset decision again (it sold the safe asset
at 11:00:30 and traded otherwise for the rest of the day)."""

from __future__ import annotations

import signal
import sqlite3
import sys
from datetime import datetime, time
from pathlib import Path

import pytest

from maemae.config import load_config
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.runtime import RunOptions, run_trading_day
from maemae.engine.scheduler import Scheduler
from maemae.store.repository import SqlStateStore
from tests.engine.test_run import DAY, kis_paper_server

# a cycle every 30 s: a day in half a minute, and a stop at hh:mm:30 is half-way to the next daily evaluation
CADENCES = "price_refresh_s = 30\nminute_eval_s = 30\ndaily_eval_s = 60\nreconcile_s = 60"
LOGS = CADENCES + '\n[logging]\ndir = "{}/logs"'  # the log beside the store


def _trades(directory: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The day's fills and orders (denied ones included), as the store holds them, in time order."""
    with sqlite3.connect(directory / "state.db") as db:
        fills = list(db.execute("select at, code, side, quantity, price from fills order by at, code, side"))
        orders = list(
            db.execute(
                "select created_at, code, side, quantity, order_type, limit_price, state, reason from orders "
                "order by created_at, code, side"
            )
        )
    return fills, orders


def _at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute, second), KST)


class _SigtermAt:
    """Sends this process SIGTERM once a run's simulated day has run the timers of ``stop_at``, as a service
    manager would at that moment: the day stops there, its state saved. (The scheduler is watched, not the
    clock: the compiled build's clock cannot be subclassed.)"""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, stop_at: datetime | None) -> None:
        self.stop_at = stop_at
        run_until = Scheduler.run_until

        def run_then_stop(scheduler: Scheduler, until: datetime) -> None:
            run_until(scheduler, until)
            if self.stop_at is not None and until >= self.stop_at:
                self.stop_at = None
                signal.raise_signal(signal.SIGTERM)

        monkeypatch.setattr(Scheduler, "run_until", run_then_stop)


def _stopped_by_sigterm(config: Path, clock: SimulatedClock) -> None:
    """``run`` on ``clock`` until its SIGTERM: the day stops with its state saved."""
    stopped = run_trading_day(load_config(config), RunOptions(clock=clock))
    assert stopped.note.startswith(f"{DAY}: stopped before the close by SIGTERM"), stopped.note


def day_on_the_clock(
    root: Path,
    directory: Path,
    monkeypatch: pytest.MonkeyPatch,
    start: datetime,
    stop_at: datetime | None,
    kind: str = "kis",
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], int]:
    """``run`` on a (simulated) wall clock from ``start`` with KIS's paper server (``kind`` ``sim``: the
    simulated exchange inside the run, on KIS's prices), stopped by SIGTERM at ``stop_at`` and started again
    at once when it is given: the day's fills and orders, and its cycles."""
    clock = SimulatedClock(start)
    _SigtermAt(monkeypatch, stop_at)
    directory.mkdir()
    with kis_paper_server(root, directory, monkeypatch, clock, LOGS.format(directory), kind) as (config, _):
        if stop_at is not None:
            _stopped_by_sigterm(config, clock)
            assert clock.now() == stop_at
        summary = run_trading_day(load_config(config), RunOptions(clock=clock))
    assert summary.note == f"{DAY}: the day is closed"
    assert summary.book_differences == []
    assert summary.report is not None
    return (*_trades(directory), summary.report.cycles)


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to itself is POSIX")
@pytest.mark.parametrize(
    "start",
    [
        _at(8, 0),
        # a first start after the open takes today's bars so far from KIS; they are saved with the first
        # checkpoint too, or a restart would trade without the morning's
        _at(10, 0),
    ],
)
def test_run_on_the_clock_when_stopped_and_started_again_then_it_trades_as_the_unbroken_day(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: datetime
) -> None:
    unbroken = day_on_the_clock(market_root, tmp_path / "unbroken", monkeypatch, start, None)
    assert len(unbroken[0]) > 10, "a day with few fills would show little"
    # stopped half-way through a minute: the daily timer's next moment is the next whole minute, not 30 s on
    restarted = day_on_the_clock(market_root, tmp_path / "restarted", monkeypatch, start, _at(11, 0, 30))
    fills, orders, cycles = restarted
    assert orders == unbroken[1]
    assert fills == unbroken[0]
    assert cycles == unbroken[2]  # the day's, counted on from the stopped run's


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to itself is POSIX")
def test_run_on_the_clock_when_started_again_after_a_pause_then_the_minutes_it_missed_come_from_kis(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart four and a half minutes after the stop asks KIS's minute chart for the minutes it missed,
    the one forming at the stop among them (the stopped run saw half of it): they are today's bars as the
    market traded them."""
    clock = SimulatedClock(_at(8, 0))
    stopper = _SigtermAt(monkeypatch, _at(11, 0, 30))
    directory = tmp_path / "paused"
    directory.mkdir()
    with kis_paper_server(market_root, directory, monkeypatch, clock, LOGS.format(directory)) as (config, _):
        _stopped_by_sigterm(config, clock)
        clock.set(_at(11, 5, 10))
        stopper.stop_at = _at(11, 6)
        _stopped_by_sigterm(config, clock)
    store = SqlStateStore(f"sqlite:///{tmp_path}/paused/state.db", create=False)
    try:
        built = store.live_minute_bars(DAY)
    finally:
        store.close()
    market = BarStore(market_root)
    assert len(built) >= 8
    for code, bars in built.items():
        missed = [b for b in bars if time(11, 0) <= b.start.time() < time(11, 5)]
        got = [(int(b.start.timestamp()) * 10**9, b.open, b.high, b.low, b.close, b.volume) for b in missed]
        traded = market.read_arrays(code, Timeframe.MINUTE, DAY, DAY)
        expected = [
            (int(ts), int(o), int(h), int(lo), int(c), int(v))
            for ts, o, h, lo, c, v in zip(
                traded.ts, traded.open, traded.high, traded.low, traded.close, traded.volume, strict=True
            )
            if time(11, 0) <= datetime.fromtimestamp(int(ts) / 1e9, KST).time() < time(11, 5)
        ]
        assert expected, f"{code} traded nothing in the pause: the test would show nothing"
        assert got == expected, code
