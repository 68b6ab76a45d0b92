"""Trading costs: commission on both sides and the securities transaction tax on sells.

The tax rate follows the SETTLEMENT date (양도일), not the trade date: a sale on 2025-12-29 settles on
2026-01-02 and pays 2026's rate. Domestic ETFs and ETNs are exempt. Amounts are whole won, truncated (the
fraction of a won is dropped), which is how Korean brokers print their trade confirmations; docs/krx.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final

from maemae.compiled import pickle_by_fields
from maemae.domain.enums import FUND_TYPES, InstrumentType, Market, Side
from maemae.errors import DomainError
from maemae.krx.calendar import TradingCalendar
from maemae.krx.settlement import settlement_date

DEFAULT_COMMISSION_RATE = Decimal("0.00015")

# (first settlement date, total rate incl. the rural special tax on KOSPI), newest last. KOSPI and KOSDAQ
# totals have been equal since 2019.
SELL_TAX_HISTORY: Final[tuple[tuple[date, Decimal], ...]] = (
    (date(1900, 1, 1), Decimal("0.0030")),
    (date(2019, 6, 3), Decimal("0.0025")),
    (date(2021, 1, 1), Decimal("0.0023")),
    (date(2023, 1, 1), Decimal("0.0020")),
    (date(2024, 1, 1), Decimal("0.0018")),
    (date(2025, 1, 1), Decimal("0.0015")),
    (date(2026, 1, 1), Decimal("0.0020")),
)


def sell_tax_rate(settlement: date, market: Market, instrument: InstrumentType) -> Decimal:
    """The tax on a sale that settles on ``settlement``, as a fraction of the sale amount."""
    del market  # the KOSPI and KOSDAQ totals are the same in every period in the table
    if instrument in FUND_TYPES:
        return Decimal(0)
    rate = SELL_TAX_HISTORY[0][1]
    for start, value in SELL_TAX_HISTORY:
        if settlement >= start:
            rate = value
    return rate


def _won(amount: int, ratio: tuple[int, int]) -> int:
    """``amount`` x a rate given as its exact integer ratio, truncated to whole won: the same floor as
    Decimal arithmetic gives, at a tenth of its cost on the order path."""
    return amount * ratio[0] // ratio[1]


_RATIOS: Final[dict[Decimal, tuple[int, int]]] = {}  # the few tax rates of the table, each made once


def _ratio(rate: Decimal) -> tuple[int, int]:
    ratio = _RATIOS.get(rate)
    if ratio is None:
        ratio = _RATIOS[rate] = rate.as_integer_ratio()
    return ratio


@dataclass(slots=True)
class Costs:
    """What one fill costs on top of its price: commission and (sells only) tax, in whole won."""

    commission: int
    tax: int

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, commission: int, tax: int) -> None:
        self.commission, self.tax = commission, tax

    @property
    def total(self) -> int:
        return self.commission + self.tax


@dataclass(frozen=True, slots=True)
class CostModel:
    """Commission rate per side (the broker's, from config) plus the tax schedule above."""

    commission_rate: Decimal = DEFAULT_COMMISSION_RATE
    # the rate as an exact integer ratio, made once: every order and fill asks for its commission
    _commission: tuple[int, int] = field(init=False, repr=False, compare=False)
    # the sell tax's ratio by (trade date, calendar, fund or not), found once each: a sell fill is costed by
    # the exchange and again by the order manager, and its settlement date and the tax table's walk cost
    # about ten times this lookup (a calendar never changes once built)
    _tax_ratios: dict[tuple[date, TradingCalendar, bool], tuple[int, int]] = field(
        init=False, repr=False, compare=False
    )
    # the last of those keys with its ratio, compared first: each fill's trade date is a new ``date`` object,
    # which a dict lookup hashes again (SipHash over its bytes) in a new key tuple
    _last_tax: tuple[date, TradingCalendar, bool, tuple[int, int]] | None = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.commission_rate < Decimal(1):
            raise DomainError(f"commission rate {self.commission_rate}: expected a fraction in [0, 1)")
        object.__setattr__(self, "_commission", self.commission_rate.as_integer_ratio())
        object.__setattr__(self, "_tax_ratios", {})
        object.__setattr__(self, "_last_tax", None)

    def commission(self, amount: int) -> int:
        """Commission on a fill of ``amount`` won."""
        return _won(amount, self._commission)

    def sell_tax(
        self,
        amount: int,
        trade_date: date,
        market: Market,
        instrument: InstrumentType,
        calendar: TradingCalendar,
    ) -> int:
        """Transaction tax on a sale of ``amount`` won traded on ``trade_date``."""
        fund = instrument in FUND_TYPES
        last = self._last_tax
        if last is not None and last[1] is calendar and last[2] == fund and last[0] == trade_date:
            return _won(amount, last[3])
        key = (trade_date, calendar, fund)
        ratio = self._tax_ratios.get(key)
        if ratio is None:
            rate = sell_tax_rate(settlement_date(trade_date, calendar), market, instrument)
            ratio = self._tax_ratios[key] = _ratio(rate)
        object.__setattr__(self, "_last_tax", (trade_date, calendar, fund, ratio))
        return _won(amount, ratio)

    def costs(
        self,
        side: Side,
        amount: int,
        trade_date: date,
        market: Market,
        instrument: InstrumentType,
        calendar: TradingCalendar,
    ) -> Costs:
        """Commission and tax of one fill."""
        tax = self.sell_tax(amount, trade_date, market, instrument, calendar) if side is Side.SELL else 0
        return Costs(commission=self.commission(amount), tax=tax)


pickle_by_fields(Costs, CostModel)  # see maemae.compiled
