"""Settlement: KRX equities and ETFs settle two trading days after the trade (T+2); holidays do not count."""

from __future__ import annotations

from datetime import date

from maemae.krx.calendar import TradingCalendar

SETTLEMENT_DAYS = 2


def settlement_date(trade_date: date, calendar: TradingCalendar, days: int = SETTLEMENT_DAYS) -> date:
    """The day a trade on ``trade_date`` settles (the cash or shares actually move)."""
    return calendar.add_sessions(trade_date, days)
