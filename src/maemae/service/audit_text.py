"""An audit record's facts in one line an operator reads: the dashboard's feed and the end-of-day report show
these instead of the record's JSON (the audit log keeps the JSON; ``maemae audit`` lists it as it is)."""

from __future__ import annotations

import json
from typing import Any

from maemae.engine.recovery import RecoveryReport
from maemae.execution.reconciliation import Difference


def audit_text(kind: str, subject: str, data: dict[str, Any]) -> str:
    """The line for a record of ``kind`` about ``subject``; a shape this does not know, as its JSON."""
    if kind == "recovery":
        return RecoveryReport.from_dict(data).line()
    if kind == "reconcile":
        return difference_text(subject, data)
    if kind == "operator":
        return _operator_text(data)
    if kind == "param":
        return _param_text(subject, data)
    return _json(data)


def difference_text(subject: str, data: dict[str, Any]) -> str:
    """A reconciliation difference, as the run printed and alerted it."""
    return Difference.from_record(subject, data).line()


def _operator_text(data: dict[str, Any]) -> str:
    """The engine applying a state (``from``, ``to``, ``by``, ``cancelled``), or a person asking for one
    (``state``, ``by``, ``reason``)."""
    if "to" in data:
        cancelled = len(data.get("cancelled") or [])
        text = f"{data.get('from')} -> {data['to']} by {data.get('by')}"
        return text + (f"; {cancelled} open order(s) cancelled" if cancelled else "")
    reason = data.get("reason")
    return f"asked by {data.get('by')}" + (f": {reason}" if reason else "")


def _param_text(subject: str, data: dict[str, Any]) -> str:
    """A parameter changed (``old``, ``new``, ``by``, ``reset``), or the engine applying the changes (the
    record ``applied``: key -> value in force)."""
    if subject == "applied":
        return "; ".join(f"{key} = {_json(value)}" for key, value in data.items()) or "nothing changed"
    text = f"{_json(data.get('old'))} -> {_json(data.get('new'))} by {data.get('by')}"
    return text + (" (back to the config file's)" if data.get("reset") else "")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
