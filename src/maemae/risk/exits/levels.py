"""Exact trigger levels: the price at which an exit fires, computed once in whole won.

Each price-triggered rule has two drivers, the live ``evaluate`` (one price at a time) and the compiled forward
scan the backtest uses to find the bar where the rule can first fire (DESIGN 1b). Both compare integer prices
against the *same* integer level computed here with exact fractions, so they cannot disagree by a rounding.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

# Products of a price and a fraction's terms must stay inside int64 in the compiled scans.
_MAX_TERM = 10**9


def fraction_of(pct: Decimal) -> Fraction:
    """``pct`` per cent as an exact fraction: Decimal("2.5") → 1/40."""
    return Fraction(pct) / 100


def floor_level(base: int | Decimal, pct_down: Decimal) -> int:
    """The highest whole-won price at or below ``base`` × (1 − pct_down %): a stop fires at or below it."""
    return math.floor(Fraction(base) * (1 - fraction_of(pct_down)))


def ceil_level(base: int | Decimal, pct_up: Decimal) -> int:
    """The lowest whole-won price at or above ``base`` × (1 + pct_up %): a target is reached at or above it."""
    return math.ceil(Fraction(base) * (1 + fraction_of(pct_up)))


def keep_ratio(pct_down: Decimal) -> tuple[int, int]:
    """(numerator, denominator) of 1 − pct_down %, for scans that move the level with the high-water mark."""
    keep = 1 - fraction_of(pct_down)
    if keep.denominator > _MAX_TERM:
        raise ValueError(f"percentage {pct_down}: too many decimal places for an exact price level")
    return keep.numerator, keep.denominator
