"""Daily price limits (가격제한폭): the upper and lower limit prices from the day's base price.

KRX computes them in three integer steps (docs/krx.md): 30 % of the base, truncated to the tick at the base;
then base ± that amount, with the upper one truncated to the tick at its own price. Floats would get some
bases wrong by a tick, so everything here is integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Final

from maemae.compiled import pickle_by_fields
from maemae.domain.enums import InstrumentType, Market
from maemae.errors import DomainError
from maemae.krx.ticks import tick_table

# (first day in force, limit as a fraction of the base price), newest last.
LIMIT_RATE_HISTORY: Final[tuple[tuple[date, Fraction], ...]] = (
    (date(1998, 12, 7), Fraction(15, 100)),
    (date(2015, 6, 15), Fraction(30, 100)),
)


@dataclass(frozen=True, slots=True)
class PriceLimits:
    """The day's highest and lowest valid order prices."""

    upper: int
    lower: int

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, upper: int, lower: int) -> None:
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "lower", lower)

    def contains(self, price: int) -> bool:
        return self.lower <= price <= self.upper


pickle_by_fields(PriceLimits)  # the simulated exchange's server sends limits to its clients


def limit_rate(on: date) -> Fraction:
    """The daily limit as a fraction of the base price on ``on`` (30 % since 2015-06-15)."""
    rate = LIMIT_RATE_HISTORY[0][1]
    for start, value in LIMIT_RATE_HISTORY:
        if on >= start:
            rate = value
    return rate


def price_limits(
    base: int,
    on: date,
    instrument: InstrumentType = InstrumentType.STOCK,
    market: Market = Market.KOSPI,
    leverage: int = 1,
) -> PriceLimits:
    """Upper and lower limit prices for a base price.

    ``leverage`` widens the band for leveraged ETFs (2× → ±60 %).
    """
    if base <= 0:
        raise DomainError(f"base price {base}: expected a positive whole number of won")
    if leverage < 1:
        raise DomainError(f"leverage {leverage}: expected 1 or more")
    rate = limit_rate(on)  # scaled by plain integers: Fraction arithmetic costs microseconds a code-day
    table = tick_table(on, instrument, market)
    base_tick = table.tick(base)
    amount = base * rate.numerator * leverage // rate.denominator // base_tick * base_tick  # exact
    raw_upper = base + amount
    upper_tick = table.tick(raw_upper)
    upper = raw_upper // upper_tick * upper_tick
    # base - amount is on the grid because every tick divides the larger ones; a limit wider than 100 % (a
    # leveraged product) bottoms out at the lowest valid price.
    lower = base - amount if base > amount else table.tick(1)
    return PriceLimits(upper=upper, lower=lower)
