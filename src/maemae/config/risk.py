"""Risk config: every rule of the risk gate (DESIGN 1.4), each with its own switch.

The overtrading policies the compare command runs (none, one trade a day, cooldown, cooldown + stricter
re-entry, + daily caps, + partial take-profit) are combinations of the switches below. Percentages are
``Decimal`` per cent (``3`` means 3 %) with at most four decimal places, amounts whole won, durations
minutes or days.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from maemae.config.base import Section

# At most four decimals: an exit level is price x (1 - pct / 100) worked out exactly in 64-bit integers by
# the backtest's compiled scan (risk/exit_scan.py), and a ratio with more digits could overflow them there
# while the live check, in Python integers, fired (3.00000000000001 % did).
Percent = Annotated[Decimal, Field(decimal_places=4)]


class CooldownConfig(Section):
    enabled: bool = False
    minutes: int = Field(30, ge=1, le=24 * 60, description="no re-buy of a stock this long after selling it")


class ReentryConfig(Section):
    """A second or later buy of a stock on the same day needs a stronger signal (any enabled test)."""

    enabled: bool = False
    min_breakout_pct: Percent | None = Field(
        Decimal(1), ge=0, description="price above the recent high by at least this, or None"
    )
    min_volume_ratio: Decimal | None = Field(
        Decimal(2), gt=0, description="bar volume at least this × the average, or None"
    )
    min_rise_above_exit_pct: Percent | None = Field(
        Decimal(2), ge=0, description="price at least this above the last exit price, or None"
    )


class DailyCapsConfig(Section):
    enabled: bool = False
    max_trades_per_stock: int = Field(
        2,
        ge=1,
        description="no new buy in a stock once its executed orders today (buys and sells) reach this; "
        "sells are never capped",
    )
    max_trades_per_account: int = Field(
        20,
        ge=1,
        description="no new buy once the account's executed orders today (buys and sells) reach this; "
        "sells are never capped",
    )


class OneTradeADayConfig(Section):
    enabled: bool = False


class TakeProfitConfig(Section):
    enabled: bool = False
    trigger_pct: Percent = Field(Decimal(5), gt=0, description="gain over the average cost that triggers it")
    sell_fraction_pct: Percent = Field(Decimal(50), gt=0, le=100, description="share of the position sold")
    rebuy_rise_pct: Percent = Field(
        Decimal(2), ge=0, description="a re-buy needs the price this far above the take-profit price"
    )


class StopLossConfig(Section):
    enabled: bool = True
    pct: Percent = Field(Decimal(5), gt=0, lt=100, description="loss below the average cost that sells all")


class TrailingStopConfig(Section):
    enabled: bool = False
    pct: Percent = Field(
        Decimal(3), gt=0, lt=100, description="fall from the high since entry that sells all"
    )


class PortfolioStopConfig(Section):
    enabled: bool = True
    day_loss_pct: Percent = Field(
        Decimal(3), gt=0, lt=100, description="equity loss today that halts entries"
    )
    liquidate: bool = Field(False, description="also sell every owned position when it trips")


class TimeCutConfig(Section):
    enabled: bool = False
    on_date: date | None = Field(None, description="sell everything at this day's open")
    max_days_held: int | None = Field(
        None, ge=1, description="sell at the open after holding this many sessions"
    )

    @model_validator(mode="after")
    def _needs_a_trigger(self) -> TimeCutConfig:
        if self.enabled and self.on_date is None and self.max_days_held is None:
            raise ValueError("time_cut is enabled but neither on_date nor max_days_held is set")
        return self


class OrderLimitsConfig(Section):
    max_quantity_per_order: int = Field(10_000, ge=1)
    max_amount_per_order: int = Field(10_000_000, ge=1, description="won")
    max_amount_per_day: int = Field(
        1_000_000_000, ge=1, description="won committed per trading day: orders filled or still working"
    )
    max_orders_per_minute: int = Field(30, ge=1, description="orders sent in any 60-second window")


class SizingConfig(Section):
    method: Literal["equal_weight", "fixed_amount", "pct_equity"] = "equal_weight"
    fixed_amount: int = Field(1_000_000, ge=1, description="won per buy for method = fixed_amount")
    pct_equity: Percent = Field(Decimal(10), gt=0, le=100, description="per buy for method = pct_equity")
    max_positions: int = Field(
        10, ge=1, le=100, description="open positions at most; equal_weight divides by it"
    )


class StrategyChangeConfig(Section):
    """What may happen to a held stock that the current strategy did not buy."""

    policy: Literal["strategy_may_sell", "exits_only"] = Field(
        "exits_only",
        description=(
            "exits_only: the current strategy's orders for it are refused, only the exit rules (stop loss, "
            "trailing stop, portfolio stop, time-cut) sell it; strategy_may_sell: the current strategy's "
            "orders apply to it too. The exit rules apply in both (SPEC 3)"
        ),
    )


class RiskConfig(Section):
    cooldown: CooldownConfig = CooldownConfig()
    reentry: ReentryConfig = ReentryConfig()
    daily_caps: DailyCapsConfig = DailyCapsConfig()
    one_trade_a_day: OneTradeADayConfig = OneTradeADayConfig()
    take_profit: TakeProfitConfig = TakeProfitConfig()
    stop_loss: StopLossConfig = StopLossConfig()
    trailing_stop: TrailingStopConfig = TrailingStopConfig()
    portfolio_stop: PortfolioStopConfig = PortfolioStopConfig()
    time_cut: TimeCutConfig = TimeCutConfig()
    order_limits: OrderLimitsConfig = OrderLimitsConfig()
    sizing: SizingConfig = SizingConfig()
    strategy_change: StrategyChangeConfig = StrategyChangeConfig()
