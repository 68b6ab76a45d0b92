"""What the running engine tells the operator (SPEC 4): fills, stops, halts, reconciliation differences,
errors and the end of the day, as alerts (``maemae.alerts``). The drivers (the live loop, the persisted
replay) call these; sending never waits for delivery."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date, datetime

from maemae.alerts.messages import Alert, AlertKind, AlertSink
from maemae.domain.events import DomainEvent, FillReceived, OrderStateChanged
from maemae.domain.intents import EXIT_SOURCES
from maemae.domain.order_states import OrderEvent
from maemae.engine.kernel import TradingKernel
from maemae.errors import ConfirmationInterrupted, MaemaeError
from maemae.execution.order_manager import OrderManager
from maemae.ports.state import AuditEntry, StateChange, StateStore


class AuditedAlerts:
    """Keeps every alert in the audit log (kind ``alert``) before passing it on: the dashboard's alert list
    reads it from there, from any process. A store that fails does not stop the alert."""

    def __init__(self, sink: AlertSink, store: StateStore) -> None:
        self.sink, self.store = sink, store

    def send(self, alert: Alert) -> None:
        entry = AuditEntry(alert.at, "alert", alert.kind.value, {"title": alert.title, "text": alert.text})
        with contextlib.suppress(MaemaeError):
            self.store.commit(StateChange(audit=[entry]))
        self.sink.send(alert)


class TradeAlerts:
    """An order-manager listener: an alert per fill (if ``fills``) and per exit rule's order."""

    def __init__(self, orders: OrderManager, sink: AlertSink, *, fills: bool = True) -> None:
        self.orders, self.sink, self.fills = orders, sink, fills
        orders.listeners.append(self)

    def __call__(self, event: DomainEvent) -> None:
        if isinstance(event, FillReceived):
            if self.fills:
                self._on_fill(event)
            return
        if event.event is OrderEvent.ACCEPT:
            self._on_accept(event)

    def _on_fill(self, event: FillReceived) -> None:
        fill = event.fill
        order = self.orders.orders.get(fill.order_id)
        progress = f"{order.filled_quantity}/{order.quantity} filled" if order else ""
        self.sink.send(
            Alert(
                AlertKind.FILL,
                f"{fill.side.value} {fill.quantity} {fill.code} @ {fill.price:,}",
                f"order {fill.order_id}: {progress}; {order.reason if order else ''}".strip("; "),
                fill.ts,
                key=f"fill:{fill.fill_id}",
            )
        )

    def _on_accept(self, event: OrderStateChanged) -> None:
        order = self.orders.orders.get(event.order_id)
        if order is None or order.source not in EXIT_SOURCES:
            return
        self.sink.send(
            Alert(
                AlertKind.STOP,
                f"{order.source.value.replace('_', ' ')} {order.side.value} {order.quantity} {order.code}",
                order.reason,
                event.at,
                key=f"stop:{order.order_id}",
            )
        )


class DayWatch:
    """Changes a driver checks after each step: the portfolio stop, strategy errors."""

    def __init__(self, kernel: TradingKernel, sink: AlertSink) -> None:
        self.kernel, self.sink = kernel, sink
        self._halted = False
        self._errors = kernel.strategy_errors

    def check(self, now: datetime) -> None:
        kernel = self.kernel
        halted = kernel.day is not None and kernel.gate.state.is_halted(kernel.day)
        if halted and not self._halted:
            self.sink.send(
                Alert(AlertKind.HALT, "portfolio stop", "no new entries for the rest of the day", now)
            )
        self._halted = halted
        if kernel.strategy_errors > self._errors:
            count = kernel.strategy_errors - self._errors
            self.sink.send(
                Alert(AlertKind.ERROR, "strategy error", f"{count} strategy error(s); see the log", now)
            )
            self._errors = kernel.strategy_errors


def alert_differences(sink: AlertSink, lines: Sequence[str], now: datetime) -> None:
    """One alert per reconciliation difference (already audited and settled by the rule)."""
    for line in lines:
        subject = line.split(":", 1)[0]
        sink.send(Alert(AlertKind.RECONCILIATION, subject, line, now, key=f"reconcile:{subject}"))


def alert_recovery(
    sink: AlertSink, differences: Sequence[str], unasked_days: Sequence[str], now: datetime
) -> None:
    """What a start settled that a person must hear of, as the same during the day: each reconciliation
    difference, and each earlier day whose orders the broker could not list (a fill of those orders would
    show as shares held outside maemae)."""
    alert_differences(sink, differences, now)
    for day in unasked_days:
        text = (
            f"the broker cannot list the orders of {day}: maemae's orders of that day still open at the "
            "start were expired unchecked; a fill of theirs shows as shares held outside maemae"
        )
        sink.send(
            Alert(AlertKind.RECONCILIATION, f"orders of {day} unchecked", text, now, key=f"unasked:{day}")
        )


def alert_day_closed(
    sink: AlertSink, day: date, now: datetime, *, orders: int, fills: int, equity: int, start_equity: int
) -> None:
    change = equity - start_equity
    sink.send(
        Alert(
            AlertKind.REPORT,
            f"{day} closed",
            f"orders {orders}, fills {fills}; equity {equity:,} won ({change:+,} won today)",
            now,
            key=f"report:{day}",
        )
    )


def alert_error(
    sink: AlertSink, error: BaseException, now: datetime, store: StateStore | None = None
) -> None:
    """The error a run stops on: alerted, and audited (``maemae status`` shows the last one). The command
    then prints it as its ``error:`` line, so the alert's log record stays off the console."""
    sink.send(_stop_alert(error, now))
    if store is not None:
        entry = AuditEntry(now, "error", type(error).__name__, {"message": str(error)})
        with contextlib.suppress(MaemaeError):  # the store itself failed: the alert is all there is
            store.commit(StateChange(audit=[entry]))


def _stop_alert(error: BaseException, now: datetime) -> Alert:
    """What the run's stop is told as. Ctrl-C at the confirmation of the first live order is the operator's
    stop, as the kill switch is a ``halt``: an ``error`` alert sent whoever reads the alerts looking for a
    fault that is not there. Anything else is the ``error`` the run failed on."""
    if isinstance(error, ConfirmationInterrupted):
        text = f"by the operator (Ctrl-C): the first live order was not confirmed; {error}"
        return Alert(AlertKind.HALT, "run stopped", text, now, shown=True)
    return Alert(AlertKind.ERROR, type(error).__name__, str(error), now, shown=True)
