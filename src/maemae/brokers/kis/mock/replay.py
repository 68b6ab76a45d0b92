"""A market that moves by itself: the local KIS server replaying a stored day on a clock.

With a replay the server needs no feed from its client: before it answers any request it trades the open of
every stored minute bar whose minute has started and all of every bar that has ended by its clock, so a
client that only speaks KIS's API (``maemae run`` in paper mode on the simulated exchange with KIS's prices,
or on KIS's paper server) sees prices move and orders fill as they would at KIS. An order sent during a
minute that trades at the next bar's open (a market order, a limit the open reaches) fills when that minute
starts, as against a real book; what needs the rest of the bar (a limit reached at its low, the bar's
prices in quotes) waits until the minute ends. The clock is the caller's: a simulated one in tests, an
accelerated wall clock for demos.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from maemae.brokers.kis.mock.account import MockAccount
from maemae.brokers.sim.matching import MarketBar, stored_day
from maemae.data.bars import Timeframe
from maemae.data.instruments import Instrument
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.krx.calendar import TradingCalendar
from maemae.krx.limits import price_limits
from maemae.krx.sessions import session_schedule

MINUTE = timedelta(minutes=1)
_ENDS, _OPENS = 0, 1


class MarketReplay:
    def __init__(
        self, store: BarStore, calendar: TradingCalendar, day: date, clock: Callable[[], datetime]
    ) -> None:
        schedule = session_schedule(day, calendar)
        if schedule is None:
            raise ValueError(f"{day} is not a trading day")
        self.day, self.clock = day, clock
        self._pre_open = schedule.pre_open
        self._close = schedule.close
        instruments = store.read_instruments()
        previous = calendar.previous_session(day)
        self.bases: dict[StockCode, int] = {}
        # (when, 0 for a bar's end or 1 for its open, code, bar): at one moment a bar ends before the next
        # one opens
        self._events: list[tuple[datetime, int, StockCode, MarketBar]] = []
        for code in store.codes(Timeframe.MINUTE):
            daily = store.read_arrays(code, Timeframe.DAY, previous, previous)
            minute = store.read_arrays(code, Timeframe.MINUTE, day, day)
            if not len(daily) or not len(minute):
                continue
            base = int(daily.close[-1])
            self.bases[code] = base
            instrument = instruments.get(code)
            limits = price_limits(base, day, *_kind(instrument))
            for bar in stored_day(minute, limits, schedule.close):
                if bar.closing_auction:  # one print: it trades as its time comes
                    self._events.append((bar.start, _ENDS, code, bar))
                else:
                    self._events.append((bar.start, _OPENS, code, bar))
                    self._events.append((bar.start + MINUTE, _ENDS, code, bar))
        self._events.sort(key=lambda item: (item[0], item[1], item[2]))
        self._next = 0
        self._started = False
        self._ended = False

    def catch_up(self, account: MockAccount) -> None:
        """Trade the open of every bar that has started by now and all of every bar that has ended (and open
        or end the day when their times come)."""
        now = self.clock()
        if not self._started and now >= self._pre_open:
            account.start_day(self.day, self.bases, self._pre_open)
            self._started = True
        while self._started and self._next < len(self._events) and self._events[self._next][0] <= now:
            when, kind, code, bar = self._events[self._next]
            if kind == _OPENS:
                account.open_bar(code, bar, when)
            else:
                account.on_bar(code, bar, when)
            self._next += 1
        if self._started and not self._ended and now >= self._close + MINUTE:
            account.end_day(now)
            self._ended = True
        account.advance(now)


def _kind(instrument: Instrument | None) -> tuple[InstrumentType, Market]:
    if instrument is None:
        return InstrumentType.STOCK, Market.KOSPI
    return instrument.instrument_type, instrument.market
