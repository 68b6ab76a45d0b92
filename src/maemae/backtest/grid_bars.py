"""Codes' bars laid on the bar grids of a run of sessions, every grid bar present.

A code that did not trade in some minute gets a flat, zero-volume bar at the last price for that minute, so
every code of a day sits on the same grid and "the price at bar k" means the same thing for every code. A
session's bars before its first trade stand at the previous close, which the caller gives (the daily bar's:
with adjusted history it is on the session's basis, as KRX sets the base price).

Why the sessions are laid end to end: a code's bars of yesterday and today, which the minute strategy reads
as one series, are then one slice of its array, a view and not a copy. Building each day's two-session block
by copying cost a 100-stock year 0.3 to 0.6 s of memory traffic; laying the bars on the grid once, when they
are loaded, costs nothing for a code that traded in every minute (its stored bars already are the grid).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from maemae.compiled import pickle_by_fields
from maemae.data.bars import BAR_COLUMNS, PRICE_COLUMNS, BarArrays, Int64Array
from maemae.data.parquet_io import concat
from maemae.domain.codes import StockCode

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SessionGrids:
    """The bar start times of consecutive sessions, end to end: session i's bars are
    ``starts[offsets[i]:offsets[i + 1]]``."""

    days: tuple[date, ...]
    starts: Int64Array
    offsets: Int64Array
    index: dict[date, int]

    @classmethod
    def of(cls, days: Sequence[date], grid_of: Callable[[date], Int64Array]) -> SessionGrids:
        grids = [grid_of(day) for day in days]
        offsets = np.zeros(len(grids) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(grid) for grid in grids])
        starts = np.concatenate(grids) if grids else np.empty(0, dtype=np.int64)
        starts.flags.writeable = False  # shared as the ``ts`` of every code's bars
        return cls(tuple(days), starts, offsets, {day: i for i, day in enumerate(days)})

    def span(self, day: date) -> tuple[int, int]:
        """Where ``day``'s bars are: [lo, hi)."""
        i = self.index[day]
        return int(self.offsets[i]), int(self.offsets[i + 1])


@dataclass(frozen=True, slots=True)
class GridSeries:
    """One code's bars on every bar of a :class:`SessionGrids`."""

    bars: BarArrays
    traded: BoolArray  # per session: whether the code has a stored bar on the session's grid
    stored: BoolArray | None  # per bar: whether it is a stored bar and not a filled one (None: all are)

    def stored_bars(self, lo: int, hi: int) -> BarArrays:
        """The stored bars among [lo, hi): what the data source holds, without the filled minutes."""
        window = self.bars.slice(lo, hi)
        if self.stored is None:
            return window
        keep = self.stored[lo:hi]
        return BarArrays(*[getattr(window, name)[keep] for name in BAR_COLUMNS])

    def __len__(self) -> int:
        return len(self.bars)


def on_grid(bars: BarArrays, grids: SessionGrids, previous_close: Callable[[date], int]) -> GridSeries:
    """``bars`` (time-ordered) laid on ``grids``; bars off the grid are dropped. ``previous_close(day)`` is
    asked only for a session that traded but not in its first bar; when there is none (0: the day after a
    listing), the session's minutes before its first trade stand at that trade's open.

    The columns are read-only: a day's bars are views of them, kept for every day of the run and every trial
    of a sweep, so a strategy writing into its bars must fail, not change the market for what follows."""
    n = len(grids.starts)
    if len(bars) == n and np.array_equal(bars.ts, grids.starts):  # the usual: it traded every minute
        return GridSeries(read_only(bars), np.ones(len(grids.days), dtype=bool), None)
    position = np.searchsorted(grids.starts, bars.ts)
    inside = (position < n) & (grids.starts[np.minimum(position, n - 1)] == bars.ts)
    where = position[inside]
    if not where.size:  # nothing on the grid (not listed, or halted, all the window): no arrays at all
        return GridSeries(BarArrays.empty(), np.zeros(len(grids.days), dtype=bool), None)
    stored = np.zeros(n, dtype=bool)
    stored[where] = True
    session_of = np.searchsorted(grids.offsets, where, side="right") - 1
    traded = np.bincount(session_of, minlength=len(grids.days)) > 0
    close = np.zeros(n, dtype=np.int64)
    close[where] = bars.close[inside]
    known = stored.copy()
    firsts = grids.offsets[:-1]
    opens = bars.open[inside]
    for i in np.flatnonzero(traded & ~stored[firsts]).tolist():  # it opened without a trade
        start = previous_close(grids.days[i]) or int(opens[np.searchsorted(where, firsts[i])])
        close[firsts[i]], known[firsts[i]] = start, True
    filled = close[np.maximum.accumulate(np.where(known, np.arange(n), 0))]
    columns = {name: filled.copy() for name in PRICE_COLUMNS}
    for name in PRICE_COLUMNS:
        columns[name][where] = getattr(bars, name)[inside]
    volume, value = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    volume[where], value[where] = bars.volume[inside], bars.value[inside]
    laid = BarArrays(
        grids.starts, columns["open"], columns["high"], columns["low"], columns["close"], volume, value
    )
    return GridSeries(read_only(laid), traded, stored)


def read_only(bars: BarArrays) -> BarArrays:
    """``bars`` with its columns made read-only (see :func:`on_grid`)."""
    for name in BAR_COLUMNS:
        getattr(bars, name).flags.writeable = False
    return bars


@dataclass(frozen=True, slots=True)
class DayBars:
    """Many codes' bars of one session: for each code, its bars of the session before (when it traded then)
    and today's as one array with the index where today starts, as the live loop loads them before the
    open; and today's closes and volumes as codes x bars matrices (rows in the codes' order)."""

    joined: dict[StockCode, tuple[BarArrays, int]]
    closes: Int64Array
    volumes: Int64Array

    @property
    def codes(self) -> list[StockCode]:
        return list(self.joined)


SessionBefore = Callable[[list[StockCode]], dict[StockCode, BarArrays]]


def day_bars(
    day: date,
    series: dict[StockCode, GridSeries],
    grids: SessionGrids,
    codes: Iterable[StockCode],
    session_before: SessionBefore,
) -> DayBars:
    """``day``'s bars of those of ``codes`` that traded that day, in order, each with the session before.

    When the session before is on the same grids, a code's two sessions are a view of its series. When it
    is not (``day`` opens the grids: the first session of a year, or a streamed window's first day),
    ``session_before(codes)`` gives the codes' bars of that session on its grid, and the two are joined by
    copying.
    """
    i = grids.index[day]
    lo, hi = grids.span(day)
    traded = [code for code in codes if code in series and series[code].traded[i]]
    joined: dict[StockCode, tuple[BarArrays, int]] = {}
    if i > 0:
        before = int(grids.offsets[i - 1])
        for code in traded:
            found = series[code]
            joined[code] = (
                (found.bars.slice(before, hi), lo - before)
                if found.traded[i - 1]
                else (found.bars.slice(lo, hi), 0)
            )
    else:
        earlier = session_before(traded)
        for code in traded:
            today = series[code].bars.slice(lo, hi)
            prior = earlier.get(code)
            joined[code] = (concat([prior, today]), len(prior)) if prior is not None else (today, 0)
    closes = np.empty((len(joined), hi - lo), dtype=np.int64)
    volumes = np.empty((len(joined), hi - lo), dtype=np.int64)
    for row, code in enumerate(joined):
        bars = series[code].bars
        closes[row], volumes[row] = bars.close[lo:hi], bars.volume[lo:hi]
    return DayBars(joined, closes, volumes)


pickle_by_fields(SessionGrids, GridSeries, DayBars)  # see maemae.compiled
