"""The dashboard's feed and the report read an audit record as one line an operator reads, not its JSON."""

from __future__ import annotations

import pytest

from maemae.engine.recovery import RecoveryReport
from maemae.service.audit_text import audit_text


@pytest.mark.parametrize(
    ("kind", "subject", "data", "text"),
    [
        (
            "operator",
            "halted",
            {"from": "active", "to": "halted", "by": "operator", "cancelled": ["a", "b"]},
            "active -> halted by operator; 2 open order(s) cancelled",
        ),
        (
            "operator",
            "active",
            {"from": "halted", "to": "active", "by": "file /srv/HALT", "cancelled": []},
            "halted -> active by file /srv/HALT",
        ),
        (
            "operator",
            "halted",
            {
                "state": "halted",
                "reason": "news",
                "by": "dashboard@127.0.0.1",
                "at": "2025-12-03T10:00:00+09:00",
            },
            "asked by dashboard@127.0.0.1: news",
        ),
        ("operator", "active", {"state": "active", "reason": "", "by": "cli"}, "asked by cli"),
        (
            "param",
            "risk.stop_loss.pct",
            {"old": 5, "new": "3.5", "by": "dashboard@127.0.0.1"},
            '5 -> "3.5" by dashboard@127.0.0.1',
        ),
        (
            "param",
            "risk.stop_loss.pct",
            {"old": "3.5", "new": 5, "by": "cli", "reset": True},
            '"3.5" -> 5 by cli (back to the config file\'s)',
        ),
        (
            "param",
            "applied",
            {"risk.stop_loss.pct": "3.5", "risk.cooldown.enabled": True},
            'risk.stop_loss.pct = "3.5"; risk.cooldown.enabled = true',
        ),
        (
            "reconcile",
            "005930",
            {"field": "quantity", "maemae": 10, "broker": 7, "action": "cut to the broker's"},
            "005930 quantity: maemae 10, broker 7 (cut to the broker's)",
        ),
        ("something_new", "x", {"a": [1, 2]}, '{"a": [1, 2]}'),
    ],
)
def test_audit_text_when_a_record_is_shown_then_one_readable_line(
    kind: str, subject: str, data: dict[str, object], text: str
) -> None:
    assert audit_text(kind, subject, data) == text


def test_audit_text_when_a_recovery_is_shown_then_the_runs_recovery_line() -> None:
    report = RecoveryReport(
        restored_orders=2, recovered_fills=["f1"], closed=["o1"], unasked_days=["2025-12-02"]
    )
    assert audit_text("recovery", "start", report.as_dict()) == report.line()
    older = {
        "restored_orders": 1,
        "found": [],
        "never_sent": [],
        "recovered_fills": [],
        "closed": [],
        "differences": [],
    }
    assert audit_text("recovery", "start", older).startswith(
        "recovery: 1 order restored, 0 found at the broker"
    )
    # a paper run's start names the venue, as `maemae paper` printed it (the feed said "broker")
    paper = RecoveryReport(restored_orders=1, trades_with="venue")
    assert audit_text("recovery", "start", paper.as_dict()).startswith(
        "recovery: 1 order restored, 0 found at the venue"
    )
