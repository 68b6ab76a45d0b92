"""Prices for the live loop: what a refresh asks for, and a replay of stored minute bars as live quotes.

The live loop needs only ``current_prices`` (``PriceSource``): a broker adapter gives real ones (KIS batches
30 stocks a call and streams 40); :class:`ReplayedQuotes` plays a stored day back as snapshots, so the live
loop can be run and tested on the sample market (``maemae run --replay``). Within each stored minute the
snapshots go open → high and low (in the direction of the bar) → close, and the day's volume grows with the
minute, so the minute bars the loop builds from them are the stored bars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Protocol

import numpy as np
import pandas as pd

from maemae.backtest.market import BacktestMarket
from maemae.data.bars import NS_PER_SECOND, BarArrays
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.minute_bar import MinuteBar
from maemae.engine.forming import MINUTE
from maemae.ports.broker import Quote


class PriceSource(Protocol):
    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]: ...


# today's minute bars of a stock that ended by ``now`` and began after ``after`` (None: from the open): what a
# run started during the day missed
TodaySoFar = Callable[[StockCode, datetime, datetime | None], list[MinuteBar]]


def ended_between(bars: Iterable[MinuteBar], now: datetime, after: datetime | None) -> list[MinuteBar]:
    """The bars that began after ``after`` and ended by ``now``: the minute still running is not one."""
    return [b for b in bars if (after is None or b.start > after) and b.start + MINUTE <= now]


class BrokerMinutes:
    """Today's minute bars from the broker's minute chart (KIS's ``inquire-time-itemchartprice``), for a run
    started during the day on the clock: the minutes before it started, or those of a restart's pause."""

    def __init__(self, chart: Callable[[StockCode, datetime, datetime | None], pd.DataFrame]) -> None:
        self._chart = chart  # (code, until, since) -> the day's bars in that span, at least

    def __call__(self, code: StockCode, now: datetime, after: datetime | None) -> list[MinuteBar]:
        frame = self._chart(code, now, after)
        columns = [frame[name].tolist() for name in ("open", "high", "low", "close", "volume", "value")]
        prices = zip(*columns, strict=True)
        bars = [
            MinuteBar(pd.Timestamp(ts).to_pydatetime().astimezone(KST), o, h, low, c, v, value)
            for ts, (o, h, low, c, v, value) in zip(frame["ts"].tolist(), prices, strict=True)
        ]
        return ended_between(bars, now, after)


class ReplayedQuotes:
    """Quotes at the clock's time from one stored trading day."""

    def __init__(self, market: BacktestMarket, day: date, clock: Callable[[], datetime]) -> None:
        self._market, self._day, self._clock = market, day, clock
        self._bars: dict[StockCode, BarArrays] = {}
        self._bases: dict[StockCode, int] = {}

    def _day_bars(self, code: StockCode) -> BarArrays:
        if code not in self._bars:
            self._bars[code] = self._market.minute_day(code, self._day)
            self._bases[code] = self._market.history.previous_close(code, self._day)
        return self._bars[code]

    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]:
        now = self._clock()
        stamp = int(now.timestamp() * 1_000_000) * 1_000
        quotes: dict[StockCode, Quote] = {}
        for code in codes:
            bars = self._day_bars(code)
            index = int(np.searchsorted(bars.ts, stamp, side="right")) - 1
            if index < 0:
                continue
            second = (stamp - int(bars.ts[index])) // NS_PER_SECOND
            open_, high, low, close = (int(x[index]) for x in (bars.open, bars.high, bars.low, bars.close))
            rising = close >= open_
            if second < 10:
                price = open_
            elif second < 20:
                price = low if rising else high
            elif second < 30:
                price = high if rising else low
            else:
                price = close
            share = (
                60 if index == len(bars) - 1 else min(int(second) + 10, 60)
            )  # the closing print: all of it
            volume = int(bars.volume[:index].sum()) + int(bars.volume[index]) * share // 60
            quotes[code] = Quote(
                code,
                price,
                now,
                int(bars.open[0]),
                max(int(bars.high[:index].max()) if index else price, price),
                min(int(bars.low[:index].min()) if index else price, price),
                volume,
                self._bases[code],
            )
        return quotes

    def bars_before(self, code: StockCode, now: datetime, after: datetime | None = None) -> list[MinuteBar]:
        """The stored minute bars that ended by ``now`` (and began after ``after``): what a run restarted at
        ``now`` missed."""
        bars = self._day_bars(code)
        stamp = int(now.timestamp() * 1_000_000) * 1_000
        ended = int(np.searchsorted(bars.ts, stamp - 60 * NS_PER_SECOND, side="right"))
        stored = (
            MinuteBar(
                datetime.fromtimestamp(int(bars.ts[i]) / NS_PER_SECOND, KST),
                int(bars.open[i]),
                int(bars.high[i]),
                int(bars.low[i]),
                int(bars.close[i]),
                int(bars.volume[i]),
                int(bars.value[i]),
            )
            for i in range(ended)
        )
        return ended_between(stored, now, after)
