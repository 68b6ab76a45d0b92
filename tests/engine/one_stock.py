"""A simulated exchange open on one day for one stock, for tests that drive the order path by hand (the
order manager over a wrapped broker: the first order's confirmation, the instance-lock guard)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from maemae.brokers.sim.exchange import SimExchange
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.krx.calendar import default_calendar
from maemae.krx.costs import CostModel

NOW = datetime(2025, 12, 3, 9, 30, tzinfo=KST)
CODE = StockCode("005930")


def one_stock_exchange() -> SimExchange:
    """The exchange at ``NOW`` (clock frozen there), trading ``CODE`` from a base price of 70,000 won."""
    exchange = SimExchange(
        clock=lambda: NOW,
        calendar=default_calendar(),
        costs=CostModel(Decimal("0.00015")),
        instruments={},
        initial_cash=10_000_000,
    )
    exchange.start_day(NOW.date(), {CODE: 70_000})
    return exchange
