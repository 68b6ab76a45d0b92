"""What an exit rule sees of one position, and the bar arrays its forward scan walks.

Exit rules read a small frozen view rather than the live ``Position`` so that the backtest's forward scan and
the bar-by-bar ``fires`` test are fed the very same numbers, and a test can replay a random price path
through both without building a portfolio.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from maemae.domain.codes import StockCode
from maemae.risk.exits.scan import Prices, as_prices


@dataclass(frozen=True, slots=True)
class ExitView:
    """One open position as the exit rules need it.

    ``sellable`` is what maemae owns minus what its working sell orders already cover, so an exit never asks
    for shares another exit order is selling. ``high_water`` is the highest price seen *before* the bar being
    judged; ``after_bar`` raises it with that bar's high once the bar has been judged.
    """

    code: StockCode
    sellable: int
    avg_price: int | Decimal
    high_water: int
    opened_day: date | None = None
    take_profit_taken: bool = False

    def after_bar(self, high: int) -> ExitView:
        return self if high <= self.high_water else replace(self, high_water=high)


class BarArrays(NamedTuple):
    """One stock's bars as int64 whole-won columns, the input of every exit rule's forward scan."""

    low: Prices
    high: Prices
    close: Prices

    @classmethod
    def of(cls, low: object, high: object, close: object) -> BarArrays:
        arrays = cls(as_prices(low), as_prices(high), as_prices(close))
        if not arrays.low.shape == arrays.high.shape == arrays.close.shape:
            raise ValueError(
                f"bar arrays: low, high and close differ in length "
                f"({arrays.low.shape[0]}, {arrays.high.shape[0]}, {arrays.close.shape[0]})"
            )
        return arrays
