"""``maemae orders`` and ``positions`` at 80 columns: one line per row, codes, ids, quantities and states
whole, the least important columns left out and the note cut instead; ``status`` prints the last recovery as
JSON."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from maemae.cli import main
from maemae.cli.status_cmd import ORDER_LAYOUT, POSITION_LAYOUT, Layout, _table
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.fill import Fill
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent
from maemae.ports.state import AuditEntry, StateChange
from maemae.service.status import PositionRow, _order_row
from maemae.store.repository import SqlStateStore


def _render(title: str, layout: Layout, rows: list[object]) -> str:
    console = Console(width=80, file=io.StringIO(), color_system=None)
    _table(title, layout, rows, console)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def _order(number: int, code: str, side: Side, quantity: int, *moves: tuple[OrderEvent, str]) -> Order:
    at = datetime(2025, 12, 3, 9, number, 7, 123456, tzinfo=KST)
    order = Order(f"20251203-{number:06d}", StockCode(code), side, quantity, OrderType.LIMIT, 140_500, at)
    for event, note in moves:
        order.apply(event, at, note)
    return order


def _partially_filled() -> Order:
    order = _order(1, "005930", Side.BUY, 12_000, (OrderEvent.SUBMIT, "buy"), (OrderEvent.ACCEPT, "0001"))
    order.record_fill(
        Fill("F1", order.order_id, "0001", order.code, Side.BUY, 250, 140_500, order.created_at)
    )
    return order


# the longest state, a denial reason longer than the room left, a note in Korean (two cells a character)
ORDERS = [
    _partially_filled(),
    _order(2, "0088M0", Side.SELL, 7, (OrderEvent.DENY, "daily_cap_stock: 2 trades in 0088M0 today, cap 2")),
    _order(3, "287180", Side.BUY, 3, (OrderEvent.SUBMIT, "매수 신호: 이동평균 골든크로스")),
]


def _one_line_each(text: str, orders: list[Order]) -> None:
    """Each order on one line of at most 80 cells, with its code, side, quantity and state whole."""
    lines = text.splitlines()
    assert all(cell_len(line) <= 80 for line in lines)
    assert len(lines) == 3 + len(orders)  # title, header, rule, then one line per order: nothing wrapped
    for order, line in zip(orders, lines[3:], strict=True):
        assert line.split()[:6] == [
            order.created_at.strftime("%H:%M:%S"),
            order.order_id,
            order.code,
            order.side.value,
            f"{order.quantity:,}",
            order.state.value,
        ]


def test_orders_table_when_80_columns_wide_then_one_line_per_order_with_its_terms_whole() -> None:
    text = _render("orders", ORDER_LAYOUT, [_order_row(o) for o in ORDERS])
    _one_line_each(text, ORDERS)
    assert "daily_cap_st…" in text  # the reason, cut to the room left


def test_orders_when_run_in_80_columns_then_one_line_per_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        store.commit(StateChange(orders=ORDERS))
    finally:
        store.close()
    config = tmp_path / "maemae.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/state.db"\n', encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["orders", "--config", str(config), "--day", "2025-12-03"]) == 0
    _one_line_each(capsys.readouterr().out, ORDERS)


def test_orders_table_when_wide_then_every_column_and_the_whole_note() -> None:
    console = Console(width=160, file=io.StringIO(), color_system=None)
    _table("orders", ORDER_LAYOUT, [_order_row(ORDERS[1])], console)
    assert isinstance(console.file, io.StringIO)
    header, row = console.file.getvalue().splitlines()[1:4:2]
    assert " ".join(header.split()) == "time id code side type qty filled price state source note"
    assert row.endswith("daily_cap_stock: 2 trades in 0088M0 today, cap 2")


def test_positions_table_when_80_columns_wide_keeps_codes_and_sums_whole() -> None:
    rows: list[object] = [PositionRow("287180", 1_000, 1_200, 200, 140_500_000_000, -1_234_567_890)]
    text = _render("positions", POSITION_LAYOUT, rows)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "…" not in text
    assert text.splitlines()[3].split() == [
        "287180",
        "1,000",
        "1,200",
        "200",
        "140,500,000,000",
        "-1,234,567,890",
    ]


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
