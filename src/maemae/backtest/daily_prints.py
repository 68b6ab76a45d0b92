"""Daily bars standing in for minute bars (``backtest.bars = "day"``), for data that has no minutes.

Each session becomes two prints on one grid for every code: the opening auction at the open (price = the
day's open, no volume: nothing is traded against it) and the closing auction at the close (open, high, low,
close and volume of the whole day). The engine then runs unchanged: the daily strategy is evaluated at the
open with the open standing for today's close, the minute strategy decides after the opening print, and an
order fills no earlier than the next bar, the closing auction, at the close. No look-ahead: a decision sees
the open only; what happened during the day is known only when the order fills.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from maemae.data.bars import BarArrays, Int64Array, day_ns, kst_dates
from maemae.domain.codes import StockCode
from maemae.krx.calendar import TradingCalendar
from maemae.krx.sessions import session_schedule


@lru_cache(maxsize=8192)  # every code asks for the same sessions
def print_times(day: date, calendar: TradingCalendar) -> Int64Array:
    """The two bar start times of ``day``: the open and the close, in epoch nanoseconds."""
    schedule = session_schedule(day, calendar)
    assert schedule is not None
    seconds = [schedule.open.timestamp(), schedule.close.timestamp()]
    times = np.array([round(s) * 1_000_000_000 for s in seconds], dtype=np.int64)
    times.flags.writeable = False
    return times


class DailyPrints:
    """The intraday bars of a daily-bar run, as a feed's source: two prints per code and session."""

    bars_per_session = 2
    in_memory = True  # the daily bars are: a window's prints are made for the day's codes only

    def __init__(self, daily: dict[StockCode, BarArrays], calendar: TradingCalendar) -> None:
        self.daily = daily
        self.calendar = calendar
        self.codes = sorted(daily)

    def grid(self, day: date) -> Int64Array:
        return print_times(day, self.calendar)

    def read_at_once(self, code: StockCode, first: date, last: date) -> BarArrays | None:
        return self.read(code, first, last)  # made from daily bars in memory: nothing to decode

    def read(self, code: StockCode, first: date, last: date) -> BarArrays:
        bars = self.daily.get(code)
        if bars is None:
            return BarArrays.empty()
        lo, hi = np.searchsorted(bars.ts, [day_ns(first), day_ns(last + timedelta(days=1))])
        days = bars.slice(int(lo), int(hi))
        if not len(days):
            return BarArrays.empty()
        # a bar on a day KRX did not trade (a data error) gets times on no grid: it is dropped
        times = np.concatenate(
            [
                self.grid(day) if self.calendar.is_session(day) else np.full(2, day_ns(day), dtype=np.int64)
                for day in kst_dates(days.ts)
            ]
        )

        def prints(opening: Int64Array, closing: Int64Array) -> Int64Array:
            return np.column_stack([opening, closing]).ravel()

        nothing = np.zeros(len(days), dtype=np.int64)
        return BarArrays(
            times,
            prints(days.open, days.open),
            prints(days.open, days.high),
            prints(days.open, days.low),
            prints(days.open, days.close),
            prints(nothing, days.volume),
            prints(nothing, days.value),
        )
