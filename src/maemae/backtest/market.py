"""The backtest's market data: the daily bars in memory, the minute bars through a :class:`MinuteFeed` (all
at once, or streamed a window at a time for an all-market run), and each day's bars on the session's grid.

A code that did not trade in some minute gets a flat, zero-volume bar at the last price for that minute, so
every code of a day sits on the same grid of bar start times and "the price at bar k" means the same thing for
every code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from maemae.backtest.daily_prints import DailyPrints, print_times
from maemae.backtest.minute_feed import MinuteFeed
from maemae.data.bars import BAR_COLUMNS, BarArrays, Int64Array, Timeframe, day_ns
from maemae.data.instruments import Instrument
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.krx.calendar import TradingCalendar
from maemae.krx.sessions import SessionSchedule, session_schedule

MINUTE_NS = 60 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class DayGrid:
    """A session's bar start times; the last bar is the closing auction."""

    day: date
    schedule: SessionSchedule
    starts: Int64Array

    def __len__(self) -> int:
        return int(self.starts.shape[0])


def align(bars: BarArrays, grid: Int64Array, previous_close: int) -> BarArrays:
    """``bars`` of one day on ``grid``: missing minutes become flat zero-volume bars at the last price."""
    if bars.ts.shape == grid.shape and bool((bars.ts == grid).all()):  # the usual stock-day: complete
        return bars
    position = np.searchsorted(grid, bars.ts)
    inside = (position < len(grid)) & (grid[np.minimum(position, len(grid) - 1)] == bars.ts)
    close = np.full(len(grid), -1, dtype=np.int64)
    close[position[inside]] = bars.close[inside]
    series = pd.Series(np.where(close < 0, np.nan, close)).ffill().fillna(previous_close)
    filled = np.asarray(series.to_numpy(), dtype=np.int64)
    columns: dict[str, Int64Array] = {name: filled.copy() for name in ("open", "high", "low", "close")}
    volume = np.zeros(len(grid), dtype=np.int64)
    value = np.zeros(len(grid), dtype=np.int64)
    for name in ("open", "high", "low", "close"):
        columns[name][position[inside]] = getattr(bars, name)[inside]
    volume[position[inside]] = bars.volume[inside]
    value[position[inside]] = bars.value[inside]
    return BarArrays(
        grid.copy(), columns["open"], columns["high"], columns["low"], columns["close"], volume, value
    )


class BacktestMarket:
    """Daily and minute bars of every code the run may touch."""

    def __init__(
        self,
        store: BarStore,
        calendar: TradingCalendar,
        start: date,
        end: date,
        daily: dict[StockCode, BarArrays] | None = None,
        adjusted: bool = False,
        *,
        minute_budget_bytes: int = 1024 * 2**20,
        stream_sessions: int = 20,
        bars: Literal["minute", "day"] = "minute",
    ) -> None:
        self.calendar = calendar
        self.instruments: dict[StockCode, Instrument] = store.read_instruments()
        if daily is None:
            daily = store.read_many(store.codes(Timeframe.DAY), Timeframe.DAY)
        self.daily: dict[StockCode, BarArrays] = daily
        first_minute = calendar.add_sessions(start, -1) if start > date(2006, 1, 3) else start
        self.bars = bars
        self.minute: MinuteFeed | DailyPrints = (
            DailyPrints(self.daily, calendar)
            if bars == "day"
            else MinuteFeed(
                store,
                calendar,
                first_minute,
                end,
                budget_bytes=minute_budget_bytes,
                window_sessions=stream_sessions,
            )
        )
        self.factors: dict[StockCode, tuple[Int64Array, npt.NDArray[np.float64]]] = {}
        if adjusted:
            for code in self.daily:
                stored = store.read_factors(code)
                if len(stored):
                    stamps = stored["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
                    self.factors[code] = (stamps.view(np.int64), stored["factor"].to_numpy(np.float64))

    def trading_days(self, start: date, end: date) -> list[date]:
        """Sessions in [start, end] that have daily bars."""
        days: set[int] = set()
        for bars in self.daily.values():
            lo, hi = np.searchsorted(bars.ts, [day_ns(start), day_ns(end + timedelta(days=1))])
            days.update(int(ts) for ts in bars.ts[lo:hi])
        sessions = set(self.calendar.sessions(start, end))
        return sorted(d for d in sessions if day_ns(d) in days)

    def grid(self, day: date) -> DayGrid:
        schedule = session_schedule(day, self.calendar)
        assert schedule is not None
        if self.bars == "day":
            return DayGrid(day, schedule, print_times(day, self.calendar))
        return DayGrid(day, schedule, schedule.minute_bar_starts_ns())

    def daily_before(self, code: StockCode, day: date, count: int) -> BarArrays:
        """The last ``count`` daily bars strictly before ``day``; with adjusted history (``data.
        adjusted_history``) in prices on ``day``'s basis, so a split does not look like a crash to a moving
        average. On a split day KRX sets the base price the same way, from the adjusted close."""
        bars = self.daily.get(code)
        if bars is None:
            return BarArrays.empty()
        stop = int(bars.ts.searchsorted(day_ns(day), side="left"))
        window = bars.slice(max(0, stop - count), stop)
        return self._adjusted(code, window, day) if code in self.factors else window

    def _adjusted(self, code: StockCode, bars: BarArrays, day: date) -> BarArrays:
        stamps, factors = self.factors[code]
        if not len(bars):
            return bars
        # the factor of each bar, and the factor of ``day`` (the first stored one on or after it)
        at = np.clip(np.searchsorted(stamps, bars.ts, side="right") - 1, 0, len(stamps) - 1)
        basis_at = min(int(np.searchsorted(stamps, day_ns(day), side="left")), len(stamps) - 1)
        ratio = factors[at] / factors[basis_at]
        if np.allclose(ratio, 1.0):
            return bars

        def scaled(values: Int64Array) -> Int64Array:
            return np.asarray(np.rint(values * ratio), dtype=np.int64)

        volume = np.asarray(np.rint(bars.volume / ratio), dtype=np.int64)
        return BarArrays(
            bars.ts,
            scaled(bars.open),
            scaled(bars.high),
            scaled(bars.low),
            scaled(bars.close),
            volume,
            bars.value,
        )

    def minute_day(self, code: StockCode, day: date) -> BarArrays:
        return self.minute.day(code, day)

    def minutes_of(self, day: date, codes: Iterable[StockCode]) -> dict[StockCode, BarArrays]:
        """The bars on ``day`` of each of ``codes`` that has some, in the order given."""
        return {code: bars for code, bars in self.minute.days(codes, day).items() if len(bars) > 0}

    def has_minutes(self, day: date) -> bool:
        """Whether any code has minute bars stored for ``day``."""
        return bool(self.minutes_of(day, self.minute.codes))


@dataclass(frozen=True, slots=True)
class SessionBars:
    """Many codes' bars of one session on its grid: one columns x codes x bars block (``BAR_COLUMNS``
    order). A code's bars are views of it, so a day's data is one array, not seven per code."""

    row_of: dict[StockCode, int]
    block: Int64Array

    def column(self, name: str) -> Int64Array:
        column: Int64Array = self.block[BAR_COLUMNS.index(name)]
        return column


def two_sessions(
    yesterday: SessionBars | None, today: dict[StockCode, BarArrays], width: int
) -> tuple[SessionBars, dict[StockCode, tuple[BarArrays, int]]]:
    """Today's session of ``today``'s codes (bars already on the grid of ``width`` bars), and each code's
    bars of yesterday and today as one array with the index where today starts.

    Both sessions are written once into one block, yesterday's bars first; today's session is a view of the
    right-hand part, and each code's two days are views of its rows. A code that had no bars yesterday gets
    today's alone (today starts at 0).
    """
    codes = list(today)
    before = yesterday.block.shape[2] if yesterday is not None else 0
    both = np.empty((len(BAR_COLUMNS), len(codes), before + width), dtype=np.int64)
    if codes:  # one concatenation per column (a single call over the codes' arrays), then one copy
        for index, name in enumerate(BAR_COLUMNS):
            rows = np.concatenate([getattr(bars, name) for bars in today.values()])
            both[index, :, before:] = rows.reshape(len(codes), width)
    previous = np.full(len(codes), -1, dtype=np.int64)  # each code's row yesterday, -1: it had none
    if yesterday is not None:
        previous[:] = [yesterday.row_of.get(code, -1) for code in codes]
    known = previous >= 0
    if yesterday is not None and known.any():
        if bool(known.all()) and list(yesterday.row_of) == codes:  # the usual day: one slice copy
            both[:, :, :before] = yesterday.block
        else:
            both[:, known, :before] = yesterday.block[:, previous[known]]
    session = SessionBars({code: row for row, code in enumerate(codes)}, both[:, :, before:])
    joined: dict[StockCode, tuple[BarArrays, int]] = {}
    for row, code in enumerate(codes):
        first = 0 if known[row] else before
        joined[code] = (BarArrays(*both[:, row, first:]), before - first)
    return session, joined
