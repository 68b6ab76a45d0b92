"""Daily bars standing in for minute bars (``backtest.bars = "day"``), for data that has no minutes.

Each session becomes two prints on one grid for every code: the opening auction at the open (price = the
day's open, no volume: nothing is traded against it) and the closing auction at the close (open, high, low,
close and volume of the whole day). The engine then runs unchanged: the daily strategy is evaluated at the
open with the open standing for today's close, the minute strategy decides after the opening print, and an
order fills no earlier than the next bar, the closing auction, at the close. No look-ahead: a decision sees
the open only; what happened during the day is known only when the order fills.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np

from maemae.data.bars import BarArrays, Int64Array, day_ns
from maemae.domain.codes import StockCode
from maemae.krx.calendar import TradingCalendar
from maemae.krx.sessions import session_schedule


def print_times(day: date, calendar: TradingCalendar) -> Int64Array:
    """The two bar start times of ``day``: the open and the close, in epoch nanoseconds."""
    schedule = session_schedule(day, calendar)
    assert schedule is not None
    seconds = [schedule.open.timestamp(), schedule.close.timestamp()]
    return np.array([round(s) * 1_000_000_000 for s in seconds], dtype=np.int64)


class DailyPrints:
    """The intraday bars of a daily-bar run: two prints per code and session."""

    def __init__(self, daily: dict[StockCode, BarArrays], calendar: TradingCalendar) -> None:
        self.daily = daily
        self.calendar = calendar
        self.codes = sorted(daily)

    def day(self, code: StockCode, day: date) -> BarArrays:
        return self.days([code], day)[code]

    def days(self, codes: Iterable[StockCode], day: date) -> dict[StockCode, BarArrays]:
        stamp = day_ns(day)
        times: Int64Array | None = None
        result: dict[StockCode, BarArrays] = {}
        for code in codes:
            bars = self.daily.get(code)
            at = int(np.searchsorted(bars.ts, stamp)) if bars is not None else 0
            if bars is None or at >= len(bars) or int(bars.ts[at]) != stamp:
                result[code] = BarArrays.empty()
                continue
            times = print_times(day, self.calendar) if times is None else times
            o, h, low, c = (int(bars.open[at]), int(bars.high[at]), int(bars.low[at]), int(bars.close[at]))
            result[code] = BarArrays(
                times.copy(),
                np.array([o, o], dtype=np.int64),
                np.array([o, h], dtype=np.int64),
                np.array([o, low], dtype=np.int64),
                np.array([o, c], dtype=np.int64),
                np.array([0, int(bars.volume[at])], dtype=np.int64),
                np.array([0, int(bars.value[at])], dtype=np.int64),
            )
        return result
