"""Minute bars for a run: all at once when they fit the memory budget, else streamed a window at a time.

A run over a few hundred stock-years fits in memory and is read once, in parallel threads (fastest, and a
sweep worker keeps it for every trial). A run over the whole market or many years does not: then the bars
are read a window of ``stream_sessions`` sessions at a time, and only for the codes the run asks for in that
window (the day's universe: ``max_stocks``, the safe asset and the holdings). Files are stored in row groups
of about a month, so a window costs one or two row groups per code, not the year.

The bound with streaming: the bars held are at most (codes asked for in one window) x (``stream_sessions``
sessions) x 381 bars x 56 bytes. It grows with ``max_stocks`` and the window, not with the number of stocks
stored or the years run. The backtest driver keeps yesterday's bars itself, so a window is dropped whole
when the next one starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from maemae.data.bars import BAR_COLUMNS, BarArrays, Timeframe, day_ns
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.krx.calendar import TradingCalendar

BARS_PER_SESSION = 381  # 380 minutes of continuous trading and the closing auction's print
BYTES_PER_BAR = 56  # seven int64 columns
READ_THREADS = 4


class MinuteFeed:
    """The minute bars of one run, by code and day."""

    def __init__(
        self,
        store: BarStore,
        calendar: TradingCalendar,
        first: date,
        last: date,
        *,
        budget_bytes: int,
        window_sessions: int,
    ) -> None:
        self.store = store
        self.calendar = calendar
        self.codes = store.codes(Timeframe.MINUTE)
        self.window_sessions = window_sessions
        sessions = len(calendar.sessions(first, last)) if first <= last else 0
        self.estimated_bytes = len(self.codes) * max(sessions, 1) * BARS_PER_SESSION * BYTES_PER_BAR
        self.streaming = self.estimated_bytes > budget_bytes
        self.windows_read = 0
        self.peak_bars = 0  # the most minute bars held at once: the measured memory bound
        self._bars: dict[StockCode, BarArrays] = {}
        self._window: tuple[date, date] | None = None
        if not self.streaming:
            self._window = (first, last)
            self._load(self.codes)

    def day(self, code: StockCode, day: date) -> BarArrays:
        """The bars of ``code`` on ``day`` (empty when none are stored)."""
        return self.days([code], day)[code]

    def days(self, codes: Iterable[StockCode], day: date) -> dict[StockCode, BarArrays]:
        """The bars of each code on ``day``; codes not yet read for the window are read together."""
        wanted = list(codes)
        if self._window is None or not self._window[0] <= day <= self._window[1]:
            self._move_window(day)
        self._load([code for code in wanted if code not in self._bars])
        lo, hi = day_ns(day), day_ns(day + timedelta(days=1))
        result: dict[StockCode, BarArrays] = {}
        for code in wanted:
            bars = self._bars.get(code)
            if bars is None or not len(bars):
                result[code] = BarArrays.empty()
                continue
            result[code] = bars.slice(int(bars.ts.searchsorted(lo)), int(bars.ts.searchsorted(hi)))
        return result

    def held_bars(self) -> int:
        return sum(len(bars) for bars in self._bars.values())

    def _move_window(self, day: date) -> None:
        """Start a new window at ``day`` (streaming), or widen the in-memory range to a day outside it."""
        if not self.streaming:
            assert self._window is not None
            self._window = (min(self._window[0], day), max(self._window[1], day))
            self._bars = {}
            self._load(self.codes)
            return
        end = self.calendar.add_sessions(day, self.window_sessions - 1)
        self._window = (day, end)
        self._bars = {}
        self.windows_read += 1

    def _load(self, codes: list[StockCode]) -> None:
        if not codes:
            return
        assert self._window is not None
        first, last = self._window
        stored = set(self.codes)
        missing = [code for code in codes if code in stored]
        with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
            loaded = pool.map(
                lambda code: self.store.read_arrays(code, Timeframe.MINUTE, first, last), missing
            )
            for code, bars in zip(missing, loaded, strict=True):
                # streamed: a copy, so the row groups read around the window are not kept alive by a view
                # (in memory, the run is the window and the row groups around it are two at most)
                self._bars[code] = (
                    BarArrays(*(getattr(bars, n).copy() for n in BAR_COLUMNS)) if self.streaming else bars
                )
        for code in codes:
            self._bars.setdefault(code, BarArrays.empty())
        self.peak_bars = max(self.peak_bars, self.held_bars())
