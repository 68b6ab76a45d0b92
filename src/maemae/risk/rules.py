"""The risk gate's rules, one small function each: a ``Denial`` when the rule refuses, or None.

Rules are stateless: what they remember (last sell times, counters, take-profit marks, the day's halt) is
in ``RiskState``. Each is switched by its own config section; a switched-off rule never denies.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from maemae.config.risk import RiskConfig
from maemae.domain.intents import IntentSource, OrderIntent
from maemae.risk.context import GateContext
from maemae.risk.decision import Denial, DenyReason
from maemae.risk.state import RiskState, TradingState


class RuleSettings:
    """The risk config's values the rules read on the order path, as plain attributes of a compiled class.

    A config section is a pydantic model, and reading one of its fields goes through pydantic's
    ``__getattr__`` hook, several hundred instructions in the compiled build: a buy read some twenty of them,
    and judging an order cost 39 % less once they were plain attributes (callgrind, benchmark case (b)). Made
    again whenever the gate takes a config (sections are frozen)."""

    def __init__(self, config: RiskConfig) -> None:
        self.one_trade_a_day: bool = config.one_trade_a_day.enabled
        cooldown = config.cooldown
        self.cooldown: timedelta | None = timedelta(minutes=cooldown.minutes) if cooldown.enabled else None
        caps = config.daily_caps
        self.daily_caps: bool = caps.enabled
        self.max_trades_per_stock: int = caps.max_trades_per_stock
        self.max_trades_per_account: int = caps.max_trades_per_account
        rule = config.reentry
        self.reentry: bool = rule.enabled
        self.min_breakout_pct: Decimal | None = rule.min_breakout_pct
        self.min_volume_ratio: Decimal | None = rule.min_volume_ratio
        self.min_rise_above_exit_pct: Decimal | None = rule.min_rise_above_exit_pct
        self.take_profit: bool = config.take_profit.enabled
        self.rebuy_rise_pct: Decimal = config.take_profit.rebuy_rise_pct
        sizing = config.sizing
        self.sizing_method: str = sizing.method
        self.fixed_amount: int = sizing.fixed_amount
        self.pct_equity: Decimal = sizing.pct_equity
        self.max_positions: int = sizing.max_positions
        limits = config.order_limits
        self.max_quantity_per_order: int = limits.max_quantity_per_order
        self.max_amount_per_order: int = limits.max_amount_per_order
        self.max_amount_per_day: int = limits.max_amount_per_day
        self.max_orders_per_minute: int = limits.max_orders_per_minute
        self.strategy_change_policy: str = config.strategy_change.policy


def _at_least(value: int, base: int, pct: Decimal) -> bool:
    """value >= base × (1 + pct %), exactly."""
    return Fraction(value) >= Fraction(base) * (1 + Fraction(pct) / 100)


def operator_state(intent: OrderIntent, state: RiskState, is_buy: bool) -> Denial | None:
    if state.operator_state is TradingState.HALTED:
        return Denial(DenyReason.KILL_SWITCH, "the kill switch is on: no new orders")
    if is_buy and state.operator_state is TradingState.REDUCING:
        return Denial(DenyReason.REDUCING, "only orders that reduce positions are allowed")
    return None


def positive_quantity(intent: OrderIntent) -> Denial | None:
    """A quantity the strategy gives must be a share or more (None leaves a buy to the sizing): a sell of 0
    would otherwise sell the whole position, and one of -3 make an order that cannot exist."""
    if intent.quantity is not None and intent.quantity < 1:
        return Denial(DenyReason.QUANTITY_NOT_POSITIVE, f"quantity {intent.quantity:,}: must be positive")
    return None


def portfolio_halt(state: RiskState, ctx: GateContext) -> Denial | None:
    if state.is_halted(ctx.day):
        return Denial(
            DenyReason.HALTED_PORTFOLIO_STOP, f"portfolio stop tripped on {ctx.day}: no new entries"
        )
    return None


def one_trade_a_day(settings: RuleSettings, state: RiskState, intent: OrderIntent) -> Denial | None:
    if settings.one_trade_a_day and state.entries_today(intent.code) >= 1:
        return Denial(DenyReason.ONE_TRADE_A_DAY, f"{intent.code} was already bought today")
    return None


def cooldown(
    settings: RuleSettings, state: RiskState, intent: OrderIntent, ctx: GateContext
) -> Denial | None:
    if settings.cooldown is None:
        return None
    sold = state.last_sell_at.get(intent.code)
    until = sold + settings.cooldown if sold else None
    if until is not None and ctx.now < until:
        return Denial(
            DenyReason.COOLDOWN, f"sold at {sold:%H:%M:%S}; no re-buy before {until:%Y-%m-%d %H:%M:%S}"
        )
    return None


def daily_caps(settings: RuleSettings, state: RiskState, intent: OrderIntent) -> Denial | None:
    if not settings.daily_caps:
        return None
    if state.trades_today(intent.code) >= settings.max_trades_per_stock:
        return Denial(
            DenyReason.DAILY_CAP_STOCK, f"{state.trades_today(intent.code)} trades in {intent.code} today"
        )
    if state.trades_total >= settings.max_trades_per_account:
        return Denial(DenyReason.DAILY_CAP_ACCOUNT, f"{state.trades_total} trades in the account today")
    return None


def reentry(settings: RuleSettings, state: RiskState, intent: OrderIntent, ctx: GateContext) -> Denial | None:
    """A second or later entry today must pass every configured test of a stronger signal."""
    if not settings.reentry or state.entries_today(intent.code) == 0:
        return None
    breakout = settings.min_breakout_pct
    if breakout is not None and not _at_least(ctx.price, ctx.recent_high, breakout):
        return Denial(
            DenyReason.REENTRY_TOO_WEAK,
            f"price {ctx.price:,} not {breakout}% above {ctx.recent_high:,}",
        )
    if settings.min_volume_ratio is not None and Fraction(ctx.bar_volume) < Fraction(
        ctx.average_volume
    ) * Fraction(settings.min_volume_ratio):
        return Denial(
            DenyReason.REENTRY_TOO_WEAK,
            f"volume {ctx.bar_volume:,} below {settings.min_volume_ratio} x {ctx.average_volume:,}",
        )
    last_exit = state.last_exit_price.get(intent.code)
    if (
        settings.min_rise_above_exit_pct is not None
        and last_exit is not None
        and not _at_least(ctx.price, last_exit, settings.min_rise_above_exit_pct)
    ):
        return Denial(
            DenyReason.REENTRY_TOO_WEAK,
            f"price {ctx.price:,} not {settings.min_rise_above_exit_pct}% above exit {last_exit:,}",
        )
    return None


def rebuy_after_take_profit(
    settings: RuleSettings, state: RiskState, intent: OrderIntent, ctx: GateContext
) -> Denial | None:
    mark = state.take_profit.get(intent.code)
    if not settings.take_profit or mark is None:
        return None
    if not _at_least(ctx.price, mark.price, settings.rebuy_rise_pct):
        return Denial(
            DenyReason.REBUY_TOO_LOW,
            f"price {ctx.price:,} not {settings.rebuy_rise_pct}% above the mark {mark.price:,}",
        )
    return None


def max_positions(settings: RuleSettings, ctx: GateContext) -> Denial | None:
    if ctx.position is None and ctx.open_positions >= settings.max_positions:
        return Denial(
            DenyReason.MAX_POSITIONS,
            f"{ctx.open_positions} positions open (max {settings.max_positions})",
        )
    return None


def order_rate(settings: RuleSettings, state: RiskState, ctx: GateContext) -> Denial | None:
    sent = state.orders_in_window(ctx.now)
    if sent >= settings.max_orders_per_minute:
        return Denial(DenyReason.ORDER_RATE, f"{sent} orders in the last minute")
    return None


def price_checks(intent: OrderIntent, ctx: GateContext) -> Denial | None:
    price = intent.limit_price
    if price is None:
        return None
    if not ctx.grid.is_on_grid(price):
        return Denial(DenyReason.NOT_ON_TICK, f"limit {price:,} is not on the tick grid")
    if ctx.limits is not None and not ctx.limits.contains(price):
        return Denial(
            DenyReason.PRICE_OUTSIDE_LIMITS,
            f"limit {price:,} outside {ctx.limits.lower:,}..{ctx.limits.upper:,}",
        )
    return None


def strategy_change(settings: RuleSettings, intent: OrderIntent, ctx: GateContext) -> Denial | None:
    """A strategy's sell of a stock another strategy bought follows the configured policy (SPEC 3)."""
    if intent.source is not IntentSource.STRATEGY or ctx.position is None:
        return None
    if ctx.position.strategy in ("", intent.strategy):
        return None
    if settings.strategy_change_policy == "strategy_may_sell":
        return None
    return Denial(
        DenyReason.STRATEGY_CHANGE,
        f"{intent.code} was bought by {ctx.position.strategy}; policy {settings.strategy_change_policy}",
    )
