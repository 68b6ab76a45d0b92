"""``FollowDaily``: the minute strategy that adds no timing of its own.

It buys a stock it does not hold when the daily signal is BUY and sells a held one when it turns SELL, at the
first bar it is woken for. With ``backtest.bars = "day"`` (daily bars alone) that is the only sensible minute
strategy: a session has one decision point, after the opening print. On minute bars it trades the daily
strategy's signals straight, which is the baseline RSI timing is measured against.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from maemae.data.bars import BarArrays
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.strategy.api import Int8Array, MinuteInput, MinuteStrategy, Signal, WakeBars
from maemae.strategy.order_style import OrderStyleParams


class FollowDailyParams(OrderStyleParams):
    order_type: OrderType = Field(OrderType.MARKET, description="market or limit")


class FollowDaily(MinuteStrategy):
    name: ClassVar[str] = "follow_daily"
    Params: ClassVar[type[FollowDailyParams]] = FollowDailyParams

    def __init__(self, params: FollowDailyParams) -> None:
        super().__init__(params)
        self.p = params

    def on_bar(self, data: MinuteInput) -> OrderIntent | None:
        reason = f"daily signal {data.daily_signal.name}"
        if data.position is None and data.daily_signal is Signal.BUY:
            return self.p.intent(data, Side.BUY, None, strategy=self.name, reason=reason)
        if data.position is not None and data.daily_signal is Signal.SELL:
            return self.p.intent(data, Side.SELL, data.position.quantity, strategy=self.name, reason=reason)
        return None

    def wake_bars(self, bars: BarArrays, today_start: int, daily_signals: Int8Array) -> WakeBars:
        del bars, today_start
        return WakeBars(flat=daily_signals == Signal.BUY, held=daily_signals == Signal.SELL)
