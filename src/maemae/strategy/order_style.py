"""How a minute strategy prices its orders: a limit a few ticks through the last price, or a market order.

The built-in minute strategies share it, and a user strategy may too: subclass ``OrderStyleParams`` for the
params and call ``params.intent(...)`` to build the order.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.domain.intents import IntentSource, OrderIntent
from maemae.strategy.api import MinuteInput, StrategyParams


class OrderStyleParams(StrategyParams):
    order_type: OrderType = Field(OrderType.LIMIT, description="limit or market")
    limit_offset_ticks: int = Field(
        1, ge=0, le=10, description="ticks through the last price for limit orders"
    )

    @field_validator("order_type")
    @classmethod
    def _supported(cls, value: OrderType) -> OrderType:
        if value not in (OrderType.LIMIT, OrderType.MARKET):
            raise ValueError("expected 'limit' or 'market'")
        return value

    def intent(
        self,
        data: MinuteInput,
        side: Side,
        quantity: int | None,
        *,
        strategy: str,
        reason: str,
        signal: dict[str, float] | None = None,
    ) -> OrderIntent:
        """An order for ``data.code`` in this style; a limit ``limit_offset_ticks`` through the last price,
        so it is marketable now and still never fills at an unbounded price."""
        price = None
        if self.order_type is OrderType.LIMIT:
            price = data.price_ticks_away(self.limit_offset_ticks * side.sign)
        # every argument by position: the compiled intent, called from Python, finds each keyword by
        # building its name's string (about 3,500 instructions an intent); the defaults are written out
        return OrderIntent(
            data.code,
            side,
            quantity,
            self.order_type,
            price,
            OrderCondition.NONE,
            IntentSource.STRATEGY,
            strategy,
            reason,
            signal or {},
        )
