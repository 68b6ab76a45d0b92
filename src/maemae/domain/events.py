"""Domain events: what the order manager tells the portfolio, the state store and the alerts.

One stream of small, immutable facts means the store and the portfolio see exactly the same changes in the
same order in a backtest and live. They are frozen dataclasses compiled with the engine (`maemae.compiled`),
with their constructors written out: an order makes four or five of them, and the order manager builds them
natively, where a named tuple's constructor ran as Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from maemae.compiled import pickle_by_fields
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

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        order_id: str,
        code: StockCode,
        old: OrderState,
        new: OrderState,
        event: OrderEvent,
        at: datetime,
        note: str = "",
    ) -> None:
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "old", old)
        object.__setattr__(self, "new", new)
        object.__setattr__(self, "event", event)
        object.__setattr__(self, "at", at)
        object.__setattr__(self, "note", note)


@dataclass(frozen=True, slots=True)
class FillReceived:
    fill: Fill

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, fill: Fill) -> None:
        object.__setattr__(self, "fill", fill)


DomainEvent = OrderStateChanged | FillReceived

pickle_by_fields(OrderStateChanged, FillReceived)  # see maemae.compiled
