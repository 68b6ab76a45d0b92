"""The backtest's market data: the daily bars in memory, the intraday bars through a :class:`MinuteFeed` (all
at once, or streamed a window at a time for an all-market run), and each day's bars on the session's grid
(:mod:`maemae.backtest.grid_bars`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from maemae.backtest.daily_prints import DailyPrints
from maemae.backtest.grid_bars import DayBars
from maemae.backtest.minute_feed import BarSource, MinuteFeed, StoredMinutes, year_files_bytes
from maemae.compiled import pickle_by_fields
from maemae.data.bar_cache import MappedBarCache
from maemae.data.bars import BarArrays, Int64Array, Timeframe, day_ns, day_number, day_numbers
from maemae.data.instruments import Instrument
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.krx.calendar import TradingCalendar
from maemae.krx.exceptions import CALENDAR_START
from maemae.krx.sessions import SessionSchedule, session_schedule

MINUTE_NS = 60 * 1_000_000_000
DailyCloses = tuple[Int64Array, Int64Array]  # a code's daily closes and volumes: what a daily strategy reads


@dataclass(frozen=True, slots=True)
class DayGrid:
    """A session's bar start times; the last bar is the closing auction."""

    day: date
    schedule: SessionSchedule
    starts: Int64Array

    def __len__(self) -> int:
        return int(self.starts.shape[0])


# a daily bar's key in :class:`_DailyStops`: its code's row times the span, plus its day number made positive
_ROW_SPAN: Final = 1 << 32
_DAY_BIAS: Final = 1 << 31


class _DailyStops:
    """Where each code's daily bars stop before a day, for a day's codes in one NumPy call: every bar is a
    key (its code's row, then its day) in one sorted array, so a ``searchsorted`` of the day's keys finds all
    the codes' stops at once, where one per code cost a call and a date's conversion each."""

    def __init__(self, daily: dict[StockCode, BarArrays]) -> None:
        self.rows = {code: row for row, code in enumerate(daily)}
        keys = [row * _ROW_SPAN + _DAY_BIAS + day_numbers(bars.ts) for row, bars in enumerate(daily.values())]
        self.keys = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
        self.firsts = np.zeros(len(keys), dtype=np.int64)  # each row's first key
        self.firsts[1:] = np.cumsum([len(row) for row in keys[:-1]])

    def stops(self, codes: list[StockCode], day: date) -> list[int]:
        """For each of ``codes`` (all in the daily bars), how many of its daily bars are before ``day``."""
        rows = np.array([self.rows[code] for code in codes], dtype=np.int64)
        found = np.searchsorted(self.keys, rows * _ROW_SPAN + (_DAY_BIAS + day_number(day)))
        stops: list[int] = (found - self.firsts[rows]).tolist()
        return stops


class DailyHistory:
    """The daily bars before a day, and the close a session starts from. Apart from
    :class:`BacktestMarket` because its minute feed asks for that close: a feed holding a method of the market
    that holds the feed would be a reference cycle, and a market dropped by a sweep or a comparison would wait
    for the cycle collector with all its bars instead of being freed at once."""

    def __init__(
        self,
        daily: dict[StockCode, BarArrays],
        factors: dict[StockCode, tuple[Int64Array, npt.NDArray[np.float64]]],
    ) -> None:
        self.daily = daily
        self.factors = factors
        self._stops: _DailyStops | None = None  # made when first asked: the daily bars do not change after

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

    def closes_before(
        self, codes: Iterable[StockCode], day: date, count: int
    ) -> dict[StockCode, DailyCloses]:
        """The closes and volumes of :meth:`daily_before`'s bars for each of ``codes`` that has any, in
        order: a day's universe at once, without the five columns no daily strategy is given."""
        known = [code for code in codes if code in self.daily]
        if self._stops is None:
            self._stops = _DailyStops(self.daily)
        found: dict[StockCode, DailyCloses] = {}
        for code, stop in zip(known, self._stops.stops(known, day), strict=True):
            start = max(0, stop - count)
            if start >= stop:
                continue
            bars = self.daily[code]
            if code in self.factors:
                adjusted = self._adjusted(code, bars.slice(start, stop), day)
                found[code] = (adjusted.close, adjusted.volume)
            else:
                found[code] = (bars.close[start:stop], bars.volume[start:stop])
        return found

    def previous_close(self, code: StockCode, day: date) -> int:
        """The last daily close before ``day`` (on ``day``'s basis with adjusted history), 0 when none: the
        price a session starts from."""
        before = self.daily_before(code, day, 1)
        return int(before.close[-1]) if len(before) else 0

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
        cache: MappedBarCache | None = None,
    ) -> None:
        """The minute bars held start at the session before ``start``: the first day's minute strategy
        reads them as yesterday's, in a backtest as in the live loop. In a run starting in January they are
        a window of their own (:class:`~maemae.backtest.minute_feed.MinuteFeed` holds a window a year).

        ``cache``: minute bars are mapped from its copies when the year files of every stored stock over the
        run's years fit in it; a bigger run reads Parquet (its copies would push each other out, every run
        writing them all again)."""
        self.calendar = calendar
        self.instruments: dict[StockCode, Instrument] = store.read_instruments()
        if daily is None:
            daily = store.read_many(store.codes(Timeframe.DAY), Timeframe.DAY)
        self.daily: dict[StockCode, BarArrays] = daily
        first_minute = calendar.add_sessions(start, -1) if start > CALENDAR_START else start
        factors: dict[StockCode, tuple[Int64Array, npt.NDArray[np.float64]]] = {}
        if adjusted:
            for code in self.daily:
                stored = store.read_factors(code)
                if len(stored):
                    stamps = stored["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
                    factors[code] = (stamps.view(np.int64), stored["factor"].to_numpy(np.float64))
        self.history = DailyHistory(daily, factors)
        source: BarSource
        if bars == "day":
            source = DailyPrints(self.daily, calendar)
        else:
            stocks = len(store.codes(Timeframe.MINUTE))
            fits = (
                cache is not None and year_files_bytes(stocks, calendar, first_minute, end) <= cache.max_bytes
            )
            source = StoredMinutes(store, calendar, cache if fits else None)
        self.minute = MinuteFeed(
            source,
            calendar,
            first_minute,
            end,
            previous_close=self.history.previous_close,
            budget_bytes=minute_budget_bytes,
            window_sessions=stream_sessions,
        )

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
        return DayGrid(day, schedule, self.minute.source.grid(day))

    def minute_day(self, code: StockCode, day: date) -> BarArrays:
        """The stored minute bars of ``code`` on ``day``."""
        return self.minute.day(code, day)

    def minute_day_on_grid(self, code: StockCode, day: date) -> BarArrays:
        """The minute bars of ``code`` on ``day`` on the day's grid, a missed minute filled flat at the last
        price: what the minute strategy reads as yesterday's bars, in a backtest and in the live loop."""
        return self.minute.on_grid(code, day)

    def day_bars(self, day: date, codes: Iterable[StockCode]) -> DayBars:
        """``day``'s bars on its grid of those of ``codes`` that traded that day, each with its bars of the
        session before when it traded then (what the live loop loads before the open)."""
        return self.minute.day_bars(day, codes)

    def has_minutes(self, day: date) -> bool:
        """Whether any code has minute bars stored for ``day``."""
        return any(len(bars) for bars in self.minute.days(self.minute.codes, day).values())


pickle_by_fields(DayGrid)  # see maemae.compiled
