"""The clock port: what time it is, for every mode (DESIGN 1.2).

No module but this one reads the system time. A backtest uses ``SimulatedClock`` and jumps from event to
event; paper and live use ``WallClock``; a replayed day on the live loop uses ``AcceleratedClock``. All answer
in KST.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from maemae.domain.clock_time import KST, require_kst
from maemae.errors import DomainError


class Clock(Protocol):
    def now(self) -> datetime: ...


class SimulatedClock:
    """A clock that only moves when told to, and never backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = require_kst(start, "clock start")

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        moment = require_kst(moment, "clock time")
        if moment < self._now:
            raise DomainError(f"clock cannot go back from {self._now.isoformat()} to {moment.isoformat()}")
        self._now = moment


class WallClock:
    """Real time, in KST."""

    def now(self) -> datetime:
        return datetime.now(KST)


class AcceleratedClock:
    """Market time running ``speed`` times faster than real time from ``start``: the live loop over a
    replayed day (``maemae run --replay DATE --speed N``)."""

    def __init__(
        self, start: datetime, speed: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if speed <= 0:
            raise DomainError(f"clock speed {speed}: expected a positive factor")
        self._start = require_kst(start, "clock start")
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(self._monotonic() - self._origin) * self.speed)

    def restart(self) -> None:
        """Stand at ``start`` again from now: a clock made before a slow setup starts when it is done."""
        self._origin = self._monotonic()
