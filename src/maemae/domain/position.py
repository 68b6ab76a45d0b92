"""A position in one stock: what maemae owns and what the account holds, with exact cost and realised P&L.

Two quantities, because the account may hold shares maemae did not buy (a trade in the broker's app, a stock
dividend): ``owned_quantity`` is what maemae's own fills bought and is the most it will ever sell;
``account_quantity`` is what the broker reports. Reconciliation sets the latter and flags the difference.

Cost convention: the cost basis is what the shares cost in cash, buy commission included. A sale realises
``proceeds − sell commission − tax − cost basis of the shares sold``, the sold shares' basis being their
proportional share (floored; the last share sold carries the rest). Over a position's whole life the realised
P&L therefore equals the cash it made or lost, to the won.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from maemae.compiled import pickle_by_fields
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.fill import Fill
from maemae.errors import DomainError


@dataclass(slots=True)
class Position:
    code: StockCode
    owned_quantity: int = 0
    account_quantity: int = 0
    cost_basis: int = 0
    realised_pnl: int = 0
    opened_at: datetime | None = None
    strategy: str = ""

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        code: StockCode,
        owned_quantity: int = 0,
        account_quantity: int = 0,
        cost_basis: int = 0,
        realised_pnl: int = 0,
        opened_at: datetime | None = None,
        strategy: str = "",
    ) -> None:
        self.code, self.owned_quantity, self.account_quantity = code, owned_quantity, account_quantity
        self.cost_basis, self.realised_pnl = cost_basis, realised_pnl
        self.opened_at, self.strategy = opened_at, strategy

    @property
    def average_cost(self) -> Decimal | None:
        """Cost per owned share, buy commission included; None when flat."""
        if self.owned_quantity == 0:
            return None
        return Decimal(self.cost_basis) / Decimal(self.owned_quantity)

    @property
    def external_quantity(self) -> int:
        """Shares the account holds beyond maemae's own; negative when it holds fewer than maemae owns."""
        return self.account_quantity - self.owned_quantity

    @property
    def is_flat(self) -> bool:
        return self.owned_quantity == 0

    def apply_fill(self, fill: Fill, strategy: str = "") -> int:
        """Book one of maemae's own fills; returns the P&L it realised (0 for a buy)."""
        if fill.code != self.code:
            raise DomainError(f"position {self.code}: fill {fill.fill_id} is for {fill.code}")
        if fill.side is Side.BUY:
            if self.owned_quantity == 0:
                self.opened_at = fill.ts
                self.strategy = strategy
            self.owned_quantity += fill.quantity
            self.account_quantity += fill.quantity
            self.cost_basis += fill.amount + fill.commission
            return 0
        if fill.quantity > self.owned_quantity:
            return self._sell_beyond_owned(fill)
        if fill.quantity == self.owned_quantity:
            sold_basis = self.cost_basis
        else:
            sold_basis = self.cost_basis * fill.quantity // self.owned_quantity
        realised = fill.amount - fill.commission - fill.tax - sold_basis
        self.owned_quantity -= fill.quantity
        self.account_quantity -= fill.quantity
        self.cost_basis -= sold_basis
        self.realised_pnl += realised
        if self.owned_quantity == 0:
            self.opened_at = None
        return realised

    def _sell_beyond_owned(self, fill: Fill) -> int:
        """A sell of maemae's that filled more shares than maemae owns. The gate never sends one, so it
        follows only a reconciliation that cut what maemae owns (a broker whose balance lagged its fills).
        The fill is a fact and is booked, never refused: refusing it would stop every restart at the same
        fill. maemae's P&L takes the owned shares' part of the net proceeds; the shares beyond leave as
        external ones would (the next reconciliation sets the account quantity from the broker)."""
        net = fill.amount - fill.commission - fill.tax
        realised = net * self.owned_quantity // fill.quantity - self.cost_basis
        self.account_quantity = max(self.account_quantity - fill.quantity, 0)
        self.owned_quantity = self.cost_basis = 0
        self.opened_at = None
        self.realised_pnl += realised
        return realised

    def set_account_quantity(self, quantity: int) -> None:
        """What the broker says the account holds (reconciliation); never changes what maemae owns."""
        if quantity < 0:
            raise DomainError(f"position {self.code}: account quantity {quantity}, expected 0 or more")
        self.account_quantity = quantity

    def cap_owned(self, quantity: int) -> int:
        """Reconciliation found the account holding fewer shares than maemae owns (sold outside maemae):
        maemae owns at most what exists. The cost basis shrinks in proportion; returns the shares written off.
        """
        if quantity < 0:
            raise DomainError(f"position {self.code}: cap {quantity}, expected 0 or more")
        removed = max(self.owned_quantity - quantity, 0)
        if removed:
            self.cost_basis = self.cost_basis * quantity // self.owned_quantity if quantity else 0
            self.owned_quantity = quantity
            if quantity == 0:
                self.opened_at = None
        return removed

    def market_value(self, price: int) -> int:
        """Value of the owned shares at ``price``."""
        return self.owned_quantity * price


pickle_by_fields(Position)  # see maemae.compiled
