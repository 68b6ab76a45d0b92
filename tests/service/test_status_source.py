"""Who holds the trading state, in parts (``Status.state_source``) beside the English words of
``trading_state_by``: the dashboard's Korean page and the Korean end-of-day report word it themselves, and
used to show "file <path>" and "operator" in English."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from maemae.domain.clock_time import KST
from maemae.engine.operator import request_state
from maemae.ports.state import AuditEntry, DailyResult, StateChange
from maemae.risk.state import TradingState
from maemae.service.report import day_report, render_html
from maemae.service.status import status
from maemae.store.repository import SqlStateStore

DAY = date(2025, 12, 3)


def _at(hour: int, minute: int) -> datetime:
    return datetime(2025, 12, 3, hour, minute, tzinfo=KST)


def test_status_when_halted_by_the_flag_file_or_an_operator_gives_who_in_parts(tmp_path: Path) -> None:
    flag = tmp_path / "HALT"
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        flag.touch()
        by_file = json.loads(json.dumps(status(store, DAY, halt_file=flag).as_dict()))
        flag.unlink()
        request_state(store, TradingState.REDUCING, "news", "alice", _at(9, 30))
        by_operator = status(store, DAY, halt_file=flag)
        request_state(store, TradingState.HALTED, "", "bob", _at(9, 31))
        no_reason = status(store, DAY, halt_file=flag)
        request_state(store, TradingState.ACTIVE, "", "bob", _at(9, 32))
        active = status(store, DAY, halt_file=flag)
    finally:
        store.close()
    assert (by_file["trading_state_by"], by_file["state_source"]) == (
        f"file {flag}",
        {"kind": "file", "path": str(flag)},
    )
    assert (by_operator.trading_state_by, by_operator.state_source) == (
        "operator alice: news",
        {"kind": "operator", "who": "alice", "reason": "news"},
    )
    assert (no_reason.trading_state_by, no_reason.state_source) == (
        "operator bob",
        {"kind": "operator", "who": "bob", "reason": ""},
    )
    assert (active.trading_state_by, active.state_source) == (None, None)


def _halted_day(tmp_path: Path, flag: Path) -> SqlStateStore:
    """A closed day on which the flag file halted the engine, an operator asked to resume and it did."""
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    applied = {"from": "active", "to": "halted", "by": f"file {flag}", "cancelled": []}
    resumed = {"from": "halted", "to": "active", "by": "operator", "cancelled": []}
    asked = {"state": "active", "reason": "", "by": "alice", "at": _at(10, 2).isoformat()}
    store.commit(
        StateChange(
            audit=[
                AuditEntry(_at(9, 41), "operator", "halted", applied),
                AuditEntry(_at(10, 2), "operator", "active", asked),
                AuditEntry(_at(10, 3), "operator", "active", resumed),
            ],
            daily=[DailyResult(DAY, 100_000_000, 100_000_000, 0, 0, 0, 0, 0, 0, 0)],
        )
    )
    return store


def test_day_report_when_the_flag_file_halted_then_the_korean_page_says_who_in_korean(tmp_path: Path) -> None:
    flag = tmp_path / "HALT"
    store = _halted_day(tmp_path, flag)
    try:
        report = day_report(store, DAY, {})
    finally:
        store.close()
    korean = render_html(report, "ko")
    assert f"<li>09:41 중단 (플래그 파일 {flag})</li>" in korean  # the path as it is
    assert "<li>10:02 재개 (alice)</li>" in korean  # who asked, as they are called
    assert "<li>10:03 재개 (운영자)</li>" in korean
    assert "(file " not in korean
    assert "(operator)" not in korean
    english = render_html(report, "en")
    assert (
        f"<li>09:41 halted (file {flag})</li><li>10:02 active (alice)</li><li>10:03 active (operator)</li>"
        in (english)
    )
    # the JSON of `report --json` as before: the lines in English words
    assert report.as_dict()["halts"] == [
        f"09:41 halted (file {flag})",
        "10:02 active (alice)",
        "10:03 active (operator)",
    ]
