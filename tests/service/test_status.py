"""``service.status``: what ``maemae status --json`` and the dashboard read, as plain JSON values."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from maemae.domain.clock_time import KST
from maemae.ports.state import AuditEntry, StateChange
from maemae.service.status import status
from maemae.store.repository import SqlStateStore

DAY = date(2025, 12, 3)


def test_status_when_a_recovery_was_audited_gives_last_recovery_as_a_json_object(tmp_path: Path) -> None:
    report = {"restored_orders": 2, "found": ["20251203-000001"], "never_sent": [], "recovered_fills": []}
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        store.commit(
            StateChange(
                audit=[AuditEntry(datetime(2025, 12, 3, 8, 55, tzinfo=KST), "recovery", "start", report)]
            )
        )
        shown = json.loads(json.dumps(status(store, DAY).as_dict()))
    finally:
        store.close()
    assert shown["last_recovery"] == {"at": "2025-12-03T08:55:00+09:00", **report}


def test_status_when_no_recovery_was_audited_gives_last_recovery_null(tmp_path: Path) -> None:
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        assert status(store, DAY).last_recovery is None
    finally:
        store.close()
