"""``OrderIntent``: what a strategy or an exit rule wants, before the risk gate turns it into an ``Order``.

Strategies never create orders directly (DESIGN 1.4): they emit intents, the risk gate passes or denies each
one with a typed reason, and only the order manager makes an ``Order`` with an id. Keeping the intent a
separate value means a denied intent still leaves a record of what was wanted and why it was refused.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, SupportsIndex

from maemae.compiled import pickle_by_fields
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.errors import DomainError


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
EXIT_SOURCES: Final = frozenset(
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
    quantity: int | None
    order_type: OrderType
    limit_price: int | None
    condition: OrderCondition
    source: IntentSource
    strategy: str
    reason: str
    signal: dict[str, float]

    # written out, as the other records mypyc compiles (architecture.md); it also makes the values exact
    def __init__(
        self,
        code: object,
        side: Side | str,
        quantity: SupportsIndex | None = None,
        order_type: OrderType | str = OrderType.LIMIT,
        limit_price: SupportsIndex | None = None,
        condition: OrderCondition | str = OrderCondition.NONE,
        source: IntentSource | str = IntentSource.STRATEGY,
        strategy: str = "",
        reason: str = "",
        signal: dict[str, float] | None = None,
    ) -> None:
        """A strategy may hand over NumPy integers, a code as plain text or a side as ``"buy"``; the engine's
        compiled modules (`maemae.compiled`) take exactly ``int``, ``StockCode`` and the enums, so they are
        made so here, inside the strategy's own call: a value that cannot be is that strategy's error (a float
        quantity or price is refused, even a whole one: a fraction of a share or a won is a bug)."""
        object.__setattr__(self, "code", code if type(code) is StockCode else StockCode(code))
        object.__setattr__(self, "side", side if type(side) is Side else Side(side))
        object.__setattr__(
            self, "quantity", None if quantity is None else _whole("quantity", quantity, "shares")
        )
        object.__setattr__(
            self, "order_type", order_type if type(order_type) is OrderType else OrderType(order_type)
        )
        object.__setattr__(
            self, "limit_price", None if limit_price is None else _whole("limit_price", limit_price, "won")
        )
        object.__setattr__(
            self, "condition", condition if type(condition) is OrderCondition else OrderCondition(condition)
        )
        object.__setattr__(self, "source", source if type(source) is IntentSource else IntentSource(source))
        object.__setattr__(self, "strategy", strategy)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "signal", {} if signal is None else signal)
        self._check_price()

    def _check_price(self) -> None:
        """A limit (or conditional-limit) intent names a positive price and a market one none: refused here,
        in the strategy's call, where it is that strategy's error. Let through, a priceless limit passed the
        gate and stopped the whole run where the order was made."""
        priced = self.order_type is OrderType.LIMIT or self.order_type is OrderType.CONDITIONAL_LIMIT
        if priced and (self.limit_price is None or self.limit_price <= 0):
            raise DomainError(
                f"intent {self.side.value} {self.code}: a {self.order_type.value} order needs a positive "
                f"limit_price, got {self.limit_price}"
            )
        if not priced and self.limit_price is not None:
            raise DomainError(
                f"intent {self.side.value} {self.code}: a {self.order_type.value} order takes no "
                f"limit_price, got {self.limit_price}"
            )


def _whole(field: str, value: SupportsIndex, unit: str) -> int:
    """``value`` as an ``int`` (a NumPy integer is one), or the strategy's error naming the field and the
    value: ``operator.index``'s own ``'float' object cannot be interpreted as an integer`` named neither.
    An ``int`` returns at once, as nearly every intent's does."""
    if type(value) is int:
        return value
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{field} {value!r} ({type(value).__name__}): expected a whole number of {unit}"
        ) from None


pickle_by_fields(OrderIntent)  # see maemae.compiled
