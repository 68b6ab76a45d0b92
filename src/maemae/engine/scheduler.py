"""Timers on the clock port: "every 10 s", "every 1 min", "at 08:50 on trading days", "after the close".

One heap of timers, ordered by (due time, priority, creation order), so equal times always run in the same
order. Two drivers run it: ``run_until`` for a simulated clock (jumps from timer to timer: a trading day of
10-second timers runs in milliseconds) and ``run_forever`` for the wall clock (asyncio, sleeping until the
next timer). A wall-clock timer that is late runs once, then keeps its cadence from its original start; it
never fires a burst to catch up (a 10-second price refresh missed during a pause is simply the next one).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol

from maemae.domain.clock_time import KST, require_kst
from maemae.engine.clock import Clock, SimulatedClock
from maemae.errors import DomainError

Callback = Callable[[datetime], None]


class SessionCalendar(Protocol):
    """What ``daily_at`` needs from a trading calendar."""

    def is_session(self, d: date) -> bool: ...

    def next_session(self, d: date) -> date: ...


@dataclass(order=True, slots=True)
class _Entry:
    due: datetime
    priority: int
    sequence: int
    timer: Timer = field(compare=False)


@dataclass(slots=True, eq=False)
class Timer:
    """A scheduled callback; ``cancel()`` stops it. ``next_due`` gives the time after a run (None: done)."""

    name: str
    callback: Callback
    next_due: Callable[[datetime], datetime | None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[_Entry] = []
        self._sequence = itertools.count()

    # ----- adding timers
    def _push(self, due: datetime, timer: Timer, priority: int) -> Timer:
        heapq.heappush(
            self._heap, _Entry(require_kst(due, f"timer {timer.name}"), priority, next(self._sequence), timer)
        )
        return timer

    def at(self, when: datetime, callback: Callback, *, name: str, priority: int = 0) -> Timer:
        """Run once at ``when``."""
        return self._push(when, Timer(name, callback, lambda _: None), priority)

    def every(
        self,
        interval: timedelta,
        callback: Callback,
        *,
        start: datetime,
        end: datetime | None = None,
        name: str,
        priority: int = 0,
    ) -> Timer:
        """Run at ``start`` and every ``interval`` after it, up to and including ``end``."""
        if interval <= timedelta(0):
            raise DomainError(f"timer {name}: interval {interval}, expected a positive duration")

        def following(previous: datetime) -> datetime | None:
            due = previous + interval
            return None if end is not None and due > end else due

        return self._push(start, Timer(name, callback, following), priority)

    def daily_at(
        self,
        time_of_day: time,
        callback: Callback,
        *,
        calendar: SessionCalendar,
        name: str,
        priority: int = 0,
        after: datetime | None = None,
    ) -> Timer:
        """Run at ``time_of_day`` (KST) on every trading day, from the first one not before ``after``."""
        start = require_kst(after or self.clock.now(), "timer start")

        def on_session(day: date) -> datetime:
            while not calendar.is_session(day):
                day = calendar.next_session(day)
            return datetime.combine(day, time_of_day, tzinfo=KST)

        first = on_session(start.date())
        if first < start:
            first = on_session(calendar.next_session(start.date()))

        def following(previous: datetime) -> datetime:
            return on_session(calendar.next_session(previous.date()))

        return self._push(first, Timer(name, callback, following), priority)

    def daily(
        self,
        when: Callable[[date], datetime | None],
        callback: Callback,
        *,
        calendar: SessionCalendar,
        name: str,
        priority: int = 0,
    ) -> Timer:
        """Run once per trading day at a time that depends on the day, e.g. ``session_schedule(d).close``
        for "after the close" (special days move it)."""
        day = self.clock.now().date()

        def next_from(d: date, not_before: datetime) -> datetime:
            while True:
                if calendar.is_session(d):
                    moment = when(d)
                    if moment is not None and moment >= not_before:
                        return moment
                d = calendar.next_session(d)

        first = next_from(day, self.clock.now())
        return self._push(
            first,
            Timer(name, callback, lambda prev: next_from(calendar.next_session(prev.date()), prev)),
            priority,
        )

    # ----- running them
    def next_due(self) -> datetime | None:
        self._drop_cancelled()
        return self._heap[0].due if self._heap else None

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0].timer.cancelled:
            heapq.heappop(self._heap)

    def _run_next(self, now: datetime) -> None:
        entry = heapq.heappop(self._heap)
        timer = entry.timer
        timer.callback(now)
        if timer.cancelled:
            return
        following = timer.next_due(entry.due)
        while following is not None and following <= now:
            following = timer.next_due(following)  # late on the wall clock: skip the missed runs
        if following is not None:
            heapq.heappush(self._heap, _Entry(following, entry.priority, next(self._sequence), timer))

    def run_until(self, until: datetime) -> int:
        """Simulated clock: run every timer due up to ``until`` in order, moving the clock to each.

        Returns the number of runs.
        """
        if not isinstance(self.clock, SimulatedClock):
            raise DomainError("run_until needs a SimulatedClock; the wall clock runs with run_forever")
        runs = 0
        until = require_kst(until, "run_until")
        while (due := self.next_due()) is not None and due <= until:
            self.clock.set(due)
            self._run_next(due)
            runs += 1
        self.clock.set(max(until, self.clock.now()))
        return runs

    async def run_forever(self, stop: asyncio.Event, speed: float = 1.0) -> None:
        """Wall clock: sleep until the next timer, run it, repeat until ``stop`` is set. ``speed`` is how
        many clock seconds pass per real second (an accelerated clock)."""
        while not stop.is_set():
            due = self.next_due()
            if due is None:
                await _wait(stop, None)
                continue
            delay = (due - self.clock.now()).total_seconds() / speed
            if delay > 0 and await _wait(stop, delay):
                return
            if self.next_due() == due:
                self._run_next(self.clock.now())


async def _wait(stop: asyncio.Event, seconds: float | None) -> bool:
    """Sleep ``seconds`` (forever when None) or until ``stop`` is set; True when stopped."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
