"""``MinuteBar``: one minute of one stock's trading as the live loop builds it from price snapshots.

A value of the domain, not of the engine, because the state store keeps the bars a live day has built: a run
started again during the day trades on the same bars as before its stop (``engine.forming``, ``engine.live``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class MinuteBar:
    """Mutable while its minute runs: the forming bar takes each snapshot's price and volume."""

    start: datetime
    open: int
    high: int
    low: int
    close: int
    volume: int
    value: int
