"""``OrderIntent``: what a strategy or an exit rule wants, before the risk gate turns it into an ``Order``.

Strategies never create orders directly (DESIGN 1.4): they emit intents, the risk gate passes or denies each
one with a typed reason, and only the order manager makes an ``Order`` with an id. Keeping the intent a
separate value means a denied intent still leaves a record of what was wanted and why it was refused.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from enum import StrEnum

from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side


class IntentSource(StrEnum):
    """Who asked: the strategy's own signal, or a risk rule that runs whatever strategy holds the stock."""

    STRATEGY = "strategy"
    STOP_LOSS = "stop_loss"
    TRAILING_STOP = "trailing_stop"
    TAKE_PROFIT = "take_profit"
    TIME_CUT = "time_cut"
    PORTFOLIO_STOP = "portfolio_stop"
    SAFE_ASSET = "safe_asset"
    OPERATOR = "operator"


# the exit rules: they run whatever strategy holds the stock; alerts and reports list their orders apart
EXIT_SOURCES = frozenset(
    {IntentSource.STOP_LOSS, IntentSource.TRAILING_STOP, IntentSource.TIME_CUT, IntentSource.PORTFOLIO_STOP}
)


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """A wish to buy or sell one stock.

    ``quantity`` may be ``None`` for a buy: the risk gate's position sizing then decides it. ``limit_price``
    is required for limit and conditional-limit orders and must already be on a valid tick. ``signal`` holds
    the numbers the stricter re-entry rule judges, e.g. ``{"breakout_pct": 2.1, "volume_ratio": 3.0}``.
    """

    code: StockCode
    side: Side
    quantity: int | None = None
    order_type: OrderType = OrderType.LIMIT
    limit_price: int | None = None
    condition: OrderCondition = OrderCondition.NONE
    source: IntentSource = IntentSource.STRATEGY
    strategy: str = ""
    reason: str = ""
    signal: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """A strategy may hand over NumPy integers, a code as plain text or a side as ``"buy"``; the engine's
        compiled modules (`maemae.compiled`) take exactly ``int``, ``StockCode`` and the enums, so they are
        made so here, inside the strategy's own call: a value that cannot be is that strategy's error."""
        if type(self.code) is not StockCode:
            object.__setattr__(self, "code", StockCode(self.code))
        if type(self.side) is not Side:
            object.__setattr__(self, "side", Side(self.side))
        if type(self.order_type) is not OrderType:
            object.__setattr__(self, "order_type", OrderType(self.order_type))
        if self.quantity is not None and type(self.quantity) is not int:
            object.__setattr__(self, "quantity", operator.index(self.quantity))
        if self.limit_price is not None and type(self.limit_price) is not int:
            object.__setattr__(self, "limit_price", operator.index(self.limit_price))
