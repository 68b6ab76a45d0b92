"""Pacing a replay on the wall clock: market time runs ``speed`` times faster than real time.

A paper replay at ``--speed 60`` lives a trading minute in one real second, so a person (or the dashboard)
can watch it trade; ``speed = 0`` means as fast as the machine goes. The first step anchors market time to
the wall clock; each later step waits until its market time comes round. A replay that falls behind (a slow
step) does not sleep and does not try to catch up by skipping anything: every step still runs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime

from maemae.engine.clock import Clock, WallClock
from maemae.errors import ConfigError


def check_speed(speed: float) -> None:
    """``--speed`` must be 0 or a positive, finite factor: ``nan`` compared false with everything and ran a
    replay at no speed at all, and ``inf`` as fast as 0 under another name."""
    if not math.isfinite(speed) or speed < 0:
        raise ConfigError(f"--speed {speed}: expected 0 (as fast as possible) or a positive factor")


class WallPacer:
    def __init__(
        self,
        speed: float,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_speed(speed)
        self.speed = speed
        self._clock = clock or WallClock()
        self._sleep = sleep
        self._anchor: tuple[datetime, datetime] | None = None  # (market time, wall time) of the first step

    def __call__(self, market_time: datetime) -> None:
        if self.speed == 0:
            return
        wall = self._clock.now()
        if self._anchor is None:
            self._anchor = (market_time, wall)
            return
        market_start, wall_start = self._anchor
        due = (market_time - market_start).total_seconds() / self.speed
        behind = (wall - wall_start).total_seconds()
        if due > behind:
            self._sleep(due - behind)
