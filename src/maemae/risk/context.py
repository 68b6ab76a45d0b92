"""What the risk gate needs to know about the moment of a decision; the engine fills it in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from maemae.compiled import pickle_by_fields
from maemae.krx.limits import PriceLimits
from maemae.krx.ticks import TickTable


@dataclass(slots=True)
class HeldPosition:
    """The position in the intent's stock, as maemae owns it: what the rules judge by (its size for a sell,
    the strategy that bought it for the strategy-change rule)."""

    quantity: int
    strategy: str

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, quantity: int, strategy: str) -> None:
        self.quantity, self.strategy = quantity, strategy


@dataclass(slots=True)
class GateContext:
    """The facts one decision is made on.

    ``price`` is the last trade price (the reference for sizing and market orders), ``recent_high`` the
    highest price of the re-entry rule's lookback, and ``bar_volume`` / ``average_volume`` its volume test.
    Those three, ``equity`` (sizing) and ``open_positions`` (the max-positions rule) are facts about buys:
    the kernel gathers them for a buy only and leaves them 0 for a sell.
    """

    now: datetime
    day: date
    price: int
    limits: PriceLimits | None
    grid: TickTable  # the stock's tick table today
    orderable_cash: int
    equity: int
    open_positions: int
    position: HeldPosition | None
    recent_high: int = 0
    bar_volume: int = 0
    average_volume: int = 0

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        now: datetime,
        day: date,
        price: int,
        limits: PriceLimits | None,
        grid: TickTable,
        orderable_cash: int,
        equity: int,
        open_positions: int,
        position: HeldPosition | None,
        recent_high: int = 0,
        bar_volume: int = 0,
        average_volume: int = 0,
    ) -> None:
        self.now, self.day, self.price, self.limits = now, day, price, limits
        self.grid, self.orderable_cash, self.equity = grid, orderable_cash, equity
        self.open_positions, self.position, self.recent_high = open_positions, position, recent_high
        self.bar_volume, self.average_volume = bar_volume, average_volume


pickle_by_fields(HeldPosition, GateContext)  # see maemae.compiled
