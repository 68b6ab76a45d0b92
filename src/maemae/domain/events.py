"""Domain events: what the order manager tells the portfolio, the state store and the alerts.

One stream of small, immutable facts means the store and the portfolio see exactly the same changes in the
same order in a backtest and live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from maemae.domain.codes import StockCode
from maemae.domain.fill import Fill
from maemae.domain.order_states import OrderEvent, OrderState


@dataclass(frozen=True, slots=True)
class OrderStateChanged:
    order_id: str
    code: StockCode
    old: OrderState
    new: OrderState
    event: OrderEvent
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class FillReceived:
    fill: Fill


DomainEvent = OrderStateChanged | FillReceived
