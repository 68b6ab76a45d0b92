"""Tick sizes (호가가격단위) by price, instrument type, market and date, and rounding onto the tick grid.

KRX changed the stock table on 2023-01-25 (one table for KOSPI and KOSDAQ since then) and the ETF/ETN table
in December 2023; a backtest over 2022 must use the old table, so every function takes the date the price
belongs to. Scalar functions serve the order path; the ``*_array`` versions serve the sample generator and the
backtest, and both read the same band tables so they cannot disagree.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import numpy.typing as npt

from maemae.compiled import pickle_by_fields
from maemae.domain.enums import FUND_TYPES, InstrumentType, Market
from maemae.errors import DomainError

STOCK_TABLE_REFORM: Final = date(2023, 1, 25)
# The ETF/ETN 1-won band started in December 2023; sources give 12-08 or 12-18 (docs/krx.md). We take the
# earlier date: a price off the grid between the two dates is then still accepted by the later rule.
ETF_TABLE_REFORM: Final = date(2023, 12, 8)

Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TickTable:
    """Price bands as sorted lower bounds with the tick that applies from each bound upwards."""

    bounds: tuple[int, ...]
    ticks: tuple[int, ...]

    def tick(self, price: int) -> int:
        # a walk up the few bands, compiled to integer compares: a third of what bisect and max cost as calls
        bounds, band = self.bounds, 0
        for upper in range(1, len(bounds)):
            if price < bounds[upper]:
                break
            band = upper
        return self.ticks[band]

    def is_on_grid(self, price: int) -> bool:
        return price > 0 and price % self.tick(price) == 0

    def step(self, price: int, n: int) -> int:
        """The valid price ``n`` ticks above (n > 0) or below (n < 0) a valid ``price``, crossing bands
        correctly: going down from a band bound uses the lower band's tick (below 5,000 the step is 5, not
        10)."""
        if not self.is_on_grid(price):
            raise DomainError(f"price {price}: not on the tick grid")
        for _ in range(abs(n)):
            if n > 0:
                price += self.tick(price)
            else:
                if price <= 1:
                    raise DomainError(f"price {price}: cannot move a tick below the lowest price")
                price -= self.tick(price - 1)
        return price

    def tick_array(self, prices: Int64Array) -> Int64Array:
        index = np.searchsorted(np.asarray(self.bounds, dtype=np.int64), prices, side="right") - 1
        return np.asarray(self.ticks, dtype=np.int64)[np.maximum(index, 0)]


STOCK_TABLE: Final = TickTable(
    (0, 2_000, 5_000, 20_000, 50_000, 200_000, 500_000), (1, 5, 10, 50, 100, 500, 1_000)
)
OLD_KOSPI_TABLE: Final = TickTable(
    (0, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000), (1, 5, 10, 50, 100, 500, 1_000)
)
OLD_KOSDAQ_TABLE: Final = TickTable((0, 1_000, 5_000, 10_000, 50_000), (1, 5, 10, 50, 100))
OLD_ETF_TABLE: Final = TickTable((0,), (5,))
ETF_TABLE: Final = TickTable((0, 2_000), (1, 5))


def tick_table(
    on: date, instrument: InstrumentType = InstrumentType.STOCK, market: Market = Market.KOSPI
) -> TickTable:
    """The band table in force on ``on`` for this kind of instrument.

    On the order path (every limit a strategy prices asks it): two date compares against constants the
    compiled module holds, not a cache, whose key tuple, hashing and call through a Python object cost a
    strategy's intent more than the tick arithmetic did."""
    if instrument in FUND_TYPES:
        return ETF_TABLE if on >= ETF_TABLE_REFORM else OLD_ETF_TABLE
    if on >= STOCK_TABLE_REFORM:
        return STOCK_TABLE
    return OLD_KOSDAQ_TABLE if market is Market.KOSDAQ else OLD_KOSPI_TABLE


def tick_size(
    price: int, on: date, instrument: InstrumentType = InstrumentType.STOCK, market: Market = Market.KOSPI
) -> int:
    """The tick at ``price``: the step between valid prices in the band the price falls in."""
    if price <= 0:
        raise DomainError(f"price {price}: expected a positive whole number of won")
    return tick_table(on, instrument, market).tick(price)


def round_down_to_tick(
    price: int, on: date, instrument: InstrumentType = InstrumentType.STOCK, market: Market = Market.KOSPI
) -> int:
    """The highest valid price at or below ``price``."""
    tick = tick_size(price, on, instrument, market)
    return max(price // tick * tick, 1)


def round_up_to_tick(
    price: int, on: date, instrument: InstrumentType = InstrumentType.STOCK, market: Market = Market.KOSPI
) -> int:
    """The lowest valid price at or above ``price``.

    Every band bound is a multiple of the tick above it, so rounding up with the tick at ``price`` lands on a
    valid price: at most on the next band's bound, which is itself valid.
    """
    tick = tick_size(price, on, instrument, market)  # refuses a price that is not positive
    return -(-price // tick) * tick


def is_on_tick(
    price: int, on: date, instrument: InstrumentType = InstrumentType.STOCK, market: Market = Market.KOSPI
) -> bool:
    """Whether an order at ``price`` would be accepted by the exchange's price grid."""
    return tick_table(on, instrument, market).is_on_grid(price)


def add_ticks(
    price: int,
    n: int,
    on: date,
    instrument: InstrumentType = InstrumentType.STOCK,
    market: Market = Market.KOSPI,
) -> int:
    """The valid price ``n`` ticks above (n > 0) or below (n < 0) a valid ``price`` on the grid of ``on``
    (:meth:`TickTable.step`)."""
    return tick_table(on, instrument, market).step(price, n)


def tick_size_array(
    prices: Int64Array,
    on: date,
    instrument: InstrumentType = InstrumentType.STOCK,
    market: Market = Market.KOSPI,
) -> Int64Array:
    """``tick_size`` for a whole array of prices at once."""
    return tick_table(on, instrument, market).tick_array(np.asarray(prices, dtype=np.int64))


def tick_size_by_day(
    prices: Int64Array,
    days: npt.NDArray[np.datetime64],
    instrument: InstrumentType = InstrumentType.STOCK,
    market: Market = Market.KOSPI,
) -> Int64Array:
    """``tick_size`` for prices of many days at once (each with the band table in force on its day)."""
    prices = np.asarray(prices, dtype=np.int64)
    days = np.asarray(days, dtype="datetime64[D]")
    ticks = np.empty(len(prices), dtype=np.int64)
    bounds = [np.datetime64(reform, "D") for reform in (STOCK_TABLE_REFORM, ETF_TABLE_REFORM)]
    edges = [np.datetime64("1900-01-01", "D"), *sorted(bounds), np.datetime64("2999-12-31", "D")]
    for start, stop in itertools.pairwise(edges):
        selected = (days >= start) & (days < stop)
        if selected.any():
            table = tick_table(start.astype(date), instrument, market)
            ticks[selected] = table.tick_array(prices[selected])
    return ticks


def round_down_array(
    prices: Int64Array,
    on: date,
    instrument: InstrumentType = InstrumentType.STOCK,
    market: Market = Market.KOSPI,
) -> Int64Array:
    """``round_down_to_tick`` for an array; prices below 1 become 1."""
    return _round_array(prices, on, instrument, market, up=False)


def round_up_array(
    prices: Int64Array,
    on: date,
    instrument: InstrumentType = InstrumentType.STOCK,
    market: Market = Market.KOSPI,
) -> Int64Array:
    """``round_up_to_tick`` for an array; prices below 1 become 1."""
    return _round_array(prices, on, instrument, market, up=True)


def _round_array(
    prices: Int64Array, on: date, instrument: InstrumentType, market: Market, *, up: bool
) -> Int64Array:
    values = np.maximum(np.asarray(prices, dtype=np.int64), 1)
    ticks = tick_size_array(values, on, instrument, market)
    rounded: Int64Array = -(-values // ticks) * ticks if up else np.maximum(values // ticks * ticks, 1)
    return rounded


pickle_by_fields(TickTable)  # see maemae.compiled
