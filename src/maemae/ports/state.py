"""The state-store port: what the engine saves before it acts, and what it loads when it starts again.

DESIGN 1.6: every order, fill, position, lock, counter and parameter change is written before the next action
depends on it. The engine describes each change as one :class:`StateChange` and the store writes it in **one
transaction**, so a crash leaves either all of a change or none of it: a fill is never stored without the
position and cash it moved, and an order is never sent before its SUBMITTED row exists.

The adapter in ``maemae.store`` implements this on SQLite and PostgreSQL; the engine only sees this module.

===========================  ==========================================================================
method                       contract
===========================  ==========================================================================
``commit``                   write one change atomically; a fill already stored (same trading day and
                             fill id) is kept once, an order's history lines are appended, never rewritten
``load``                     everything a restart needs: today's orders with their history and fill ids,
                             positions, the account, the named runtime documents
``runtime_document``         one named runtime document, e.g. the operator's halt written by another process
``audit_entries``            the audit log in order (``maemae audit verify`` checks its hash chain)
``live_minute_bars``         the minute bars a live day built and saved so far, by stock, oldest first
===========================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from maemae.domain.account import Account
from maemae.domain.codes import StockCode
from maemae.domain.fill import Fill
from maemae.domain.minute_bar import MinuteBar
from maemae.domain.order import Order
from maemae.domain.position import Position

JsonDocument = dict[str, Any]
MARKS_DOCUMENT = "marks"  # runtime document: the last prices the held stocks were valued at, and when
# runtime documents kept one per closed day (the close book: the positions as they stood at the close, with
# their closing prices); read by name, never part of what a start loads
DAY_DOCUMENT_PREFIX = "day/"


def close_book_document(day: date) -> str:
    """The name of ``day``'s close book: an end-of-day report written later shows that day's book, not
    today's."""
    return f"{DAY_DOCUMENT_PREFIX}{day.isoformat()}/close_book"


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """The account plus the portfolio's running totals, saved and restored together."""

    account: Account
    realised_pnl: int
    commission: int
    tax: int
    realised_by_order: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only audit log. ``kind`` is what happened (``order``, ``denial``, ``fill``,
    ``reconcile``, ``param``, ``operator``, ``recovery``), ``subject`` what it is about (an order id, a stock
    code, a parameter name), ``data`` the facts as plain JSON."""

    at: datetime
    kind: str
    subject: str
    data: JsonDocument


@dataclass(frozen=True, slots=True)
class ParamChange:
    """An operator's change of a parameter, with who made it."""

    at: datetime
    key: str
    old: Any
    new: Any
    actor: str


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """A strategy's signal at a moment (the daily strategy's pick, the minute strategy's trigger)."""

    at: datetime
    code: StockCode
    strategy: str
    signal: str
    values: JsonDocument


@dataclass(frozen=True, slots=True)
class CashSnapshot:
    """Cash at a moment, as maemae computes it or as the broker reports it."""

    at: datetime
    source: str  # "maemae" or the broker's name
    cash: int
    settled_cash: int
    orderable: int


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """Equity and the positions' values at a moment (the dashboard's equity curve)."""

    at: datetime
    equity: int
    cash: int
    positions: Mapping[str, int]  # code -> market value


@dataclass(frozen=True, slots=True)
class DailyResult:
    """The end-of-day aggregation of one trading day."""

    day: date
    equity: int
    cash: int
    realised_pnl: int
    unrealised_pnl: int
    commission: int
    tax: int
    orders: int
    fills: int
    denials: int


@dataclass(slots=True)
class StateChange:
    """Everything one step changed, written atomically by :meth:`StateStore.commit`."""

    orders: list[Order] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    closed_positions: list[StockCode] = field(default_factory=list)
    account: AccountTotals | None = None
    runtime: dict[str, JsonDocument] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    params: list[ParamChange] = field(default_factory=list)
    signals: list[SignalRecord] = field(default_factory=list)
    cash: list[CashSnapshot] = field(default_factory=list)
    portfolio: list[PortfolioSnapshot] = field(default_factory=list)
    daily: list[DailyResult] = field(default_factory=list)
    # minute bars a live day completed since its last checkpoint, appended to the day's saved ones
    minute_bars: dict[StockCode, list[MinuteBar]] = field(default_factory=dict)
    # stocks whose saved bars of the day are replaced by theirs in ``minute_bars`` (the broker's chart changed
    # a bar the day had saved: the minute a run started or stopped in)
    minute_bars_rewritten: set[StockCode] = field(default_factory=set)
    minute_bars_done: date | None = None  # a day closed: its saved minute bars, and older days', deleted

    def __bool__(self) -> bool:
        return any(
            (
                self.orders,
                self.fills,
                self.positions,
                self.closed_positions,
                self.account,
                self.runtime,
                self.audit,
                self.params,
                self.signals,
                self.cash,
                self.portfolio,
                self.daily,
                any(self.minute_bars.values()),
                self.minute_bars_done,
            )
        )


@dataclass(frozen=True, slots=True)
class SavedState:
    """What a restart starts from. ``orders`` are every order of ``day`` and all orders still open;
    ``fill_ids`` every stored fill id of ``day``."""

    day: date | None
    orders: list[Order]
    fill_ids: frozenset[str]
    positions: list[Position]
    account: AccountTotals | None
    runtime: dict[str, JsonDocument]

    @property
    def is_empty(self) -> bool:
        return not (self.orders or self.positions or self.account or self.runtime)


@runtime_checkable
class StateStore(Protocol):
    """The repository the engine persists through (see the module docstring for the contract)."""

    def commit(self, change: StateChange) -> None: ...

    def load(self, day: date | None) -> SavedState: ...

    def runtime_document(self, name: str) -> JsonDocument | None: ...

    def audit_entries(self) -> list[AuditEntry]: ...

    def fills(self, day: date) -> list[Fill]: ...

    def daily_results(self) -> list[DailyResult]: ...

    def portfolio_snapshots(self, day: date) -> list[PortfolioSnapshot]: ...

    def recent_audit(self, kinds: Sequence[str], limit: int) -> list[AuditEntry]: ...

    def live_minute_bars(self, day: date) -> dict[StockCode, list[MinuteBar]]: ...
