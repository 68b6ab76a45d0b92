"""``select_stocks``: the day's universe: up to 100 selected stocks, then the safe asset and the holdings.

Selection runs before the open and sees only bars of sessions BEFORE the day it selects for (no look-ahead).
Selectors are pluggable: anything with a ``select(on, daily, instruments)`` method over in-memory daily bars
(the caller loads them once; a backtest selects every day without touching the disk); the built-ins are the
top N by traded value over the last K sessions and a fixed list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np

from maemae.data.bars import BarArrays, day_ns
from maemae.data.instruments import Instrument
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType
from maemae.errors import ConfigError
from maemae.krx.calendar import TradingCalendar

MAX_SELECTED = 100


FUNDS = frozenset({InstrumentType.ETF, InstrumentType.ETN})
NEVER_SELECTED = frozenset({InstrumentType.PREFERRED, InstrumentType.SPAC})


class Selector(Protocol):
    """Chooses the day's candidates from the daily bars known before ``on``."""

    def select(
        self, on: date, daily: Mapping[StockCode, BarArrays], instruments: Mapping[StockCode, Instrument]
    ) -> list[StockCode]: ...


@dataclass(frozen=True, slots=True)
class Universe:
    """The day's codes: the selection first, then the safe asset and the holdings not already in it."""

    day: date
    selected: tuple[StockCode, ...]
    safe_asset: StockCode | None
    holdings: tuple[StockCode, ...]

    @property
    def codes(self) -> tuple[StockCode, ...]:
        ordered = list(self.selected)
        extras = ([self.safe_asset] if self.safe_asset else []) + list(self.holdings)
        ordered += [code for code in extras if code not in ordered]
        return tuple(dict.fromkeys(ordered))


@dataclass(frozen=True, slots=True)
class TopTradedValueSelector:
    """The ``n`` stocks with the most traded value over the ``lookback_days`` sessions before ``on``.

    ETFs and ETNs are left out unless ``include_funds``; stocks not listed on ``on`` are left out; ties go to
    the lower code so the choice is deterministic.
    """

    n: int
    lookback_days: int
    calendar: TradingCalendar
    include_funds: bool = False

    def select(
        self, on: date, daily: Mapping[StockCode, BarArrays], instruments: Mapping[StockCode, Instrument]
    ) -> list[StockCode]:
        first = day_ns(self.calendar.add_sessions(on, -self.lookback_days))
        before = day_ns(on)  # bars of ``on`` itself are never looked at
        totals: list[tuple[int, StockCode]] = []
        for code, bars in daily.items():
            instrument = instruments.get(code)
            if instrument is not None:
                if not instrument.is_listed_on(on):
                    continue
                kind = instrument.instrument_type
                if kind in NEVER_SELECTED or (kind in FUNDS and not self.include_funds):
                    continue
            lo, hi = np.searchsorted(bars.ts, [first, before], side="left")
            if hi > lo:
                totals.append((-int(bars.value[lo:hi].sum()), code))
        return [code for _, code in sorted(totals)[: self.n]]


@dataclass(frozen=True, slots=True)
class FixedListSelector:
    """The codes from the config, in their order, skipping any not listed on the day."""

    codes: tuple[StockCode, ...]

    def select(
        self, on: date, daily: Mapping[StockCode, BarArrays], instruments: Mapping[StockCode, Instrument]
    ) -> list[StockCode]:
        del daily
        return [code for code in self.codes if code not in instruments or instruments[code].is_listed_on(on)]


SELECTORS: dict[str, Callable[..., Selector]] = {
    "top_traded_value": TopTradedValueSelector,
    "fixed": FixedListSelector,
}


def make_selector(name: str, **options: Any) -> Selector:
    """A selector by its config name; a user-registered one is added to ``SELECTORS`` first."""
    try:
        factory = SELECTORS[name]
    except KeyError:
        raise ConfigError(
            f"universe.selector = {name!r}: expected one of {', '.join(sorted(SELECTORS))}"
        ) from None
    return factory(**options)


def select_stocks(
    on: date,
    daily: Mapping[StockCode, BarArrays],
    instruments: Mapping[StockCode, Instrument],
    selector: Selector,
    *,
    max_stocks: int = MAX_SELECTED,
    safe_asset: StockCode | None = None,
    holdings: Iterable[StockCode] = (),
) -> Universe:
    """The universe for ``on``: the selector's pick capped at ``max_stocks`` (at most 100), plus extras."""
    if not 1 <= max_stocks <= MAX_SELECTED:
        raise ConfigError(f"universe.max_stocks = {max_stocks}: expected 1..{MAX_SELECTED}")
    chosen = selector.select(on, daily, instruments)
    selected = tuple(dict.fromkeys(StockCode(code) for code in chosen))[:max_stocks]
    return Universe(
        day=on,
        selected=selected,
        safe_asset=StockCode(safe_asset) if safe_asset else None,
        holdings=tuple(dict.fromkeys(StockCode(code) for code in holdings)),
    )
