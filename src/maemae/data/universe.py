"""``select_stocks``: the day's universe: up to 100 selected stocks, then the safe asset and the holdings.

Selection runs before the open and sees only bars of sessions BEFORE the day it selects for (no look-ahead).
Selectors are pluggable: anything with a ``select(on, daily, instruments)`` method over in-memory daily bars
(the caller loads them once; a backtest selects every day without touching the disk); the built-ins are the
top N by traded value over the last K sessions and a fixed list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
_EXCLUDED = {True: NEVER_SELECTED, False: NEVER_SELECTED | FUNDS}  # by ``include_funds``


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


class _TradedValueIndex:
    """Running totals of traded value for every code on one axis of days, built once per set of daily bars:
    a day's top N is then a subtraction of two columns and a sort, not a loop over the market (2,500 stocks
    are selected in about a millisecond)."""

    def __init__(self, daily: Mapping[StockCode, BarArrays], instruments: Mapping[StockCode, Instrument]):
        self.daily, self.instruments = daily, instruments
        self.codes = sorted(daily)  # ascending, so a stable sort gives ties to the lower code
        stamps = [daily[code].ts for code in self.codes]
        self.days = np.unique(np.concatenate(stamps)) if stamps else np.empty(0, dtype=np.int64)
        width = len(self.days) + 1
        self.value = np.zeros((len(self.codes), width), dtype=np.int64)
        self.count = np.zeros((len(self.codes), width), dtype=np.int32)
        for row, bars in enumerate(daily[code] for code in self.codes):
            at = np.searchsorted(self.days, bars.ts) + 1
            self.value[row, at] = bars.value
            self.count[row, at] = 1
        np.cumsum(self.value, axis=1, out=self.value)
        np.cumsum(self.count, axis=1, out=self.count)
        known = [instruments.get(code) for code in self.codes]
        self.kinds = [i.instrument_type if i else None for i in known]
        self.listed = np.array([day_ns(i.listed) if i and i.listed else -(2**62) for i in known], np.int64)
        self.delisted = np.array([day_ns(i.delisted) if i and i.delisted else 2**62 for i in known], np.int64)
        self._allowed: dict[frozenset[InstrumentType], np.ndarray] = {}

    def allowed(self, excluded: frozenset[InstrumentType]) -> np.ndarray:
        """Per code, whether its kind may be selected: made once per set of excluded kinds, not every day."""
        found = self._allowed.get(excluded)
        if found is None:
            found = np.array([kind not in excluded for kind in self.kinds], dtype=bool)
            self._allowed[excluded] = found
        return found

    def fits(self, daily: Mapping[StockCode, BarArrays], instruments: Mapping[StockCode, Instrument]) -> bool:
        return daily is self.daily and instruments is self.instruments and len(daily) == len(self.codes)

    def top(self, first: int, before: int, n: int, allowed: np.ndarray) -> list[StockCode]:
        """The ``n`` codes with the most value traded in [first, before), among ``allowed``."""
        lo, hi = np.searchsorted(self.days, [first, before], side="left")
        totals = self.value[:, hi] - self.value[:, lo]
        traded = (self.count[:, hi] - self.count[:, lo]) > 0
        rows = np.flatnonzero(traded & allowed & (self.listed <= before) & (before < self.delisted))
        order = rows[np.argsort(-totals[rows], kind="stable")][:n]
        return [self.codes[row] for row in order]


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
    _index: list[_TradedValueIndex] = field(default_factory=list, init=False, compare=False, repr=False)

    def select(
        self, on: date, daily: Mapping[StockCode, BarArrays], instruments: Mapping[StockCode, Instrument]
    ) -> list[StockCode]:
        if not (self._index and self._index[0].fits(daily, instruments)):
            self._index[:] = [_TradedValueIndex(daily, instruments)]
        index = self._index[0]
        allowed = index.allowed(_EXCLUDED[self.include_funds])
        first = day_ns(self.calendar.add_sessions(on, -self.lookback_days))
        return index.top(first, day_ns(on), self.n, allowed)  # bars of ``on`` itself are never looked at


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
