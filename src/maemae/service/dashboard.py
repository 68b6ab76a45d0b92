"""The dashboard's read model: everything one screen shows, read from the state database and the log files.

It is built from the same reads as ``maemae status``, ``positions`` and ``orders`` (``service.status``), plus
the equity curve (portfolio snapshots, one a minute while trading, and the closed days), the alerts the engine
sent (kept in the audit log), the tail of today's JSON log, the parameters in force and the days with an
end-of-day report.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from maemae.config import MaemaeConfig
from maemae.ports.state import StateStore
from maemae.service.audit_text import audit_text
from maemae.service.control import parameters
from maemae.service.names import StockNames
from maemae.service.report import report_dir
from maemae.service.status import OrderRow, PositionRow, Status, order_rows, position_rows, status

# the denied intents shown beside every order sent: a day of a busy strategy denies hundreds (one per
# minute and stock while a rule holds), which would push the sent orders out of a list cut at its newest
RECENT_DENIED = 50
RECENT_ALERTS = 50
# audit kinds an operator wants to see next to the alerts: what they or the engine changed
FEED_KINDS = ("alert", "operator", "param", "reconcile", "recovery", "error")


@dataclass(frozen=True, slots=True)
class EquityPoint:
    at: str  # ISO 8601, KST
    equity: int


@dataclass(frozen=True, slots=True)
class FeedRow:
    at: str
    kind: str  # the audit kind; for an alert, its alert kind (fill, stop, halt, ...)
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class DashboardView:
    day: str
    status: Status
    positions: list[PositionRow]
    orders: list[OrderRow]  # every order sent today and the newest denied intents, newest first
    denied_left_out: int  # older denied intents not in ``orders`` (`maemae orders` lists them)
    equity_today: list[EquityPoint]
    equity_days: list[EquityPoint]
    feed: list[FeedRow]  # newest first
    log: list[str]
    parameters: dict[str, Any]  # dotted key -> value in force
    reports: list[str]  # days with an end-of-day report, newest first

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def texts(self) -> list[str]:
        """The stored texts the page shows as they are in English and worded in Korean: the orders' notes,
        the alerts' titles and texts."""
        return [o.last_note for o in self.orders] + [t for f in self.feed for t in (f.title, f.text)]


def dashboard_view(
    store: StateStore, day: date, base: MaemaeConfig, names: StockNames, log_lines: int = 40
) -> DashboardView:
    """``names``: the stock names the dashboard read when it started (not on every 2-second poll)."""
    saved = store.load(day)  # once: the page polls every 2 seconds
    newest_first = sorted(order_rows(saved, names), key=lambda o: o.created_at, reverse=True)
    denied = [o for o in newest_first if o.state == "denied"]
    shown = {id(o) for o in denied[:RECENT_DENIED]}
    orders = [o for o in newest_first if o.state != "denied" or id(o) in shown]
    return DashboardView(
        day=day.isoformat(),
        status=status(store, day, saved, halt_file=base.execution.halt_file),
        positions=position_rows(saved, names, day),
        orders=orders,
        denied_left_out=len(denied) - RECENT_DENIED if len(denied) > RECENT_DENIED else 0,
        equity_today=[EquityPoint(s.at.isoformat(), s.equity) for s in store.portfolio_snapshots(day)],
        equity_days=[EquityPoint(r.day.isoformat(), r.equity) for r in store.daily_results()],
        feed=[
            feed_row(e.at.isoformat(), e.kind, e.subject, e.data)
            for e in store.recent_audit(FEED_KINDS, RECENT_ALERTS)
        ],
        log=log_tail(base.logging.dir, log_lines),
        parameters=flatten(parameters(store, base)),
        reports=report_days(report_dir(base)),
    )


def report_days(directory: Path) -> list[str]:
    """The days whose end-of-day report is in ``directory`` (``DAY.html``), newest first."""
    days = []
    for path in directory.glob("*.html"):
        try:
            days.append(date.fromisoformat(path.stem).isoformat())
        except ValueError:
            continue
    return sorted(days, reverse=True)


def feed_row(at: str, kind: str, subject: str, data: dict[str, Any]) -> FeedRow:
    if kind == "alert":
        return FeedRow(at, subject, str(data.get("title", "")), str(data.get("text", "")))
    if kind == "error":
        return FeedRow(at, kind, subject, str(data.get("message", "")))
    return FeedRow(at, kind, subject, audit_text(kind, subject, data))


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"risk": {"stop_loss": {"pct": 3}}}`` -> ``{"risk.stop_loss.pct": 3}`` (lists stay values)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def log_tail(directory: Path, lines: int) -> list[str]:
    """The last ``lines`` records of the newest daily log file, one readable line each."""
    files = sorted(directory.glob("maemae-*.jsonl"))
    if not files:
        return []
    with files[-1].open(encoding="utf-8", errors="replace") as handle:
        tail = deque(handle, maxlen=lines)
    return [_readable(line) for line in tail]


def _readable(line: str) -> str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return line.rstrip()
    if not isinstance(record, dict):
        return line.rstrip()
    ts = str(record.pop("ts", ""))[11:19]
    level = str(record.pop("level", ""))
    event = str(record.pop("event", ""))
    context = " ".join(f"{k}={v}" for k, v in record.items())
    return f"{ts} {level:<7} {event} {context}".rstrip()
