"""Intraday bars for a run: all at once when they fit the memory budget, else streamed a window at a time.

A run over a few hundred stock-years fits in memory and is read once, in parallel threads (fastest, and a
sweep worker keeps it for every trial). A run over the whole market or many years does not: then the bars
are read a window of ``stream_sessions`` sessions at a time, and only for the codes the run asks for in that
window (the day's universe: ``max_stocks``, the safe asset and the holdings). Files are stored in row groups
of about a month, so a window read from Parquet costs one or two row groups per code, not the year; read
through the mapped cache (:mod:`maemae.data.bar_cache`, when the stored year files fit in it), it maps the
year's copy and slices it.

Bars are held laid on the window's grids (:mod:`maemae.backtest.grid_bars`), every minute present. The
bound with streaming: the bars held are at most (codes asked for in one window) x (``stream_sessions``
sessions) x 381 bars x 56 bytes, and one flag byte a bar for a code that missed some minutes. It grows with
``max_stocks`` and the window, not with the number of stocks stored or the years run. A window is dropped
whole when the next one starts; its first day's session before is read aside for the day's codes. No window
crosses a year's end (see :class:`MinuteFeed`); in memory every window of the run is kept, and the first
session of a year takes its session before from the window before.

Where the bars come from is a :class:`BarSource`: the store's minute bars here, or the daily bars' two
prints a session (:mod:`maemae.backtest.daily_prints`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Protocol

from maemae.backtest.grid_bars import DayBars, GridSeries, SessionGrids, day_bars, on_grid, read_only
from maemae.data.bar_cache import MappedBarCache
from maemae.data.bars import BAR_COLUMNS, BarArrays, Int64Array, Timeframe
from maemae.data.store import BarStore, read_codes
from maemae.domain.codes import StockCode
from maemae.krx.calendar import TradingCalendar
from maemae.krx.exceptions import CALENDAR_END, CALENDAR_START
from maemae.krx.sessions import session_schedule

BARS_PER_SESSION = 381  # 380 minutes of continuous trading and the closing auction's print
BYTES_PER_BAR = 56  # seven int64 columns

PreviousClose = Callable[[StockCode, date], int]


class BarSource(Protocol):
    """Where a feed reads its bars: the codes it has, each session's grid, and a code's bars over days."""

    codes: list[StockCode]
    bars_per_session: int
    # whether the source holds its bars in memory already (then the feed makes a window at a time of the
    # codes asked for, never every code for the whole run)
    in_memory: bool

    def grid(self, day: date) -> Int64Array: ...

    def read(self, code: StockCode, first: date, last: date) -> BarArrays: ...

    def read_at_once(self, code: StockCode, first: date, last: date) -> BarArrays | None:
        """``read``'s bars when they need no decoding (in memory, or mapped copies), else None: the feed
        takes these on its own thread and decodes the others in parallel threads."""
        ...


class StoredMinutes:
    """The store's minute bars, on each session's minute grid and the closing auction; read through
    ``cache`` (:class:`~maemae.data.bar_cache.MappedBarCache`) when it is set."""

    bars_per_session = BARS_PER_SESSION
    in_memory = False

    def __init__(
        self, store: BarStore, calendar: TradingCalendar, cache: MappedBarCache | None = None
    ) -> None:
        self.store, self.calendar, self.cache = store, calendar, cache
        self.codes = store.codes(Timeframe.MINUTE)

    def grid(self, day: date) -> Int64Array:
        schedule = session_schedule(day, self.calendar)
        assert schedule is not None
        return schedule.minute_bar_starts_ns()

    def read(self, code: StockCode, first: date, last: date) -> BarArrays:
        return self.store.read_arrays(code, Timeframe.MINUTE, first, last, cache=self.cache)

    def read_at_once(self, code: StockCode, first: date, last: date) -> BarArrays | None:
        if self.cache is None:
            return None
        return self.store.read_mapped(code, Timeframe.MINUTE, self.cache, first, last)


def year_files_bytes(codes: int, calendar: TradingCalendar, first: date, last: date) -> int:
    """About how many bytes ``codes`` stocks' minute files of the years from ``first`` to ``last`` hold
    uncompressed (every session of each year): what their copies take in the mapped cache."""
    start, stop = max(date(first.year, 1, 1), CALENDAR_START), min(date(last.year, 12, 31), CALENDAR_END)
    sessions = calendar.count_sessions(start, stop) if start <= stop else 0
    return codes * sessions * BARS_PER_SESSION * BYTES_PER_BAR


@dataclass(slots=True)
class _Window:
    """Consecutive sessions of one calendar year, and the bars of the codes read for them."""

    grids: SessionGrids
    series: dict[StockCode, GridSeries] = field(default_factory=dict)

    def held_bars(self) -> int:
        return sum(len(series) for series in self.series.values())


class MinuteFeed:
    """The intraday bars of one run, by code and day.

    The bars are held in windows that never cross a year's end, because the store keeps a code's minutes in
    a file a year: a window's bars are then the decoded file itself, not a copy joined from two files (in a
    100-stock year starting in December, the join copied every bar, 0.15 s and a second copy at the peak).
    In memory, every window of the run is read at once and kept; streamed, one is held at a time. A day that
    opens a window takes its session before from the window before when it is held, else reads it aside.
    """

    def __init__(
        self,
        source: BarSource,
        calendar: TradingCalendar,
        first: date,
        last: date,
        *,
        previous_close: PreviousClose,
        budget_bytes: int,
        window_sessions: int,
    ) -> None:
        self.source = source
        self.calendar = calendar
        self.codes = source.codes
        self.previous_close = previous_close
        self.window_sessions = window_sessions
        sessions = calendar.count_sessions(first, last) if first <= last else 0
        self.estimated_bytes = len(self.codes) * max(sessions, 1) * source.bars_per_session * BYTES_PER_BAR
        self.streaming = source.in_memory or self.estimated_bytes > budget_bytes
        self.windows_read = 0
        self.peak_bars = 0  # the most bars held at once: the measured memory bound
        self.windows: list[_Window] = []  # in time order; one at most when streaming
        if not self.streaming:
            self._open_windows(first, last)

    def day(self, code: StockCode, day: date) -> BarArrays:
        """The stored bars of ``code`` on ``day`` that sit on the day's grid (empty when there are none)."""
        return self.days([code], day)[code]

    def days(self, codes: Iterable[StockCode], day: date) -> dict[StockCode, BarArrays]:
        """The stored bars of each code on ``day`` that sit on the day's grid; codes not yet read for the
        window are read together."""
        window, wanted = self._ensure(codes, day)
        result: dict[StockCode, BarArrays] = {}
        for code in wanted:
            series = _traded_on(window, code, day)
            if series is None:
                result[code] = BarArrays.empty()
            else:
                result[code] = series.stored_bars(*window.grids.span(day))
        return result

    def on_grid(self, code: StockCode, day: date) -> BarArrays:
        """The bars of ``code`` on ``day`` laid on the day's grid (a missed minute filled flat), as a
        backtest's minute strategy sees them; empty when it did not trade that day."""
        window, _ = self._ensure([code], day)
        series = _traded_on(window, code, day)
        return BarArrays.empty() if series is None else series.bars.slice(*window.grids.span(day))

    def day_bars(self, day: date, codes: Iterable[StockCode]) -> DayBars:
        """``day``'s bars, on its grid, of those of ``codes`` that traded that day, each with the session
        before (see :func:`~maemae.backtest.grid_bars.day_bars`)."""
        window, wanted = self._ensure(codes, day)
        return day_bars(day, window.series, window.grids, wanted, partial(self._session_before, day))

    def _session_before(self, day: date, codes: list[StockCode]) -> dict[StockCode, BarArrays]:
        """The bars, on its grid, of the session before ``day`` (outside ``day``'s window) of each of
        ``codes`` that traded then: from the window before when it is held, else read aside (the windows
        stay where they are)."""
        if day <= CALENDAR_START:
            return {}
        previous = self.calendar.previous_session(day)
        held = self._holding(previous)
        if held is not None:
            span = held.grids.span(previous)
            traded = {code: _traded_on(held, code, previous) for code in codes}
            return {code: series.bars.slice(*span) for code, series in traded.items() if series is not None}
        grids = SessionGrids.of([previous], self.source.grid)
        read = self._read(codes, previous, previous)
        series = {
            code: on_grid(bars, grids, partial(self.previous_close, code)) for code, bars in read.items()
        }
        return {code: found.bars for code, found in series.items() if found.traded[0]}

    def held_bars(self) -> int:
        return sum(window.held_bars() for window in self.windows)

    def _holding(self, day: date) -> _Window | None:
        """The held window with ``day`` in it, if any."""
        return next((window for window in self.windows if day in window.grids.index), None)

    def _ensure(self, codes: Iterable[StockCode], day: date) -> tuple[_Window, list[StockCode]]:
        """The window that holds ``day`` (opened if needed), with each of ``codes`` read for it."""
        wanted = list(codes)
        window = self._holding(day)
        if window is None and self.calendar.is_session(day):
            window = self._move_to(day)
        if window is None:  # no session: no bars, and the windows stay as they are
            window = _Window(SessionGrids.of([], self.source.grid))
        self._load(window, [code for code in wanted if code not in window.series])
        return window, wanted

    def _move_to(self, day: date) -> _Window | None:
        """Start a new window at the session ``day`` (streaming), or widen the in-memory range to it; the
        window holding ``day`` afterwards."""
        if not self.streaming:
            held = [d for window in self.windows for d in window.grids.days]
            self._open_windows(min([*held, day]), max([*held, day]))
        else:
            last = min(self.calendar.add_sessions(day, self.window_sessions - 1), date(day.year, 12, 31))
            self.windows = [_Window(self._grids(day, last))]
            self.windows_read += 1
        return self._holding(day)

    def _open_windows(self, first: date, last: date) -> None:
        """Hold every code's bars from ``first`` to ``last``, a window a year."""
        self.windows = [
            _Window(self._grids(max(first, date(year, 1, 1)), min(last, date(year, 12, 31))))
            for year in range(first.year, last.year + 1)
        ]
        self.windows = [window for window in self.windows if window.grids.days]
        for window in self.windows:
            self._load(window, self.codes)

    def _grids(self, first: date, last: date) -> SessionGrids:
        return SessionGrids.of(self.calendar.sessions(first, last), self.source.grid)

    def _load(self, window: _Window, codes: list[StockCode]) -> None:
        days = window.grids.days
        if not codes or not days:
            return
        for code, bars in self._read(codes, days[0], days[-1]).items():
            series = on_grid(bars, window.grids, partial(self.previous_close, code))
            if self.streaming and series.stored is None and not self.source.in_memory:
                # a copy, so the row groups read around the window (or the year's mapped copy) are not
                # kept alive by a view (in memory, a window is a year's file, all of it read anyway)
                columns = (getattr(series.bars, name).copy() for name in BAR_COLUMNS[1:])
                series = GridSeries(read_only(BarArrays(window.grids.starts, *columns)), series.traded, None)
            window.series[code] = series
        self.peak_bars = max(self.peak_bars, self.held_bars())

    def _read(self, codes: list[StockCode], first: date, last: date) -> dict[StockCode, BarArrays]:
        """The stored bars from ``first`` to ``last`` of those of ``codes`` the source has
        (:func:`~maemae.data.store.read_codes`)."""
        stored = set(self.codes)
        return read_codes(
            [code for code in codes if code in stored],
            lambda code: self.source.read(code, first, last),
            lambda code: self.source.read_at_once(code, first, last),
        )


def _traded_on(window: _Window, code: StockCode, day: date) -> GridSeries | None:
    """The window's series of ``code`` when it traded on ``day``, else None."""
    series, index = window.series.get(code), window.grids.index.get(day)
    return series if series is not None and index is not None and series.traded[index] else None
