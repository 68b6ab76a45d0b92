"""``FakeCreonVenue``: the Creon adapter over the fake COM layer, plus the fake's market feed, as a simulated
venue, so a replayed paper day trades through the Creon adapter (``maemae paper --broker creon-fake``).

The adapter code is the one that runs on Windows; only the COM runtime under it is the fake. The replay
driver feeds each bar to the fake's exchange, and the venue pumps the COM messages right after, so the fill
events are received (and dated) when the bar trades, as a live session receives Creon's events as they
happen; the engine takes them at its next poll.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Self

from maemae.brokers.creon.adapter import CreonBroker
from maemae.brokers.creon.fake.objects import FakeRuntime
from maemae.brokers.creon.fake.world import FakeCreon
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.matching import MarketBar
from maemae.config.broker import CreonBrokerConfig
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.krx.limits import PriceLimits
from maemae.ports.broker import BrokerOrder


class FakeCreonVenue(CreonBroker):
    def __init__(
        self,
        world: FakeCreon,
        *,
        clock: Callable[[], datetime],
        history: BarStore | None = None,
        config: CreonBrokerConfig | None = None,
        trade_codes: Sequence[str] = (),
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.world = world
        self.fake_runtime = FakeRuntime(world, history)
        world.market_clock = clock
        super().__init__(
            self.fake_runtime,
            clock=clock,
            config=config,
            trade_codes=trade_codes,
            sleep=sleep or world.wait,  # waiting for Creon's request budget moves the fake's time
        )

    @classmethod
    def over_exchange(
        cls,
        make_exchange: Callable[[Callable[[], datetime]], SimExchange],
        *,
        clock: Callable[[], datetime],
        history: BarStore | None = None,
        trade_codes: Sequence[str] = (),
    ) -> Self:
        return cls(FakeCreon(make_exchange), clock=clock, history=history, trade_codes=trade_codes)

    # ----- the replay feed
    def start_day(self, day: date, base_prices: Mapping[StockCode, int]) -> None:
        self.world.start_day(day, base_prices, self._clock())

    def limits(self, code: StockCode) -> PriceLimits | None:
        return self.world.exchange.limits(code)

    def on_bar(self, code: StockCode, bar: MarketBar) -> None:
        self.world.on_bar(code, bar, self._clock())
        self.runtime.pump()  # the bar's events are received as they happen, as a live session receives them

    def end_day(self) -> None:
        self.world.end_day(self._clock())
        self.request_sync()

    def all_orders(self) -> list[BrokerOrder]:
        self.world.advance(self._clock())
        return self.day_orders()

    def external_trade(self, code: StockCode, side: Side, quantity: int, price: int) -> str:
        """A trade made in the HTS, outside maemae (fault injection for paper runs and tests)."""
        return str(self.world.external_trade(code, side, quantity, price, self._clock()))
