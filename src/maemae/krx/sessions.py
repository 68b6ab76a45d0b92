"""The session timetable of a trading day and the market phase at any moment (KST).

A normal day: opening call auction 08:30–09:00, continuous trading 09:00–15:20, closing call auction
15:20–15:30, after-hours sessions until 18:00. The year's first session opens at 10:00 (the close does not
move); on a CSAT day every time moves an hour later except the 18:00 end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from maemae.compiled import pickle_by_fields
from maemae.domain.clock_time import KST, require_kst
from maemae.errors import ConfigError
from maemae.krx.calendar import TradingCalendar, check_in_calendar


class MarketPhase(StrEnum):
    """What the regular market is doing at a moment."""

    CLOSED = "closed"
    PRE_OPEN_AUCTION = "pre_open_auction"  # orders collected for the opening call auction
    CONTINUOUS = "continuous"
    CLOSING_AUCTION = "closing_auction"  # orders collected for the closing call auction
    AFTER_HOURS = "after_hours"  # close-price and single-price sessions: limit orders only


@dataclass(frozen=True, slots=True)
class SessionSchedule:
    """One trading day's timetable, as timezone-aware KST datetimes."""

    day: date
    pre_open: datetime
    open: datetime
    closing_auction: datetime
    close: datetime
    after_hours_end: datetime
    # ``minute_bar_starts_ns``, made at its first call: a schedule is made once per day and calendar
    # (``session_schedule``), and a sweep or a comparison lays every day's bars on it again in each run
    _starts_ns: npt.NDArray[np.int64] | None = field(default=None, init=False, repr=False, compare=False)

    def minute_bar_starts(self) -> list[datetime]:
        """Start times of the day's 1-minute bars: each minute of the continuous session, then the closing
        auction's single print at ``close`` (docs/data.md)."""
        return [self.open + timedelta(minutes=i) for i in range(self._continuous_minutes())] + [self.close]

    def minute_bar_starts_ns(self) -> npt.NDArray[np.int64]:
        """``minute_bar_starts`` as epoch nanoseconds, without a datetime per bar (a backtest's every day);
        read-only, as it is shared by every caller."""
        starts = self._starts_ns
        if starts is None:
            opening = int(self.open.timestamp()) * _NS_PER_SECOND
            minutes = np.arange(self._continuous_minutes(), dtype=np.int64) * (60 * _NS_PER_SECOND)
            starts = np.append(opening + minutes, np.int64(int(self.close.timestamp()) * _NS_PER_SECOND))
            starts.flags.writeable = False
            object.__setattr__(self, "_starts_ns", starts)
        return starts

    def _continuous_minutes(self) -> int:
        return int((self.closing_auction - self.open).total_seconds() // 60)


_NS_PER_SECOND = 1_000_000_000


def _at(day: date, clock: time, shift_hours: int = 0) -> datetime:
    return datetime.combine(day, clock, tzinfo=KST) + timedelta(hours=shift_hours)


def replay_schedule(day: date, calendar: TradingCalendar) -> SessionSchedule:
    """The session of the day ``--replay`` names (``maemae run``, ``maemae paper``), refused in one line
    naming the option when the calendar does not cover it or KRX did not trade that day."""
    check_in_calendar(day, "--replay")
    schedule = session_schedule(day, calendar)
    if schedule is None:
        raise ConfigError(f"--replay {day}: KRX did not trade that day")
    return schedule


@lru_cache(maxsize=4096)  # a calendar never changes once built; every order asks for the day's phase
def session_schedule(day: date, calendar: TradingCalendar) -> SessionSchedule | None:
    """The timetable of ``day``, or None when KRX does not trade that day."""
    if not calendar.is_session(day):
        return None
    if day in calendar.csat_days:
        shift = 1
        return SessionSchedule(
            day=day,
            pre_open=_at(day, time(8, 30), shift),
            open=_at(day, time(9, 0), shift),
            closing_auction=_at(day, time(15, 20), shift),
            close=_at(day, time(15, 30), shift),
            after_hours_end=_at(day, time(18, 0)),
        )
    late_open = calendar.is_first_session_of_year(day)
    return SessionSchedule(
        day=day,
        pre_open=_at(day, time(9, 30) if late_open else time(8, 30)),
        open=_at(day, time(10, 0) if late_open else time(9, 0)),
        closing_auction=_at(day, time(15, 20)),
        close=_at(day, time(15, 30)),
        after_hours_end=_at(day, time(18, 0)),
    )


def market_phase(ts: datetime, calendar: TradingCalendar) -> MarketPhase:
    """The phase of the regular market at ``ts`` (which must be timezone-aware)."""
    moment = require_kst(ts)
    return phase_in(moment, session_schedule(moment.date(), calendar))


def phase_in(moment: datetime, schedule: SessionSchedule | None) -> MarketPhase:
    """The phase at ``moment`` (KST) of the day whose timetable is ``schedule`` (None: KRX does not trade)."""
    if schedule is None or moment < schedule.pre_open or moment >= schedule.after_hours_end:
        return MarketPhase.CLOSED
    if moment < schedule.open:
        return MarketPhase.PRE_OPEN_AUCTION
    if moment < schedule.closing_auction:
        return MarketPhase.CONTINUOUS
    if moment < schedule.close:
        return MarketPhase.CLOSING_AUCTION
    return MarketPhase.AFTER_HOURS


def is_market_open(ts: datetime, calendar: TradingCalendar) -> bool:
    """True from the opening auction's order entry to the close: when regular orders are accepted."""
    return market_phase(ts, calendar) in (
        MarketPhase.PRE_OPEN_AUCTION,
        MarketPhase.CONTINUOUS,
        MarketPhase.CLOSING_AUCTION,
    )


pickle_by_fields(SessionSchedule)  # see maemae.compiled
