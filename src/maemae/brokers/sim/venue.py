"""``SimulatedVenue``: a simulated exchange as the replay driver sees it, in this process or in another.

Besides the broker port, a simulated exchange takes the market feed: the day's opening (base prices and so
the daily limits), each bar to trade the working orders on, and the close.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Protocol

from maemae.brokers.sim.matching import MarketBar
from maemae.domain.codes import StockCode
from maemae.krx.limits import PriceLimits
from maemae.ports.broker import Broker, BrokerOrder


class SimulatedVenue(Broker, Protocol):
    def start_day(self, day: date, base_prices: Mapping[StockCode, int]) -> None: ...

    def limits(self, code: StockCode) -> PriceLimits | None: ...

    def on_bar(self, code: StockCode, bar: MarketBar) -> None: ...

    def end_day(self) -> None: ...

    def all_orders(self) -> list[BrokerOrder]: ...
