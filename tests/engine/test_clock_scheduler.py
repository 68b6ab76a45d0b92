import asyncio
from datetime import date, datetime, time, timedelta

import pytest

from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock, WallClock
from maemae.engine.scheduler import Scheduler
from maemae.errors import DomainError
from maemae.krx.calendar import default_calendar
from maemae.krx.sessions import session_schedule

CAL = default_calendar()


def at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=KST)


def test_simulated_clock_when_moved_back_raises() -> None:
    clock = SimulatedClock(at(date(2025, 3, 4), time(9)))
    clock.set(at(date(2025, 3, 4), time(10)))
    with pytest.raises(DomainError, match="cannot go back"):
        clock.set(at(date(2025, 3, 4), time(9, 30)))


def test_wall_clock_when_asked_answers_in_kst() -> None:
    assert WallClock().now().utcoffset() == timedelta(hours=9)


def test_every_when_trading_day_runs_each_cadence_the_exact_number_of_times() -> None:
    day = date(2025, 3, 4)
    clock = SimulatedClock(at(day, time(8)))
    scheduler = Scheduler(clock)
    prices: list[datetime] = []
    daily: list[datetime] = []
    scheduler.every(
        timedelta(seconds=10), prices.append, start=at(day, time(9)), end=at(day, time(15, 30)), name="prices"
    )
    scheduler.every(
        timedelta(minutes=1),
        daily.append,
        start=at(day, time(9)),
        end=at(day, time(15, 30)),
        name="daily strategy",
    )
    runs = scheduler.run_until(at(day, time(16)))
    assert len(prices) == 6.5 * 360 + 1 == 2341
    assert len(daily) == 391
    assert runs == 2341 + 391
    assert prices[1] - prices[0] == timedelta(seconds=10)
    assert clock.now() == at(day, time(16))


def test_equal_times_when_run_follow_priority_then_creation_order() -> None:
    day = date(2025, 3, 4)
    scheduler = Scheduler(SimulatedClock(at(day, time(8))))
    order: list[str] = []
    moment = at(day, time(9))
    scheduler.at(moment, lambda _: order.append("second"), name="b", priority=1)
    scheduler.at(moment, lambda _: order.append("first"), name="a", priority=0)
    scheduler.at(moment, lambda _: order.append("third"), name="c", priority=1)
    scheduler.run_until(moment)
    assert order == ["first", "second", "third"]


def test_daily_at_when_spanning_holidays_runs_on_trading_days_only() -> None:
    scheduler = Scheduler(SimulatedClock(at(date(2025, 12, 29), time(0))))
    runs: list[datetime] = []
    scheduler.daily_at(time(8, 50), runs.append, calendar=CAL, name="before the open")
    scheduler.run_until(at(date(2026, 1, 6), time(0)))
    assert [r.date() for r in runs] == [
        date(2025, 12, 29),
        date(2025, 12, 30),
        date(2026, 1, 2),
        date(2026, 1, 5),
    ]
    assert all(r.time() == time(8, 50) for r in runs)


def test_daily_when_after_the_close_follows_special_session_days() -> None:
    scheduler = Scheduler(SimulatedClock(at(date(2025, 11, 12), time(0))))
    runs: list[datetime] = []

    def after_close(day: date) -> datetime | None:
        schedule = session_schedule(day, CAL)
        return schedule.close + timedelta(minutes=5) if schedule else None

    scheduler.daily(after_close, runs.append, calendar=CAL, name="after the close")
    scheduler.run_until(at(date(2025, 11, 14), time(23)))
    assert [r.time() for r in runs] == [time(15, 35), time(16, 35), time(15, 35)]  # 11-13 is the exam day


def test_cancel_when_called_from_a_callback_stops_the_timer() -> None:
    day = date(2025, 3, 4)
    scheduler = Scheduler(SimulatedClock(at(day, time(9))))
    runs: list[datetime] = []

    def tick(now: datetime) -> None:
        runs.append(now)
        if len(runs) == 3:
            timer.cancel()

    timer = scheduler.every(timedelta(seconds=10), tick, start=at(day, time(9)), name="tick")
    scheduler.run_until(at(day, time(10)))
    assert len(runs) == 3
    assert scheduler.next_due() is None


def test_run_forever_when_on_wall_clock_runs_real_timers_and_stops() -> None:
    async def scenario() -> list[datetime]:
        clock = WallClock()
        scheduler = Scheduler(clock)
        stop = asyncio.Event()
        runs: list[datetime] = []

        def tick(now: datetime) -> None:
            runs.append(now)
            if len(runs) == 3:
                stop.set()

        scheduler.every(timedelta(milliseconds=50), tick, start=clock.now(), name="tick")
        await asyncio.wait_for(scheduler.run_forever(stop), timeout=5)
        return runs

    runs = asyncio.run(scenario())
    assert len(runs) == 3
    assert runs[2] - runs[0] >= timedelta(milliseconds=90)


def test_run_until_when_clock_is_wall_clock_refuses() -> None:
    with pytest.raises(DomainError, match="needs a SimulatedClock"):
        Scheduler(WallClock()).run_until(datetime.now(KST))
