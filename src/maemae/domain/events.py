"""Domain events: what the order manager tells the portfolio, the state store and the alerts.

One stream of small, immutable facts means the store and the portfolio see exactly the same changes in the
same order in a backtest and live. They are named tuples: immutable like a frozen dataclass, and about three
times faster to build (0.18 against 0.54 µs for seven fields), which counts at four or five events an order.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from maemae.domain.codes import StockCode
from maemae.domain.fill import Fill
from maemae.domain.order_states import OrderEvent, OrderState


class OrderStateChanged(NamedTuple):
    order_id: str
    code: StockCode
    old: OrderState
    new: OrderState
    event: OrderEvent
    at: datetime
    note: str = ""


class FillReceived(NamedTuple):
    fill: Fill


DomainEvent = OrderStateChanged | FillReceived
