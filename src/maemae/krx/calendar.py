"""The KRX trading calendar: exchange-calendars' XKRX sessions, corrected by maemae's exceptions table.

The session list is turned into a sorted NumPy array of day numbers once, because the engine and the importer
ask "is this a session / which is the next one" millions of times and pandas lookups are slow at that scale.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from maemae.errors import ConfigError, DomainError
from maemae.krx.exceptions import CALENDAR_END, CALENDAR_START, CSAT_DAYS, EXTRA_CLOSURES


def check_in_calendar(day: date, option: str) -> None:
    """Refuse a date the user gave (``option``: ``--start``, ``--replay``) that the trading calendar does not
    cover, in a line naming the option and the range, before anything is fetched or written."""
    if not CALENDAR_START <= day <= CALENDAR_END:
        raise ConfigError(
            f"{option} {day}: outside the trading calendar: expected a date from {CALENDAR_START} "
            f"(the first day it covers) to {CALENDAR_END}"
        )


_EPOCH = date(1970, 1, 1)


def _day_number(d: date) -> int:
    return (d - _EPOCH).days


def _from_day_number(n: int) -> date:
    return _EPOCH + timedelta(days=int(n))


def _cache_file() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    name = f"xkrx-{version('exchange-calendars')}-{CALENDAR_START.isoformat()}-{CALENDAR_END.isoformat()}.txt"
    return base / "maemae" / name


@lru_cache(maxsize=1)
def _xkrx_sessions() -> tuple[date, ...]:
    """XKRX's sessions. Building the calendar takes seconds (its holiday rules are evaluated one by one), so
    the result is cached in the user's cache directory, keyed by the exchange-calendars version."""
    cache = _cache_file()
    try:
        return tuple(date.fromisoformat(line) for line in cache.read_text(encoding="utf-8").split())
    except (OSError, ValueError):
        pass
    sessions = _compute_xkrx_sessions()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text("\n".join(d.isoformat() for d in sessions), encoding="utf-8")
        os.replace(temporary, cache)
    except OSError:  # a read-only home only costs the next run a few seconds
        pass
    return sessions


@lru_cache(maxsize=1)
def _corrected_xkrx_days() -> np.ndarray:
    """XKRX's sessions less maemae's extra closures, as sorted day numbers, made once per process: a backtest
    builds a calendar per run (a sweep, thousands), and sorting its 5,400 dates took 1.4 ms, about what a
    day of a 20-stock backtest costs. Read-only: the calendars without user corrections share it."""
    closures = set(EXTRA_CLOSURES)
    days = np.array(sorted(_day_number(d) for d in _xkrx_sessions() if d not in closures), dtype=np.int64)
    days.setflags(write=False)
    return days


def _compute_xkrx_sessions() -> tuple[date, ...]:
    import exchange_calendars as xcals  # slow to import; only needed when the cache is cold

    with warnings.catch_warnings():
        # exchange-calendars 4.13 trips a pandas 3.1 deprecation inside its own code; nothing we can change.
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        calendar = xcals.get_calendar("XKRX", start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat())
    sessions = pd.DatetimeIndex(calendar.sessions)
    return tuple(session.date() for session in sessions)


class TradingCalendar:
    """Which days KRX trades, from CALENDAR_START to CALENDAR_END.

    ``extra_closures`` and ``extra_sessions`` come from the user's config and win over both XKRX and the
    built-in table; ``csat_days`` adds exam days (late sessions) the built-in table does not know yet.
    """

    def __init__(
        self,
        extra_closures: Iterable[date] = (),
        extra_sessions: Iterable[date] = (),
        csat_days: Iterable[date] = (),
    ) -> None:
        days = _corrected_xkrx_days()
        closures = [_day_number(d) for d in extra_closures]
        if closures:
            days = days[~np.isin(days, closures)]
        additions = [_day_number(d) for d in extra_sessions]
        if additions:
            days = np.union1d(days, np.array(additions, dtype=np.int64))
        self._days = days  # sorted day numbers; shared with other calendars, so never written to
        self.csat_days: frozenset[date] = frozenset(CSAT_DAYS) | frozenset(csat_days)
        # the calendar never changes once built, so a shift once computed is kept: settlement dates and
        # previous sessions are asked for on every fill and every day
        self._shifted: dict[tuple[date, int], date] = {}

    def _check_range(self, d: date) -> None:
        if not CALENDAR_START <= d <= CALENDAR_END:
            raise DomainError(
                f"date {d.isoformat()}: outside the trading calendar "
                f"({CALENDAR_START.isoformat()}..{CALENDAR_END.isoformat()})"
            )

    def is_session(self, d: date) -> bool:
        """Whether KRX holds a regular session on ``d``."""
        self._check_range(d)
        n = _day_number(d)
        index = int(np.searchsorted(self._days, n))
        return index < len(self._days) and int(self._days[index]) == n

    def sessions(self, start: date, end: date) -> list[date]:
        """Every session from ``start`` to ``end``, both included."""
        self._check_range(start)
        self._check_range(end)
        lo = np.searchsorted(self._days, _day_number(start), side="left")
        hi = np.searchsorted(self._days, _day_number(end), side="right")
        return [_from_day_number(n) for n in self._days[lo:hi].tolist()]

    def count_sessions(self, start: date, end: date) -> int:
        """How many sessions ``sessions(start, end)`` lists, without making their dates (the time-cut asks
        each day for every held stock)."""
        self._check_range(start)
        self._check_range(end)
        lo = int(np.searchsorted(self._days, _day_number(start), side="left"))
        hi = int(np.searchsorted(self._days, _day_number(end), side="right"))
        return max(hi - lo, 0)

    def session_days(self, start: date, end: date) -> np.ndarray:
        """``sessions`` as a NumPy ``datetime64[D]`` array (for vectorised checks over many rows)."""
        self._check_range(start)
        self._check_range(end)
        lo = np.searchsorted(self._days, _day_number(start), side="left")
        hi = np.searchsorted(self._days, _day_number(end), side="right")
        return self._days[lo:hi].astype("datetime64[D]")  # day numbers count from 1970-01-01, as NumPy's

    def next_session(self, d: date) -> date:
        """The first session strictly after ``d``."""
        return self.add_sessions(d, 1)

    def previous_session(self, d: date) -> date:
        """The last session strictly before ``d``."""
        return self.add_sessions(d, -1)

    def add_sessions(self, d: date, n: int) -> date:
        """The session ``n`` sessions after (n > 0) or before (n < 0) ``d``; ``d`` itself need not be one.

        With n = 0 this is ``d`` when it is a session and the next session otherwise.
        """
        known = self._shifted.get((d, n))
        if known is not None:
            return known
        self._check_range(d)
        number = _day_number(d)
        if n > 0:
            index = int(np.searchsorted(self._days, number, side="right")) + n - 1
        elif n < 0:
            index = int(np.searchsorted(self._days, number, side="left")) + n
        else:
            index = int(np.searchsorted(self._days, number, side="left"))
        if not 0 <= index < len(self._days):
            raise DomainError(f"date {d.isoformat()} {n:+d} sessions: outside the trading calendar")
        shifted = self._shifted[(d, n)] = _from_day_number(int(self._days[index]))
        return shifted

    def is_first_session_of_year(self, d: date) -> bool:
        """The year's first session opens an hour late (10:00)."""
        return self.is_session(d) and (
            d.year == CALENDAR_START.year or self.previous_session(d).year < d.year
        )


@lru_cache(maxsize=1)
def default_calendar() -> TradingCalendar:
    """The calendar with the built-in exceptions only (no user extras)."""
    return TradingCalendar()
