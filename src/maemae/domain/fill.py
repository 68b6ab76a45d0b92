"""A fill: one execution of (part of) an order, as maemae records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from maemae.domain.clock_time import require_kst
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

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise DomainError(f"fill {self.fill_id}: quantity {self.quantity}, expected a positive number")
        if self.price <= 0:
            raise DomainError(f"fill {self.fill_id}: price {self.price}, expected a positive number of won")
        if self.commission < 0 or self.tax < 0:
            raise DomainError(f"fill {self.fill_id}: negative cost ({self.commission}, {self.tax})")
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
