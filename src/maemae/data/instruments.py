"""What a stock code is: its name, market and instrument type, and when it was listed and delisted.

The listing dates let a universe on a past date leave out stocks that did not trade then (no survivorship
bias); the instrument type decides the tick table and the sell tax.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market


@dataclass(frozen=True, slots=True)
class Instrument:
    code: StockCode
    name: str
    market: Market
    instrument_type: InstrumentType = InstrumentType.STOCK
    listed: date | None = None
    delisted: date | None = None

    def is_listed_on(self, day: date) -> bool:
        """Whether the instrument traded on ``day`` as far as its listing dates say."""
        return (self.listed is None or self.listed <= day) and (self.delisted is None or day < self.delisted)


def listing(instrument: Instrument | None) -> tuple[InstrumentType, Market]:
    """An instrument's kind and market, which pick its tick table, limits and tax. A code missing from the
    instrument list is taken as a KOSPI stock: the rules of the common case."""
    if instrument is None:
        return InstrumentType.STOCK, Market.KOSPI
    return instrument.instrument_type, instrument.market
