"""``FedExchange``: the simulated exchange behind a broker's stand-in (the local KIS server, the fake Creon),
moved by a replay feed.

It keeps what a broker's server knows of the day besides the order book: the base prices and the minute bars
so far per code (for quotes, charts and real-time trades). A subclass tells its clients about each new bar
(``publish_bar``) and turns the exchange's fills and cancellations into its own notices (``drain``), which
run after every feed call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date, datetime

from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.matching import MarketBar
from maemae.brokers.sim.remote import ExchangeHost
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side


class FedExchange:
    def __init__(self, make_exchange: Callable[[Callable[[], datetime]], SimExchange]) -> None:
        self.host = ExchangeHost(make_exchange)
        self.minutes: dict[StockCode, list[MarketBar]] = defaultdict(list)
        self.base_prices: dict[StockCode, int] = {}

    @property
    def exchange(self) -> SimExchange:
        return self.host.exchange

    def advance(self, now: datetime) -> None:
        """Move the market clock (it never goes back)."""
        self.host.advance(now)

    def start_day(self, day: date, base_prices: Mapping[StockCode, int], now: datetime) -> None:
        if self.host.day != day:
            self.minutes.clear()
            self.base_prices = dict(base_prices)
        self.host.handle("start_day", (day, dict(base_prices)), now)
        self.drain()

    def open_bar(self, code: StockCode, bar: MarketBar, now: datetime) -> None:
        """The bar's first print (``SimExchange.open_bar``): nothing is published before the bar ends."""
        self.host.handle("open_bar", (code, bar), now)
        self.drain()

    def on_bar(self, code: StockCode, bar: MarketBar, now: datetime) -> None:
        known = self.minutes[code]
        if not known or known[-1].start < bar.start:  # a bar fed twice is published once
            known.append(bar)
            self.publish_bar(code, bar)
        self.host.handle("on_bar", (code, bar), now)
        self.drain()

    def end_day(self, now: datetime) -> None:
        self.host.handle("end_day", (), now)
        self.drain()

    def place_external_trade(
        self, code: StockCode, side: Side, quantity: int, price: int, now: datetime
    ) -> str:
        """A trade in the account made outside maemae; returns the exchange's order number."""
        number = self.host.handle("external_trade", (code, side, quantity, price), now)
        self.drain()
        return str(number)

    def publish_bar(self, code: StockCode, bar: MarketBar) -> None:
        """Tell the clients about a new bar (real-time trades)."""

    def drain(self) -> None:
        """Turn the exchange's events into the broker's notices."""
