"""Cash in the account, with T+2 settlement and reservations for open buy orders.

KRX trades settle two sessions later (the date comes from ``maemae.krx.settlement``; the domain does not know
the calendar, so callers pass it in). Korean brokers let a trader spend unsettled sale proceeds on new buys at
once but withdraw them only after settlement, so there are three views of cash:

* ``cash``: the balance after every trade so far, settled or not (what equity counts);
* ``settled_cash``: the deposit that has actually moved (withdrawable);
* ``orderable_cash``: ``cash`` minus what open buy orders have reserved, so two orders
  cannot spend the same won.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from maemae.compiled import pickle_by_fields
from maemae.domain.enums import Side
from maemae.domain.fill import Fill
from maemae.errors import DomainError


@dataclass(frozen=True, slots=True)
class PendingSettlement:
    """Cash that moves on ``settles_on``: positive for sale proceeds, negative for a buy's payment (one a fill
    in maemae's book and one in the simulated broker's). A compiled record: a named tuple was built through
    its ``__new__`` in Python, two fifths of what booking a fill cost in the compiled build."""

    settles_on: date
    amount: int

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(self, settles_on: date, amount: int) -> None:
        object.__setattr__(self, "settles_on", settles_on)
        object.__setattr__(self, "amount", amount)


@dataclass(slots=True)
class Account:
    settled_cash: int
    pending: list[PendingSettlement] = field(default_factory=list)
    reserved: dict[str, int] = field(default_factory=dict)
    _pending_total: int = field(default=0, init=False, repr=False)  # sum of ``pending``, kept in step

    def __post_init__(self) -> None:
        if self.settled_cash < 0:
            raise DomainError(f"account: settled cash {self.settled_cash}, expected 0 or more")
        self._pending_total = sum(item.amount for item in self.pending)

    @property
    def cash(self) -> int:
        return self.settled_cash + self._pending_total

    @property
    def orderable_cash(self) -> int:
        return self.cash - sum(self.reserved.values()) if self.reserved else self.cash

    def reserve(self, order_id: str, amount: int) -> None:
        """Set aside cash for an open buy order (its price × quantity plus commission)."""
        if amount < 0:
            raise DomainError(f"account: reservation {amount} for order {order_id}, expected 0 or more")
        if amount > self.orderable_cash + self.reserved.get(order_id, 0):
            raise DomainError(
                f"account: order {order_id} needs {amount} won, only {self.orderable_cash} won is orderable"
            )
        self.reserved[order_id] = amount

    def release(self, order_id: str) -> int:
        """Free an order's reservation (it filled, or was cancelled); returns what was freed."""
        return self.reserved.pop(order_id, 0)

    def apply_fill(self, fill: Fill, settles_on: date) -> None:
        """Book a fill's cash change to settle on ``settles_on``.

        A buy's reservation shrinks by what the fill used, so the rest of the order stays covered.
        """
        change = fill.cash_change
        if fill.side is Side.BUY and fill.order_id in self.reserved:
            self.reserved[fill.order_id] = max(self.reserved[fill.order_id] + change, 0)
        self.pending.append(PendingSettlement(settles_on, change))
        self._pending_total += change

    def settle(self, up_to: date) -> int:
        """Move every pending amount due on or before ``up_to`` into settled cash; returns the net moved."""
        due = [item for item in self.pending if item.settles_on <= up_to]
        moved = sum(item.amount for item in due)
        self.pending = [item for item in self.pending if item.settles_on > up_to]
        self._pending_total -= moved
        self.settled_cash += moved
        return moved

    def set_settled_cash(self, amount: int) -> None:
        """The broker's deposit figure (reconciliation)."""
        self.settled_cash = amount


pickle_by_fields(PendingSettlement)  # see maemae.compiled
