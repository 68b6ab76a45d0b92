"""``StateRecorder``: writes every change of the trading state to the state store before it is acted on.

It listens to the order manager's domain events (after the kernel has applied them to the portfolio and the
risk state) and turns each into one atomic :class:`~maemae.ports.state.StateChange`:

* an order's state change (SUBMITTED is written *before* the request leaves, DESIGN 1.6) with the account
  (its cash reservation), the risk state and an audit record; a denial is an audit record of its reason;
* a fill together with its order, the position and cash it moved, the risk state (cooldowns, caps) and an
  audit record, so a fill is never stored without its effects or its effects without it. The order's own
  FILL state change is written here too, not on its own.

``checkpoint`` saves what changes without an order event: the trailing stop's high-water marks, the day's
halt, and the driver's position in the day; given prices, it also adds a portfolio snapshot once per minute
(the dashboard's equity curve), in the same commit, with the prices it valued the held stocks at as the
runtime document ``marks`` (each position's unrealised P&L in ``maemae positions`` and the dashboard).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from maemae.domain.codes import StockCode
from maemae.domain.events import DomainEvent, FillReceived, OrderStateChanged
from maemae.domain.minute_bar import MinuteBar
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent, OrderState
from maemae.domain.position import Position
from maemae.engine.kernel import PriceOf, TradingKernel
from maemae.ports.state import (
    MARKS_DOCUMENT,
    AccountTotals,
    AuditEntry,
    CashSnapshot,
    DailyResult,
    JsonDocument,
    PortfolioSnapshot,
    StateChange,
    StateStore,
    close_book_document,
)

_FILL_EVENTS = (OrderEvent.FILL_PARTIAL, OrderEvent.FILL_FULL)


def marks_document(at: datetime, prices: Mapping[StockCode, int]) -> JsonDocument:
    """The prices the held stocks were valued at, at ``at``. A price, not a value: a fill after it changes
    the quantity held, not the price, so the shares held now are valued exactly at the last mark."""
    return {"at": at.isoformat(), "prices": {str(code): price for code, price in sorted(prices.items())}}


def close_book(
    at: datetime, start_equity: int, positions: Iterable[Position], closes: Mapping[StockCode, int]
) -> JsonDocument:
    """The positions as they stood at the close ``at``, each with its closing price when maemae owned some
    of it, and the equity the day started from: what the day's report shows whenever it is written
    (``service.status.close_book_rows``; its change on the day is the close alert's)."""
    return {
        "at": at.isoformat(),
        "start_equity": start_equity,
        "positions": [
            {
                "code": str(p.code),
                "owned": p.owned_quantity,
                "account": p.account_quantity,
                "cost_basis": p.cost_basis,
                "realised_pnl": p.realised_pnl,
                "close": closes.get(p.code) if p.owned_quantity else None,
            }
            for p in sorted(positions, key=lambda p: p.code)
        ],
    }


class StateRecorder:
    def __init__(self, store: StateStore, kernel: TradingKernel) -> None:
        self.store = store
        self.kernel = kernel
        self.cursor: JsonDocument = {}
        self._valued_minute: datetime | None = None
        kernel.orders.listeners.append(self)

    def __call__(self, event: DomainEvent) -> None:
        if isinstance(event, FillReceived):
            self._on_fill(event)
        elif event.event not in _FILL_EVENTS:
            self._on_state(event)

    def _on_state(self, event: OrderStateChanged) -> None:
        order = self.kernel.orders.orders[event.order_id]
        kind = "denial" if event.new is OrderState.DENIED else "order"
        audit = AuditEntry(event.at, kind, order.order_id, _order_facts(order, event))
        self.store.commit(
            StateChange(orders=[order], account=self.totals(), runtime=self.runtime(), audit=[audit])
        )

    def _on_fill(self, event: FillReceived) -> None:
        fill = event.fill
        portfolio = self.kernel.portfolio
        order = self.kernel.orders.orders[fill.order_id]
        position = portfolio.positions.get(fill.code)
        facts: dict[str, Any] = {
            **fill.facts(),
            "order_state": order.state.value,
            "owned_after": position.owned_quantity if position else 0,
        }
        self.store.commit(
            StateChange(
                orders=[order],
                fills=[fill],
                positions=[position] if position else [],
                closed_positions=[] if position else [fill.code],
                account=self.totals(),
                runtime=self.runtime(),
                audit=[AuditEntry(fill.ts, "fill", fill.code, facts)],
            )
        )

    def checkpoint(
        self,
        cursor: JsonDocument | None = None,
        audit: list[AuditEntry] | None = None,
        closed: list[StockCode] | None = None,
        *,
        valued: tuple[datetime, PriceOf] | None = None,
        documents: Mapping[str, JsonDocument] | None = None,
        minute_bars: dict[StockCode, list[MinuteBar]] | None = None,
        rewritten: set[StockCode] | None = None,
    ) -> None:
        """Save the runtime documents (and the driver's ``cursor``), with the account and every position;
        ``closed`` are codes whose position no longer exists; ``valued`` (the time and the prices now) adds
        the minute's portfolio snapshot when this minute has none yet; ``documents`` and ``minute_bars`` are
        the driver's own (the live loop's memory of the day, ``engine.live_state``): the bars of the stocks in
        ``rewritten`` replace their saved ones of the day."""
        if cursor is not None:
            self.cursor = cursor
        portfolio = self.kernel.portfolio
        runtime = self.runtime()
        snapshots: list[PortfolioSnapshot] = []
        if valued is not None and self._new_minute(valued[0]):
            at, price_of = valued
            prices = {p.code: price_of(p.code) for p in portfolio.held()}
            snapshots.append(self._valuation(at, prices))
            runtime[MARKS_DOCUMENT] = marks_document(at, prices)
        runtime.update(documents or {})
        self.store.commit(
            StateChange(
                positions=list(portfolio.positions.values()),
                closed_positions=closed or [],
                account=self.totals(),
                runtime=runtime,
                audit=audit or [],
                portfolio=snapshots,
                minute_bars=minute_bars or {},
                minute_bars_rewritten=rewritten or set(),
            )
        )

    def _new_minute(self, at: datetime) -> bool:
        """Whether ``at`` is in a minute not valued yet: one snapshot a minute is the equity curve's grain."""
        minute = at.replace(second=0, microsecond=0)
        if minute == self._valued_minute:
            return False
        self._valued_minute = minute
        return True

    def _valuation(self, at: datetime, prices: Mapping[StockCode, int]) -> PortfolioSnapshot:
        portfolio = self.kernel.portfolio
        values = {str(p.code): p.owned_quantity * prices[p.code] for p in portfolio.held()}
        return PortfolioSnapshot(
            at, portfolio.account.cash + sum(values.values()), portfolio.account.cash, values
        )

    def close_day(self, day: date, at: datetime, equity: int, prices: Mapping[StockCode, int]) -> None:
        """After the close: the day's aggregate, a portfolio snapshot and maemae's cash, in one change."""
        portfolio = self.kernel.portfolio
        account = portfolio.account
        today = [o for o in self.kernel.orders.orders.values() if o.created_at.date() == day]
        denied = sum(1 for o in today if o.state is OrderState.DENIED)
        held = [p for p in portfolio.held() if p.code in prices]
        values = {p.code: p.owned_quantity * prices[p.code] for p in held}
        unrealised = sum(values[p.code] - p.cost_basis for p in held)
        result = DailyResult(
            day,
            equity,
            account.cash,
            portfolio.realised_pnl,
            unrealised,
            portfolio.commission,
            portfolio.tax,
            orders=len(today) - denied,
            fills=sum(len(o.fill_ids) for o in today),
            denials=denied,
        )
        closes = {p.code: prices[p.code] for p in held}
        self.store.commit(
            StateChange(
                daily=[result],
                runtime={
                    MARKS_DOCUMENT: marks_document(at, closes),  # the day's last prices: its closes
                    close_book_document(day): close_book(
                        at, self.kernel.gate.state.day_start_equity, portfolio.positions.values(), closes
                    ),
                },
                portfolio=[
                    PortfolioSnapshot(at, equity, account.cash, {str(c): v for c, v in values.items()})
                ],
                cash=[CashSnapshot(at, "maemae", account.cash, account.settled_cash, account.orderable_cash)],
                minute_bars_done=day,  # only a restart during the day reads them
            )
        )

    def totals(self) -> AccountTotals:
        portfolio = self.kernel.portfolio
        return AccountTotals(
            portfolio.account,
            portfolio.realised_pnl,
            portfolio.commission,
            portfolio.tax,
            portfolio.realised_by_order,
        )

    def runtime(self) -> dict[str, JsonDocument]:
        return {
            "risk": self.kernel.gate.state.to_dict(),
            "exits": self.kernel.exit_state(),
            "cursor": self.cursor,
        }


def _order_facts(order: Order, event: OrderStateChanged) -> dict[str, Any]:
    return {
        "event": event.event.value,
        "from": event.old.value,
        "to": event.new.value,
        "code": str(order.code),
        "side": order.side.value,
        "quantity": order.quantity,
        "order_type": order.order_type.value,
        "price": order.limit_price,
        "broker_order_no": order.broker_order_no,
        "source": order.source.value,
        "strategy": order.strategy,
        "note": event.note,
    }
