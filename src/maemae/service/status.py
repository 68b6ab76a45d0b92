"""Read models of a maemae instance from its state database: status, positions, orders.

The CLI's ``status``, ``positions`` and ``orders`` (and the dashboard) read a running or stopped instance
through here, from what it saved, never by guessing: the trading state the operator set, the cash and
positions as last saved, the open orders, the last reconciliation and the last recovery. A position's or an
order's stock is named beside its code from the instrument list the caller read (``service.names``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from maemae.domain.codes import StockCode
from maemae.domain.order import Order
from maemae.domain.position import Position
from maemae.errors import ConfigError
from maemae.ports.state import MARKS_DOCUMENT, AuditEntry, JsonDocument, SavedState, StateStore
from maemae.service.names import StockNames, name_of


@dataclass(frozen=True, slots=True)
class PositionRow:
    code: str
    name: str  # from the instrument list; "" when it has none
    owned_quantity: int
    account_quantity: int
    external_quantity: int
    cost_basis: int
    realised_pnl: int
    # maemae's shares valued at the last price a run marked them at (the runtime document ``marks``, saved
    # with each minute's portfolio snapshot and at the close; a day's report: its close book's closing
    # price); None when maemae owns none of it, or no run valued it on the day shown
    price: int | None
    market_value: int | None
    unrealised_pnl: int | None  # market value - cost basis
    marked_at: str | None  # when the price was taken (ISO 8601, +09:00)


@dataclass(frozen=True, slots=True)
class OrderRow:
    order_id: str
    code: str
    name: str  # from the instrument list; "" when it has none
    side: str
    quantity: int | None  # a denied buy's that left the number to the gate's sizing: None
    filled_quantity: int
    order_type: str
    limit_price: int | None
    state: str
    source: str
    created_at: str
    last_note: str


@dataclass(frozen=True, slots=True)
class Status:
    trading_state: str
    # who or what holds that state: ``file var/HALT`` (the flag file exists, whatever the operator document
    # says), ``operator alice: reason`` (``maemae halt`` / the dashboard), or None when trading is active
    trading_state_by: str | None
    # the same in parts, for a reader that words it in its own language (the dashboard's Korean page):
    # ``{"kind": "file", "path": ...}``, ``{"kind": "operator", "who": ..., "reason": ...}`` (reason "" when
    # none was given) or ``{"kind": "engine"}``; None when ``trading_state_by`` is
    state_source: dict[str, str] | None
    day: str | None
    replay_step: int | None
    cash: int | None
    settled_cash: int | None
    orderable_cash: int | None
    realised_pnl: int | None
    realised_today: int | None  # realised P&L since the last closed day
    positions: int
    open_orders: int
    orders_today: int
    denied_today: int
    last_difference: str | None  # the last reconciliation difference (none recorded: books agreed)
    # the last recovery report as an object, ``at`` (ISO 8601, +09:00) first: ``status --json`` and the
    # dashboard carry it as data to read, not as a Python repr inside a string
    last_recovery: dict[str, Any] | None
    last_error: str | None  # the last error a run stopped on (audited before it exited)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _order_row(order: Order, names: StockNames) -> OrderRow:
    return OrderRow(
        order.order_id,
        str(order.code),
        name_of(names, order.code),
        order.side.value,
        order.listed_quantity,
        order.filled_quantity,
        order.order_type.value,
        order.limit_price,
        order.state.value,
        order.source.value,
        order.created_at.isoformat(),
        order.history[-1].note if order.history else "",
    )


def _last_audit(store: StateStore, kind: str) -> AuditEntry | None:
    """The newest audit entry of ``kind`` (read from the end: the log only grows)."""
    found = store.recent_audit((kind,), 1)
    return found[0] if found else None


def instance_day(store: StateStore, today: date) -> date:
    """The trading day the instance is on: its cursor's; before the day's first cycle was saved (a run that
    stopped on its first order, refused at the live confirmation), the day its risk state was opened for;
    ``today`` when it has not traded yet."""
    for document in ("cursor", "risk"):
        day = (store.runtime_document(document) or {}).get("day")
        if day:
            return date.fromisoformat(str(day))
    return today


def positions(store: StateStore, day: date | None, names: StockNames) -> list[PositionRow]:
    return position_rows(store.load(day), names, day)


def position_rows(saved: SavedState, names: StockNames, day: date | None) -> list[PositionRow]:
    """The saved positions, each valued at the last marks of ``day`` (any day's when None)."""
    marks = saved.runtime.get(MARKS_DOCUMENT) or {}
    marked_at = marks.get("at")
    if marked_at is None or (day is not None and datetime.fromisoformat(marked_at).date() != day):
        marks, marked_at = {}, None  # the marks of another day value nothing shown for this one
    prices: dict[str, int] = marks.get("prices", {})
    return [
        _valued_row(p, names, prices.get(str(p.code)) if p.owned_quantity else None, marked_at)
        for p in sorted(saved.positions, key=lambda p: p.code)
    ]


def close_book_rows(book: JsonDocument, names: StockNames) -> list[PositionRow]:
    """The positions of a day's close book (``engine.persistence.close_book``), each owned one valued at its
    closing price: the same rows whenever the day's report is written, whatever was traded since."""
    return [
        _valued_row(
            Position(StockCode(p["code"]), p["owned"], p["account"], p["cost_basis"], p["realised_pnl"]),
            names,
            p["close"],
            str(book["at"]),
        )
        for p in book["positions"]
    ]


def _valued_row(p: Position, names: StockNames, price: int | None, at: str | None) -> PositionRow:
    """``p``'s row, maemae's shares valued at ``price`` as taken at ``at`` (None: not valued), for the
    positions of now and a day's report alike."""
    value = None if price is None else p.owned_quantity * price
    return PositionRow(
        str(p.code),
        name_of(names, p.code),
        p.owned_quantity,
        p.account_quantity,
        p.external_quantity,
        p.cost_basis,
        p.realised_pnl,
        price,
        value,
        None if value is None else value - p.cost_basis,
        None if price is None else at,
    )


def orders(store: StateStore, day: date | None, names: StockNames, open_only: bool = False) -> list[OrderRow]:
    return order_rows(store.load(day), names, open_only)


def order_rows(saved: SavedState, names: StockNames, open_only: bool = False) -> list[OrderRow]:
    return [_order_row(o, names) for o in saved.orders if o.is_open or not open_only]


# how many of the newest ``operator`` audit records are searched for the flag file a running engine obeyed
HALT_FILE_SEARCH = 200


def _engine_halt_file(store: StateStore) -> Path | None:
    """The flag file the engine last named as the source of a switch (``"by": "file var/HALT"``), if any.

    The engine's switch (``engine.operator.OperatorSwitch``) audits every change it applies with its source,
    so a caller that does not pass the configured ``execution.halt_file`` still finds the file that halted a
    running instance.
    """
    for entry in store.recent_audit(("operator",), HALT_FILE_SEARCH):
        flag = audited_flag_file(str(entry.data.get("by", "")))
        if "cancelled" in entry.data and flag is not None:
            return Path(flag)
    return None


def audited_flag_file(by: str) -> str | None:
    """The flag file an operator audit record's ``by`` names (the engine's switch writes ``file <path>``),
    or None for another source (``operator``: the engine applied a request; a name: who asked)."""
    return by.removeprefix("file ") if by.startswith("file ") else None


def source_text(source: dict[str, str] | None) -> str | None:
    """``trading_state_by``: who holds the state (:func:`state_source`'s parts), in English words."""
    if source is None:
        return None
    if source["kind"] == "file":
        return f"file {source['path']}"
    if source["kind"] == "operator":
        who = f"operator {source['who']}"
        return f"{who}: {source['reason']}" if source["reason"] else who
    return "engine (saved state)"


def state_source(
    store: StateStore, saved: SavedState, halt_file: Path | None = None
) -> tuple[str, dict[str, str] | None]:
    """The state a running engine is in, or applies before its next step, and who set it
    (``Status.state_source``).

    It is worked out the way the engine's switch works it out: the flag file halts whatever the operator
    document says (``maemae resume`` does not lift it), then the operator document, then (an instance that
    never had one) the state the engine saved. Reading the operator document first, as before, reported
    "active" for a run that the flag file halted and whose every order was denied ``kill_switch``.

    ``halt_file``: the configured ``execution.halt_file``; without it, the file the engine last named.
    """
    files = [f for f in (halt_file, _engine_halt_file(store)) if f is not None]
    for flag in files:
        if flag.exists():
            return "halted", {"kind": "file", "path": str(flag)}
    operator = store.runtime_document("operator") or {}
    if operator.get("state"):
        state = str(operator["state"])
        if state == "active":
            return state, None
        reason = operator.get("reason")
        return state, {"kind": "operator", "who": str(operator.get("by") or "?"), "reason": str(reason or "")}
    saved_state = str(saved.runtime.get("risk", {}).get("operator_state") or "active")
    if files or saved_state == "active":
        # the file the engine obeyed is gone: its next step lifts the halt (no operator document: active)
        return "active", None
    return saved_state, {"kind": "engine"}


def status(
    store: StateStore, day: date | None, saved: SavedState | None = None, halt_file: Path | None = None
) -> Status:
    """``saved``: the state of ``day`` when the caller has loaded it already (the dashboard);
    ``halt_file``: the configured ``execution.halt_file`` (see ``state_source``)."""
    saved = saved or store.load(day)
    state, source = state_source(store, saved, halt_file)
    cursor = saved.runtime.get("cursor") or {}
    account = saved.account.account if saved.account else None
    today = [o for o in saved.orders if day is None or o.created_at.date() == day]
    reconcile, recovery, error = (_last_audit(store, kind) for kind in ("reconcile", "recovery", "error"))
    realised = saved.account.realised_pnl if saved.account else None
    results = store.daily_results()
    asked = next((r for r in results if r.day == day), None)
    if day is not None and cursor.get("day") and day.isoformat() != cursor["day"]:
        if asked is None:  # its counts of nothing beside another day's figures, and exit 0, misled
            raise ConfigError(
                f"--day {day}: no day of this store (it is on {cursor['day']}"
                + (f"; days closed: {results[0].day} to {results[-1].day}" if results else "")
                + ")"
            )
        realised = asked.realised_pnl  # an earlier closed day: its own result, not the one since
    closed = [r for r in results if day is None or r.day < day]
    if closed and closed[-1].day.isoformat() == cursor.get("day"):
        closed = closed[:-1]  # the day in progress (or just closed) counts from the day before it
    before = closed[-1].realised_pnl if closed else 0
    return Status(
        trading_state=state,
        trading_state_by=source_text(source),
        state_source=source,
        day=day.isoformat() if day else cursor.get("day"),
        replay_step=cursor.get("next_bar"),
        cash=account.cash if account else None,
        settled_cash=account.settled_cash if account else None,
        orderable_cash=account.orderable_cash if account else None,
        realised_pnl=realised,
        realised_today=realised - before if realised is not None else None,
        positions=sum(1 for p in saved.positions if p.owned_quantity or p.account_quantity),
        open_orders=sum(1 for o in saved.orders if o.is_open),
        orders_today=sum(1 for o in today if o.state.value != "denied"),
        denied_today=sum(1 for o in today if o.state.value == "denied"),
        last_difference=(
            f"{reconcile.at.isoformat()} {reconcile.subject} {reconcile.data.get('field')}"
            if reconcile
            else None
        ),
        last_recovery={"at": recovery.at.isoformat(), **recovery.data} if recovery else None,
        last_error=_last_error(store, error),
    )


def _last_error(store: StateStore, error: AuditEntry | None) -> str | None:
    """The last error a run stopped on, said to be older than the last start when a run started after it
    (its recovery is newer in the log): shown alone, it read as the state of a run that has since gone on
    or finished cleanly."""
    if error is None:
        return None
    line = f"{error.at.isoformat()} {error.subject}: {error.data.get('message')}"
    newest = store.recent_audit(("recovery", "error"), 1)
    if newest and newest[0].kind == "recovery":
        line += f" (a run started after it, at {newest[0].at.isoformat()})"
    return line
