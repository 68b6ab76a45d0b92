"""The simulated exchange's fill rules: at what price, if any, a working order trades against one bar.

The rules are deliberately conservative, so a backtest does not trade where the real market would not:

* an order decided on bar t fills no earlier than bar t+1 (the engine only shows it bars that start at or
  after its submission);
* a buy fills at the bar's open when the open is at or below its limit (a gap in its favour), else at its
  limit when the bar traded strictly below the limit (a mere touch is not assumed to reach a queued order);
  sells mirror this;
* market and best-price orders fill at the open (or the close, with ``fill_at = "next_close"``), moved
  ``slippage_ticks`` against the order and kept inside the day's limits;
* the closing-auction bar trades everything marketable at the single closing price; a conditional-limit order
  still working becomes a market order there;
* no buy fills while the price is locked at the upper limit, no sell while locked at the lower limit;
* one order takes at most ``max_volume_share`` of a bar's volume, shared by all orders on that bar.

A market that replays stored bars on a clock (the local KIS server's ``--replay``) knows a bar's open when its
minute starts but the rest of it only when the minute ends; ``opening_price`` says which orders trade at the
open, so they can fill then, as they would against a real book, rather than a minute later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from maemae.compiled import pickle_by_fields
from maemae.data.bars import NS_PER_SECOND, BarArrays
from maemae.domain.clock_time import KST
from maemae.domain.enums import OrderType, Side
from maemae.errors import DomainError
from maemae.krx.limits import PriceLimits
from maemae.krx.ticks import TickTable


@dataclass(slots=True)
class MarketBar:
    """One bar as the exchange sees it, with the day's limits and whether it is the closing auction."""

    start: datetime
    open: int
    high: int
    low: int
    close: int
    volume: int
    limits: PriceLimits
    closing_auction: bool = False

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        start: datetime,
        open: int,
        high: int,
        low: int,
        close: int,
        volume: int,
        limits: PriceLimits,
        closing_auction: bool = False,
    ) -> None:
        self.start, self.open, self.high, self.low, self.close = start, open, high, low, close
        self.volume, self.limits, self.closing_auction = volume, limits, closing_auction

    @property
    def locked_up(self) -> bool:
        return self.high == self.low == self.limits.upper

    @property
    def locked_down(self) -> bool:
        return self.high == self.low == self.limits.lower


def market_bar(
    bars: BarArrays, i: int, start: datetime, limits: PriceLimits, *, closing_auction: bool
) -> MarketBar:
    """Bar ``i`` of ``bars``, starting at ``start``, as the exchange trades it (``item`` reads a Python int
    straight from the array: indexing makes a NumPy scalar first, at three times the cost)."""
    return MarketBar(
        start,
        bars.open.item(i),
        bars.high.item(i),
        bars.low.item(i),
        bars.close.item(i),
        bars.volume.item(i),
        limits,
        closing_auction=closing_auction,
    )


def stored_day(minute: BarArrays, limits: PriceLimits, close: datetime) -> list[MarketBar]:
    """A stored day's minute bars as the exchange trades them; the bar at ``close`` is the closing auction."""
    bars = []
    for i in range(len(minute)):
        start = datetime.fromtimestamp(int(minute.ts[i]) / NS_PER_SECOND, KST)
        bars.append(market_bar(minute, i, start, limits, closing_auction=start >= close))
    return bars


@dataclass(frozen=True, slots=True)
class FillRules:
    """The configurable part of the fill model."""

    fill_at_close: bool = False
    slippage_ticks: int = 0


def _slipped(price: int, side: Side, ticks: int, grid: TickTable, limits: PriceLimits) -> int:
    if ticks == 0:
        return price
    try:
        moved = grid.step(price, ticks * side.sign)
    except DomainError:  # no tick below the lowest price
        moved = limits.lower
    return min(max(moved, limits.lower), limits.upper)


# order types priced by the market, not by a limit: they trade at the bar's open, and cross the closing
# auction with a conditional limit
_AT_THE_OPEN: Final = (OrderType.MARKET, OrderType.BEST, OrderType.PRIORITY)
_CROSS_THE_AUCTION: Final = (*_AT_THE_OPEN, OrderType.CONDITIONAL_LIMIT)


def fill_price(
    side: Side,
    order_type: OrderType,
    limit_price: int | None,
    bar: MarketBar,
    rules: FillRules,
    grid: TickTable,
) -> int | None:
    """The price a working order trades at on ``bar``, or None when it does not trade there; ``grid`` is
    the tick table of the stock on the bar's day (slippage moves along it)."""
    if (side is Side.BUY and bar.locked_up) or (side is Side.SELL and bar.locked_down):
        return None
    if bar.closing_auction:
        if order_type in _CROSS_THE_AUCTION:
            return bar.close
        assert limit_price is not None
        marketable = bar.close <= limit_price if side is Side.BUY else bar.close >= limit_price
        return bar.close if marketable else None
    if order_type in _AT_THE_OPEN:
        base = bar.close if rules.fill_at_close else bar.open
        ticks = rules.slippage_ticks if order_type is OrderType.MARKET else 0
        return _slipped(base, side, ticks, grid, bar.limits)
    assert limit_price is not None
    if side is Side.BUY:
        if bar.open <= limit_price:
            return bar.open
        return limit_price if bar.low < limit_price else None
    if bar.open >= limit_price:
        return bar.open
    return limit_price if bar.high > limit_price else None


def opening_price(
    side: Side,
    order_type: OrderType,
    limit_price: int | None,
    bar: MarketBar,
    rules: FillRules,
    grid: TickTable,
) -> int | None:
    """The price a working order trades at on ``bar`` when that price is known from the bar's open alone,
    else None: a market, best or priority order at the open, or a limit order the open reaches. Where this
    is not None ``fill_price`` gives the same price; it is None for what needs the rest of the bar (a limit
    reached later in the minute, ``fill_at = "next_close"``, the closing auction, an open at the day's limit
    that the bar may stay locked at)."""
    if bar.closing_auction or rules.fill_at_close:
        return None
    if bar.open == (bar.limits.upper if side is Side.BUY else bar.limits.lower):
        return None
    if order_type in _AT_THE_OPEN:
        ticks = rules.slippage_ticks if order_type is OrderType.MARKET else 0
        return _slipped(bar.open, side, ticks, grid, bar.limits)
    assert limit_price is not None
    reached = bar.open <= limit_price if side is Side.BUY else bar.open >= limit_price
    return bar.open if reached else None


pickle_by_fields(MarketBar, FillRules)  # see maemae.compiled
