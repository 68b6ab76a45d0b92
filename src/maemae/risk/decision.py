"""What the risk gate answers: an approval with the final quantity, or a denial with a typed reason.

A denial is a value, not an exception, because a denied intent is a normal outcome of the trading loop (the
cooldown is doing its job) and every one of them is counted in the backtest report by its reason. Code that
must stop on a denial (the operator's manual order, say) raises ``RiskDenied`` from the decision itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from maemae.compiled import pickle_by_fields
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.intents import OrderIntent
from maemae.errors import RiskDenied


class DenyReason(StrEnum):
    """Why the gate refused an intent. The value is what logs, the audit trail and reports show."""

    KILL_SWITCH = "kill_switch"  # the operator stopped all new orders
    HALTED_PORTFOLIO_STOP = (
        "halted_portfolio_stop"  # the day's loss tripped the portfolio stop: no new entries
    )
    REDUCING = "reducing"  # the operator allowed only orders that reduce positions
    STRATEGY_CHANGE = "strategy_change"  # the strategy may not sell a position another strategy opened
    NOT_OWNED = "not_owned"  # a sell of shares maemae does not own (external holdings are never sold)
    ZERO_QUANTITY = "zero_quantity"  # nothing left to order after sizing or clipping
    QUANTITY_NOT_POSITIVE = "quantity_not_positive"  # the intent asked for 0 shares or fewer
    NO_PRICE = "no_price"  # no limit price and no reference price to value the order with
    COOLDOWN = "cooldown"
    ONE_TRADE_A_DAY = "one_trade_a_day"
    DAILY_CAP_STOCK = "daily_cap_stock"
    DAILY_CAP_ACCOUNT = "daily_cap_account"
    REENTRY_TOO_WEAK = "reentry_too_weak"
    REBUY_TOO_LOW = "rebuy_too_low"  # after a partial take-profit, a re-buy needs a further rise
    MAX_POSITIONS = "max_positions"
    PRICE_OUTSIDE_LIMITS = "price_outside_limits"
    NOT_ON_TICK = "not_on_tick"
    MAX_QUANTITY = "max_quantity"
    MAX_AMOUNT = "max_amount"
    MAX_DAILY_AMOUNT = "max_daily_amount"
    ORDER_RATE = "order_rate"
    INSUFFICIENT_CASH = "insufficient_cash"


@dataclass(slots=True)
class Denial:
    """One rule's refusal: the typed reason and one line with the numbers that decided it."""

    reason: DenyReason
    detail: str


@dataclass(slots=True)
class RiskDecision:
    """The gate's answer for one intent.

    ``quantity`` is the number of shares to order when approved: the intent's own quantity, the sized one for
    a buy without a quantity, or a sell clipped to what maemae owns. It is 0 on a denial. ``price`` is the
    price a share the gate counted an approval at in the day's amount (set by ``RiskGate.evaluate``), so the
    shares the order does not fill can be taken back at it.
    """

    approved: bool
    intent: OrderIntent
    quantity: int
    reason: DenyReason | None = None
    detail: str = ""
    price: int = 0

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        approved: bool,
        intent: OrderIntent,
        quantity: int,
        reason: DenyReason | None = None,
        detail: str = "",
        price: int = 0,
    ) -> None:
        self.approved, self.intent, self.quantity = approved, intent, quantity
        self.reason, self.detail, self.price = reason, detail, price

    @staticmethod
    def approve(intent: OrderIntent, quantity: int, detail: str = "") -> RiskDecision:
        return RiskDecision(True, intent, quantity, None, detail)  # positional: a direct call compiled

    @staticmethod
    def deny(intent: OrderIntent, denial: Denial) -> RiskDecision:
        return RiskDecision(False, intent, 0, denial.reason, denial.detail)

    def raise_if_denied(self) -> None:
        """For callers that cannot go on without the order (an operator's manual order)."""
        if not self.approved:
            raise RiskDenied(f"{self.intent.side} {self.intent.code} denied ({self.reason}): {self.detail}")


@dataclass(slots=True)
class DenialRecord:
    """One line of the gate's denial log: when, which stock and side, why. Reports count these by reason."""

    ts: datetime
    code: StockCode
    side: Side
    reason: DenyReason
    detail: str
    source: str
    strategy: str


pickle_by_fields(RiskDecision)  # see maemae.compiled
