"""``maemae orders`` and ``positions`` keep stock codes and order ids whole at 80 columns; ``status`` prints
the last recovery as JSON."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from maemae.cli import main
from maemae.cli.status_cmd import _table
from maemae.domain.clock_time import KST
from maemae.ports.state import AuditEntry, StateChange
from maemae.service.status import OrderRow, PositionRow
from maemae.store.repository import SqlStateStore


def _render(title: str, rows: list[object]) -> str:
    console = Console(width=80, file=io.StringIO(), color_system=None)
    _table(title, rows, console)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_orders_table_when_80_columns_wide_keeps_codes_and_order_ids_whole() -> None:
    rows: list[object] = [
        OrderRow(
            f"20250102-00000{n}",
            code,
            "buy",
            1_000,
            1_000,
            "limit",
            140_500,
            "filled",
            "strategy",
            "2025-01-02T09:01:00+09:00",
            "filled 1000 @ 140500 by the broker",
        )
        for n, code in enumerate(("287180", "0088M0"), start=1)
    ]
    text = _render("orders", rows)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "…" not in text
    for n, code in enumerate(("287180", "0088M0"), start=1):
        assert f"20250102-00000{n}" in text
        assert code in text


def test_positions_table_when_80_columns_wide_keeps_codes_whole() -> None:
    rows: list[object] = [PositionRow("287180", 1_000, 1_200, 200, 140_500_000, -1_234_567)]
    text = _render("positions", rows)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "…" not in text
    assert "287180" in text


def test_status_text_when_a_recovery_was_audited_prints_it_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        at = datetime(2025, 12, 3, 8, 55, tzinfo=KST)
        store.commit(StateChange(audit=[AuditEntry(at, "recovery", "start", {"restored_orders": 2})]))
    finally:
        store.close()
    config = tmp_path / "maemae.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/state.db"\n', encoding="utf-8")
    assert main(["status", "--config", str(config), "--day", "2025-12-03"]) == 0
    out = capsys.readouterr().out
    assert '   last_recovery: {"at": "2025-12-03T08:55:00+09:00", "restored_orders": 2}\n' in out
