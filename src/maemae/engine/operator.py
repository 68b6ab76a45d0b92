"""The kill switch and the operator's trading state, obeyed by a running engine within one step.

An operator (``maemae halt``, ``maemae resume``, later the dashboard) writes the wanted state to the state
database as the runtime document ``operator``, with an audit record; a file flag (``execution.halt_file``)
halts as well, for when nothing else works (``touch var/HALT``), and outranks the operator: a resume while it
exists is refused (``check_resumable``). The running engine polls both before every step:

* ``halted``: the risk gate refuses every new order, and every open order is cancelled;
* ``reducing``: only orders that reduce a position pass (sells);
* ``active``: normal trading.

The switch lives in the risk state (``RiskState.operator_state``), so it is saved with it and survives a
restart.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from maemae.alerts.messages import Alert, AlertKind, AlertSink, NoAlerts
from maemae.engine.kernel import TradingKernel
from maemae.engine.persistence import StateRecorder
from maemae.errors import ConfigError, MaemaeError
from maemae.ports.state import AuditEntry, StateChange, StateStore
from maemae.risk.state import TradingState

OPERATOR_DOCUMENT = "operator"


def request_state(store: StateStore, state: TradingState, reason: str, actor: str, at: datetime) -> None:
    """Ask the running engine (and any engine started later) to move to ``state``."""
    document = {"state": state.value, "reason": reason, "by": actor, "at": at.isoformat()}
    store.commit(
        StateChange(
            runtime={OPERATOR_DOCUMENT: document},
            audit=[AuditEntry(at, "operator", state.value, document)],
        )
    )


def requested_state(store: StateStore) -> TradingState:
    document = store.runtime_document(OPERATOR_DOCUMENT) or {}
    try:
        return TradingState(document.get("state", TradingState.ACTIVE.value))
    except ValueError:
        raise ConfigError(
            f"operator state {document.get('state')!r}: expected active, reducing or halted"
        ) from None


class HaltFileHolds(MaemaeError):
    """A resume or sells-only asked for while the flag file exists: the engine obeys the file before the
    operator's state (``OperatorSwitch.poll``), so trading would stay halted whatever the request said."""

    def __init__(self, halt_file: Path, wanted: TradingState = TradingState.ACTIVE) -> None:
        lifted = "resume" if wanted is TradingState.ACTIVE else "allow sells"
        super().__init__(
            f"the flag file {halt_file} (execution.halt_file) still halts trading: delete it to {lifted}"
        )
        self.halt_file = halt_file


def halting_flag_file(halt_file: Path) -> Path | None:
    """The flag file while it exists, else None: what an operator must be told before asking to resume."""
    return halt_file if halt_file.exists() else None


def check_resumable(halt_file: Path, wanted: TradingState = TradingState.ACTIVE) -> None:
    """Raise ``HaltFileHolds`` while the flag file exists and ``wanted`` is a state that lets orders
    through (active, or reducing: sells only); a halt is never refused.

    ``maemae resume``, ``maemae halt --reducing`` and the dashboard's buttons all ask here, so none of them
    reports a state that the engine will not apply, and all name the file in the same words.
    """
    held = halting_flag_file(halt_file)
    if held is not None and wanted is not TradingState.HALTED:
        raise HaltFileHolds(held, wanted)


class OperatorSwitch:
    """Polled before each step: applies the operator's state and the file flag to the running engine."""

    def __init__(
        self,
        store: StateStore,
        kernel: TradingKernel,
        recorder: StateRecorder,
        halt_file: Path,
        alerts: AlertSink | None = None,
    ) -> None:
        self.store = store
        self.kernel = kernel
        self.recorder = recorder
        self.halt_file = halt_file
        self.alerts = alerts or NoAlerts()

    def poll(self, now: datetime) -> TradingState:
        wanted = TradingState.HALTED if self.halt_file.exists() else requested_state(self.store)
        state = self.kernel.gate.state
        if wanted is state.operator_state:
            return wanted
        previous, state.operator_state = state.operator_state, wanted
        cancelled = []
        if wanted is TradingState.HALTED:
            for order in self.kernel.orders.open_orders():
                self.kernel.orders.cancel(order, now, "kill switch")
                cancelled.append(order.order_id)
        source = f"file {self.halt_file}" if self.halt_file.exists() else "operator"
        facts = {"from": previous.value, "to": wanted.value, "by": source, "cancelled": cancelled}
        self.recorder.checkpoint(audit=[AuditEntry(now, "operator", wanted.value, facts)])
        cancelled_text = f"; {len(cancelled)} open order(s) cancelled" if cancelled else ""
        asked = "" if self.halt_file.exists() else self._asked()
        self.alerts.send(
            Alert(AlertKind.HALT, f"trading {wanted.value}", f"by {source}{asked}{cancelled_text}", now)
        )
        return wanted

    def _asked(self) -> str:
        """Who asked for the state and why (`` alice: live test``), as the operator's request saved them:
        the person the alert reaches learns why trading stopped without opening ``maemae status``."""
        document = self.store.runtime_document(OPERATOR_DOCUMENT) or {}
        who = f" {document['by']}" if document.get("by") else ""
        reason = f": {document['reason']}" if document.get("reason") else ""
        return who + reason
