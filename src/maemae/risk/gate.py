"""The risk gate: every intent passes here before it may become an order (DESIGN 1.4).

Checks run in a fixed, documented order (docs/risk.md) and the first refusal wins. Buys go through every
overtrading rule and are sized; sells that reduce a position maemae owns are only stopped by the kill switch,
the ownership rule, the strategy-change rule, the price checks and the order-rate limit, so a risk rule can
never trap a position. Every denial is logged with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from maemae.config.risk import RiskConfig
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import IntentSource, OrderIntent
from maemae.krx.limits import PriceLimits
from maemae.risk import rules
from maemae.risk.context import GateContext
from maemae.risk.decision import Denial, DenialRecord, DenyReason, RiskDecision
from maemae.risk.state import RiskState

Commission = Callable[[int], int]


class RiskGate:
    def __init__(self, config: RiskConfig, state: RiskState, commission: Commission) -> None:
        self.config = config
        self.state = state
        self.commission = commission
        self.denials: list[DenialRecord] = []

    @property
    def config(self) -> RiskConfig:
        return self._config

    @config.setter
    def config(self, config: RiskConfig) -> None:
        """Take new settings (``maemae params set`` swaps them while a live loop runs). What the rules read
        is kept as plain values (``rules.RuleSettings``), the book's size too: the kernel asks for it at every
        wake-up of a flat stock, and a pydantic field read costs far more than the comparison."""
        self._config = config
        self._settings = rules.RuleSettings(config)
        self.max_positions = self._settings.max_positions

    def wants_reentry_facts(self, intent: OrderIntent) -> bool:
        """Whether judging this buy reads the re-entry rule's facts (the recent high, the bar's volume and its
        average): only a second or later entry of the day, with the rule on. The kernel finds them with NumPy
        reductions over the day's bars, which cost more than the rest of a buy's context, so it skips them
        when nothing will read them."""
        return self._settings.reentry and self.state.entries_today(intent.code) > 0

    def evaluate(self, intent: OrderIntent, ctx: GateContext) -> RiskDecision:
        """Approve with the final quantity, or deny with a typed reason. An approval counts as a sent order,
        in the day's amount at ``decision.price`` a share until its order ends (``RiskState``)."""
        decision = self._buy(intent, ctx) if intent.side is Side.BUY else self._sell(intent, ctx)
        if decision.approved:
            decision.price = intent.limit_price or ctx.price
            self.state.note_order_sent(ctx.now, decision.price * decision.quantity)
        else:
            assert decision.reason is not None
            self.denials.append(
                DenialRecord(
                    ctx.now,
                    intent.code,
                    intent.side,
                    decision.reason,
                    decision.detail,
                    intent.source.value,
                    intent.strategy,
                )
            )
        return decision

    def _buy(self, intent: OrderIntent, ctx: GateContext) -> RiskDecision:
        settings, state = self._settings, self.state
        # each rule returns a Denial (truthy) or None; ``or`` stops at the first refusal, in the documented
        # order
        denial = (
            rules.positive_quantity(intent)
            or rules.operator_state(intent, state, is_buy=True)
            or rules.portfolio_halt(state, ctx)
        )
        if denial is None and intent.source is not IntentSource.SAFE_ASSET:  # the overtrading rules
            denial = (
                rules.one_trade_a_day(settings, state, intent)
                or rules.cooldown(settings, state, intent, ctx)
                or rules.daily_caps(settings, state, intent)
                or rules.reentry(settings, state, intent, ctx)
                or rules.rebuy_after_take_profit(settings, state, intent, ctx)
                or rules.max_positions(settings, ctx)
            )
        if denial is None:
            denial = rules.price_checks(intent, ctx) or rules.order_rate(settings, state, ctx)
        if denial is not None:
            return RiskDecision.deny(intent, denial)
        sized = self._size(intent, ctx)
        if isinstance(sized, Denial):
            return RiskDecision.deny(intent, sized)
        return RiskDecision.approve(intent, sized)

    def _size(self, intent: OrderIntent, ctx: GateContext) -> int | Denial:
        settings = self._settings
        price = intent.limit_price or ctx.price
        cash_price = price if intent.order_type is OrderType.LIMIT else _market_cash_price(price, ctx.limits)
        if price <= 0:
            return Denial(DenyReason.NO_PRICE, "no price to size the order with")
        if intent.quantity is not None:
            quantity = intent.quantity
            if quantity > settings.max_quantity_per_order:
                return Denial(
                    DenyReason.MAX_QUANTITY, f"{quantity:,} shares > {settings.max_quantity_per_order:,}"
                )
            if quantity * price > settings.max_amount_per_order:
                return Denial(
                    DenyReason.MAX_AMOUNT, f"{quantity * price:,} won > {settings.max_amount_per_order:,}"
                )
        else:
            quantity = min(
                self._target_amount(intent, ctx) // price,
                settings.max_quantity_per_order,
                settings.max_amount_per_order // price,
            )
        affordable = _affordable(ctx.orderable_cash, cash_price, self.commission)
        if quantity > affordable:
            if intent.quantity is not None or affordable == 0:
                return Denial(DenyReason.INSUFFICIENT_CASH, f"{ctx.orderable_cash:,} won orderable")
            quantity = affordable
        if quantity <= 0:
            return Denial(DenyReason.ZERO_QUANTITY, f"target amount buys no share at {price:,}")
        if self.state.amount_today + quantity * price > settings.max_amount_per_day:
            committed, amount = self.state.amount_today, quantity * price
            return Denial(
                DenyReason.MAX_DAILY_AMOUNT,
                f"{committed:,} won committed today (filled or working) + {amount:,} > "
                f"{settings.max_amount_per_day:,}",
            )
        return quantity

    def affords_a_market_share(self, cash: int, price: int, limits: PriceLimits | None) -> bool:
        """Whether ``cash`` buys one share at market at ``price`` and its commission, checked as the sizing
        checks a market buy."""
        return _affordable(cash, _market_cash_price(price, limits), self.commission) > 0

    def _target_amount(self, intent: OrderIntent, ctx: GateContext) -> int:
        settings = self._settings
        if intent.source is IntentSource.SAFE_ASSET:
            return ctx.orderable_cash
        if settings.sizing_method == "fixed_amount":
            return settings.fixed_amount
        if settings.sizing_method == "pct_equity":
            return int(ctx.equity * settings.pct_equity / Decimal(100))
        return ctx.equity // settings.max_positions

    def _sell(self, intent: OrderIntent, ctx: GateContext) -> RiskDecision:
        owned = ctx.position.quantity if ctx.position else 0
        denial = (
            rules.positive_quantity(intent)
            or rules.operator_state(intent, self.state, is_buy=False)
            or (Denial(DenyReason.NOT_OWNED, f"maemae owns no {intent.code}") if owned == 0 else None)
            or rules.strategy_change(self._settings, intent, ctx)
            or rules.price_checks(intent, ctx)
            or rules.order_rate(self._settings, self.state, ctx)
        )
        if denial is not None:
            return RiskDecision.deny(intent, denial)
        quantity = min(intent.quantity or owned, owned, self._settings.max_quantity_per_order)
        return RiskDecision.approve(intent, quantity, _clipped(intent.quantity, quantity, owned))


def _clipped(asked: int | None, quantity: int, owned: int) -> str:
    """What a sell's order says when it holds fewer shares than its intent asked for: the clipping is the
    gate's rule (docs/risk.md), but unsaid, a strategy's ``quantity * 10`` left no trace of the 50 asked."""
    if asked is None or asked <= quantity:
        return ""
    limit = f"the {owned:,} held" if quantity == owned else f"max_quantity_per_order {quantity:,}"
    return f"asked {asked:,}, clipped to {limit}"


def _market_cash_price(price: int, limits: PriceLimits | None) -> int:
    """The price a market buy's cash is checked at: brokers reserve it at the upper limit."""
    return max(limits.upper if limits else 0, price)


def _affordable(cash: int, price: int, commission: Commission) -> int:
    """The most shares at ``price`` whose cost and commission ``cash`` pays. Cash alone buys ``cash //
    price``; when the commission on those is more than the cash left, the count is scaled down at once by
    what the cash pays of their cost (counting down a share at a time took minutes for an account of a
    quadrillion won), then set to the exact one a share at a time: the commission grows with the amount, so
    the count that fits is a share or two off at most."""
    shares = cash // price
    cost = shares * price + commission(shares * price)
    if cost <= cash:
        return shares
    shares = shares * cash // cost
    while shares > 0 and shares * price + commission(shares * price) > cash:
        shares -= 1
    while (shares + 1) * price + commission((shares + 1) * price) <= cash:
        shares += 1
    return shares
