"""A fill: one execution of (part of) an order, as maemae records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from maemae.compiled import pickle_by_fields
from maemae.domain.clock_time import KST, require_kst
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.errors import DomainError


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``fill_id`` is unique per broker and day: the same fill seen twice (pushed, then found
    again by a query after a reconnect) is recognised and counted once. Costs are whole won."""

    fill_id: str
    order_id: str
    broker_order_no: str
    code: StockCode
    side: Side
    quantity: int
    price: int
    ts: datetime
    commission: int = 0
    tax: int = 0

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        fill_id: str,
        order_id: str,
        broker_order_no: str,
        code: StockCode,
        side: Side,
        quantity: int,
        price: int,
        ts: datetime,
        commission: int = 0,
        tax: int = 0,
    ) -> None:
        object.__setattr__(self, "fill_id", fill_id)
        object.__setattr__(self, "order_id", order_id)
        object.__setattr__(self, "broker_order_no", broker_order_no)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "price", price)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "commission", commission)
        object.__setattr__(self, "tax", tax)
        self.__post_init__()

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise DomainError(f"fill {self.fill_id}: quantity {self.quantity}, expected a positive number")
        if self.price <= 0:
            raise DomainError(f"fill {self.fill_id}: price {self.price}, expected a positive number of won")
        if self.commission < 0 or self.tax < 0:
            raise DomainError(f"fill {self.fill_id}: negative cost ({self.commission}, {self.tax})")
        if self.ts.tzinfo is not KST:  # the message is only built when it may be needed
            require_kst(self.ts, f"fill {self.fill_id} time")

    def facts(self) -> dict[str, str | int]:
        """The fill as plain JSON values (for the store and the audit log); the time is left to the caller."""
        return {
            "fill_id": self.fill_id,
            "order_id": self.order_id,
            "broker_order_no": self.broker_order_no,
            "code": str(self.code),
            "side": self.side.value,
            "quantity": self.quantity,
            "price": self.price,
            "commission": self.commission,
            "tax": self.tax,
        }

    @property
    def amount(self) -> int:
        """Price times quantity, before costs."""
        return self.price * self.quantity

    @property
    def costs(self) -> int:
        return self.commission + self.tax

    @property
    def cash_change(self) -> int:
        """What the fill does to cash: a buy pays amount + costs, a sell receives amount − costs."""
        return -self.amount - self.costs if self.side is Side.BUY else self.amount - self.costs


pickle_by_fields(Fill)  # see maemae.compiled
