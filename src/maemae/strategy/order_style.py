"""How a minute strategy prices its orders: a limit a few ticks through the last price, or a market order.

The built-in minute strategies share it, and a user strategy may too: subclass ``OrderStyleParams`` for the
params and call ``params.intent(...)`` to build the order.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.strategy.api import MinuteInput, StrategyParams
from maemae.strategy.timing import styled_intent


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
        so it is marketable now and still never fills at an unbounded price. Built by the compiled
        ``styled_intent``, which ``RSIMinute`` calls with these two settings read once."""
        return styled_intent(
            data, side, quantity, self.order_type, self.limit_offset_ticks, strategy, reason, signal
        )
