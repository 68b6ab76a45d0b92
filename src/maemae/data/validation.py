"""Checks on imported bars: every rule a bar table must satisfy before it may enter the store.

Each check is vectorised over the whole table and reports the first offending line, so a million-row file is
checked in a second and the user learns exactly where to look. ``line`` numbers count as a text editor or a
spreadsheet does: the header is line 1, the first data row line 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from maemae.data.bars import PRICE_COLUMNS, Timeframe
from maemae.errors import DomainError
from maemae.krx.calendar import TradingCalendar
from maemae.krx.sessions import session_schedule

HEADER_LINES = 1
INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule, at the first line that breaks it."""

    line: int
    message: str


def first_line(mask: pd.Series | np.ndarray, index: pd.Index) -> int | None:
    """The file line of the first True in ``mask`` (rows keep their original position in ``index``)."""
    hits = np.flatnonzero(np.asarray(mask, dtype=bool))
    if len(hits) == 0:
        return None
    return int(index[hits[0]]) + HEADER_LINES + 1


def check_numbers(
    frame: pd.DataFrame, columns: tuple[str, ...]
) -> tuple[dict[str, pd.Series], list[Problem]]:
    """Parse numeric columns, refusing empty, non-numeric, fractional and out-of-range values.

    The range is int64's, the columns' type: a larger number used to wrap around on the conversion and
    be refused as negative (a volume) or as no price (an open), which pointed at the wrong fault.
    """
    parsed: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    for name in columns:
        raw = frame[name]
        numbers = pd.to_numeric(raw, errors="coerce")
        as_float = numbers.astype(np.float64)
        for bad_rows, expected in (
            (~np.isfinite(as_float), "expected a whole number"),
            (as_float != np.floor(as_float), "expected a whole number"),
            (
                _out_of_range(raw, as_float),
                f"out of range, expected a whole number from {INT64_MIN:,} to {INT64_MAX:,}",
            ),
        ):
            line = first_line(bad_rows, frame.index)
            if line is not None:
                bad = raw.iloc[int(np.flatnonzero(np.asarray(bad_rows))[0])]
                problems.append(Problem(line, f"column '{name}' = {bad!r}: {expected}"))
                break
        else:
            parsed[name] = numbers.astype(np.int64)
    return parsed, problems


def _out_of_range(raw: pd.Series, as_float: pd.Series) -> np.ndarray:
    """Which finite numbers do not fit in int64. The float test finds the candidates; the text decides,
    since a float cannot tell 2^63 - 1 (which fits) from 2^63 (which does not)."""
    out = np.zeros(len(raw), dtype=bool)
    values = as_float.to_numpy()
    for position in np.flatnonzero(np.isfinite(values) & ~(np.abs(values) < 2.0**63)):
        value = int(Decimal(str(raw.iloc[position]).strip()))
        out[position] = not INT64_MIN <= value <= INT64_MAX
    return out


def check_bar_values(numbers: dict[str, pd.Series], index: pd.Index) -> list[Problem]:
    """Prices positive, volume and value not negative, high and low bracketing open and close."""
    problems: list[Problem] = []
    for name in PRICE_COLUMNS:
        if name in numbers:
            line = first_line(numbers[name] <= 0, index)
            if line is not None:
                problems.append(Problem(line, f"{name} must be a positive price in won"))
    for name in ("volume", "value"):
        if name in numbers:
            line = first_line(numbers[name] < 0, index)
            if line is not None:
                problems.append(Problem(line, f"{name} must not be negative"))
    if all(name in numbers for name in PRICE_COLUMNS):
        o, h, low, c = (numbers[name] for name in PRICE_COLUMNS)
        line = first_line(h < low, index)
        if line is not None:
            problems.append(Problem(line, "high is below low"))
        line = first_line((h < o) | (h < c), index)
        if line is not None:
            problems.append(Problem(line, "high is below open or close"))
        line = first_line((low > o) | (low > c), index)
        if line is not None:
            problems.append(Problem(line, "low is above open or close"))
    return problems


def check_order(codes: pd.Series, ts_ns: np.ndarray, index: pd.Index) -> list[Problem]:
    """Per code, timestamps strictly increasing: no duplicates, no rows out of order."""
    problems: list[Problem] = []
    frame = pd.DataFrame({"code": codes.to_numpy(), "ts": ts_ns}, index=index)
    previous = frame.groupby("code", sort=False)["ts"].shift(1)
    has_previous = previous.notna().to_numpy()
    prev = previous.fillna(0).to_numpy(dtype=np.int64)
    line = first_line(has_previous & (ts_ns == prev), index)
    if line is not None:
        problems.append(Problem(line, "duplicate timestamp for this stock"))
    line = first_line(has_previous & (ts_ns < prev), index)
    if line is not None:
        problems.append(Problem(line, "timestamp earlier than the row before it for this stock (unsorted)"))
    return problems


def _allowed_starts(day: date, timeframe: Timeframe, calendar: TradingCalendar) -> list[int]:
    """Nanosecond timestamps a bar of ``day`` may have: none on a closed day."""
    try:
        schedule = session_schedule(day, calendar)
    except DomainError:  # outside the calendar's range: not a known session
        return []
    if schedule is None:
        return []
    if timeframe is Timeframe.DAY:
        return [int(pd.Timestamp(day.isoformat(), tz="Asia/Seoul").value)]
    return [int(start) for start in schedule.minute_bar_starts_ns()]


def check_sessions(
    ts: pd.Series, timeframe: Timeframe, calendar: TradingCalendar, index: pd.Index
) -> list[Problem]:
    """Daily bars on trading days at 00:00; minute bars on the session's minute grid (docs/data.md)."""
    ts_ns = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    days = ts.dt.date.to_numpy()
    allowed: list[int] = []
    closed: set[date] = set()
    for day in set(days):
        starts = _allowed_starts(day, timeframe, calendar)
        allowed += starts
        if not starts:
            closed.add(day)
    bad = ~np.isin(ts_ns, np.array(allowed, dtype=np.int64))
    line = first_line(bad, index)
    if line is None:
        return []
    position = int(np.flatnonzero(bad)[0])
    reason = "not a KRX trading day" if days[position] in closed else "outside the session"
    expected = "a trading day at 00:00" if timeframe is Timeframe.DAY else "a minute bar start in the session"
    return [
        Problem(line, f"ts {ts.iloc[position].isoformat()}: {reason}, expected {expected} (docs/data.md)")
    ]
