"""Enumerations of the domain: sides, order types and conditions, instruments and markets."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the sign of the position change."""
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    """KRX order types (reference/krx_rules.md section 5)."""

    LIMIT = "limit"  # 지정가
    MARKET = "market"  # 시장가
    CONDITIONAL_LIMIT = (
        "conditional_limit"  # 조건부지정가: limit in continuous, market in the closing auction
    )
    BEST = "best"  # 최유리지정가: priced at the best opposite quote on arrival
    PRIORITY = "priority"  # 최우선지정가: priced at the best same-side quote on arrival


class OrderCondition(StrEnum):
    """Time-in-force conditions KRX allows on limit, market and best-price orders."""

    NONE = "none"  # rests for the day
    IOC = "ioc"  # immediate or cancel the rest
    FOK = "fok"  # fill entirely at once or cancel


class InstrumentType(StrEnum):
    """What a code is. Preferred shares and SPACs trade under the stock tick table and tax; the top-N universe
    leaves them out, as the original system did."""

    STOCK = "stock"
    ETF = "etf"
    ETN = "etn"
    PREFERRED = "preferred"  # 우선주
    SPAC = "spac"  # 기업인수목적회사 (스팩)


class Market(StrEnum):
    KOSPI = "kospi"
    KOSDAQ = "kosdaq"


# the fund types: their own tick table, and no sell tax
FUND_TYPES: Final = (InstrumentType.ETF, InstrumentType.ETN)
