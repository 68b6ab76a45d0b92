"""What a live day saves with each cycle besides the book, so that a run started again during the day goes on
exactly as the unbroken day would have (SPEC 5, restart).

The orders, fills, holdings, cash and risk state are saved as they change (``engine.persistence``). What the
live loop keeps in memory between cycles is saved here, with each cycle's checkpoint, as the runtime document
``live_day``:

* the day's universe (a stock sold during the day stays in it, as it did before the stop);
* each stock's daily signal (evaluated once a minute, used by the cycles in between);
* the minute bar still forming, the cumulative volume seen and the time of the last snapshot (the next
  snapshot extends that bar, and on a simulated exchange the trading since that snapshot is one bar);
* whether the day's safe-asset decision was made (it is made once, at the first cycle);
* which stocks still wait for the broker's chart of their bars before the start or of a pause, and from when
  (the chart of a large universe comes in over several refreshes);
* the day's counts of cycles, refreshes and completed bars, for the day's report;
* the time of the cycle, after which the restarted day's timers go on, on the grid they ran on.

The completed minute bars are rows of their own, appended as they complete (``StateStore.live_minute_bars``):
a whole day of them rewritten every 10 seconds would be megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.minute_bar import MinuteBar
from maemae.errors import StoreError
from maemae.ports.state import JsonDocument, StateStore
from maemae.strategy.inputs import Signal

LIVE_DAY_DOCUMENT = "live_day"
COUNTS = ("cycles", "refreshes", "completed_bars", "halted_cycles")


@dataclass(slots=True)
class SavedStock:
    """One stock of the universe as the last cycle left it (its completed bars are ``SavedDay.bars``)."""

    signal: Signal
    forming: MinuteBar | None
    volume_seen: int
    last_snapshot: datetime | None
    chart_due: bool = False  # its bars of a hole (``chart_after`` on) are still to come from the chart
    chart_after: datetime | None = None


@dataclass(slots=True)
class SavedDay:
    """The live loop's memory of ``day`` at the cycle of ``at``; ``bars``, the completed minute bars by
    stock, are read back from their table (a checkpoint writes only the new ones, apart)."""

    day: date
    at: datetime
    parked: bool
    counts: dict[str, int]
    stocks: dict[StockCode, SavedStock]
    bars: dict[StockCode, list[MinuteBar]] = field(default_factory=dict)

    def document(self) -> JsonDocument:
        """The runtime document (the completed bars are saved apart)."""
        return {
            "day": self.day.isoformat(),
            "at": self.at.isoformat(),
            "parked": self.parked,
            "counts": dict(self.counts),
            "stocks": {
                str(code): {
                    "signal": int(stock.signal),
                    "forming": _bar_fields(stock.forming),
                    "volume_seen": stock.volume_seen,
                    "last_snapshot": _text(stock.last_snapshot),
                    "chart_due": stock.chart_due,
                    "chart_after": _text(stock.chart_after),
                }
                for code, stock in self.stocks.items()
            },
        }


def saved_day(store: StateStore, day: date) -> SavedDay | None:
    """What an earlier run of ``day`` saved, with its completed bars; None when none ran (or another day).
    A document this maemae cannot read is refused in one line: going on without it would trade the rest of
    the day on other bars, unannounced."""
    document = _document_of(store, day)
    if document is None:
        return None
    try:
        stocks = {
            StockCode(code): SavedStock(
                Signal(int(fields["signal"])),
                _bar(fields["forming"]),
                int(fields["volume_seen"]),
                _moment(fields["last_snapshot"]) if fields["last_snapshot"] else None,
                bool(fields.get("chart_due", False)),
                _moment(fields["chart_after"]) if fields.get("chart_after") else None,
            )
            for code, fields in document["stocks"].items()
        }
        counts = {name: int(document["counts"].get(name, 0)) for name in COUNTS}
        at, parked = _moment(document["at"]), bool(document["parked"])
    except (KeyError, TypeError, ValueError) as error:
        raise StoreError(
            f"the state database's runtime document {LIVE_DAY_DOCUMENT!r} of {day} cannot be read "
            f"({type(error).__name__}: {error}): restore the database from a backup, or give the day a new "
            "store.url"
        ) from None
    return SavedDay(day, at, parked, counts, stocks, store.live_minute_bars(day))


def saved_universe(store: StateStore, day: date) -> list[StockCode] | None:
    """The universe an earlier run of ``day`` started with; None at the day's first start."""
    document = _document_of(store, day)
    return None if document is None else [StockCode(code) for code in document.get("stocks", {})]


def _document_of(store: StateStore, day: date) -> JsonDocument | None:
    """The saved ``live_day`` document when it is ``day``'s (a closed earlier day's stays until the next)."""
    document = store.runtime_document(LIVE_DAY_DOCUMENT)
    return document if document and document.get("day") == day.isoformat() else None


def _bar_fields(bar: MinuteBar | None) -> list[Any] | None:
    if bar is None:
        return None
    return [bar.start.isoformat(), bar.open, bar.high, bar.low, bar.close, bar.volume, bar.value]


def _bar(fields: list[Any] | None) -> MinuteBar | None:
    if fields is None:
        return None
    start, *numbers = fields
    return MinuteBar(_moment(start), *(int(n) for n in numbers))


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(KST)
