"""``maemae orders`` and ``positions`` at 80 columns: one line per row, codes, ids, quantities and states
whole, the least important columns left out and the note cut instead; each stock by code and name (blank
without an instrument list, one warning with a broken one); ``status`` prints the last recovery as JSON."""

from __future__ import annotations

import io
import json
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
from tests.support.named_book import DAY, save_book, write_names


def _render(title: str, layout: Layout, rows: list[object], width: int = 80) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    _table(title, layout, rows, console)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def _order(number: int, code: str, side: Side, quantity: int, *moves: tuple[OrderEvent, str]) -> Order:
    at = datetime(2025, 12, 3, 9, number, 7, 123456, tzinfo=KST)
    order = Order(
        f"20251203-{number:06d}",
        StockCode(code),
        side,
        quantity,
        OrderType.LIMIT,
        140_500,
        at,
        asked_quantity=quantity,
    )
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


# names of two of ORDERS' stocks (0088M0 has none): in 80 columns they give way before anything else
ORDER_NAMES = {"005930": "삼성전자", "287180": "에코프로비엠"}


def _config(tmp_path: Path, data_root: Path) -> Path:
    """A config of the store ``state.db`` and the market-data store ``data_root`` under ``tmp_path``."""
    config = tmp_path / "maemae.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/state.db"\n\n[data]\nroot = "{data_root}"\n', encoding="utf-8"
    )
    return config


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
    text = _render("orders", ORDER_LAYOUT, [_order_row(o, ORDER_NAMES) for o in ORDERS])
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
    write_names(tmp_path / "market", {StockCode(code): name for code, name in ORDER_NAMES.items()})
    config = _config(tmp_path, tmp_path / "market")
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["orders", "--config", str(config), "--day", "2025-12-03"]) == 0
    _one_line_each(capsys.readouterr().out, ORDERS)


def test_orders_table_when_wide_then_every_column_and_the_whole_note() -> None:
    console = Console(width=160, file=io.StringIO(), color_system=None)
    _table("orders", ORDER_LAYOUT, [_order_row(ORDERS[1], ORDER_NAMES)], console)
    assert isinstance(console.file, io.StringIO)
    header, row = console.file.getvalue().splitlines()[1:4:2]
    assert " ".join(header.split()) == "time id code name side type qty filled price state source note"
    assert row.endswith("daily_cap_stock: 2 trades in 0088M0 today, cap 2")


MARKED = "2025-12-03T10:31:00+09:00"


def _position(name: str) -> PositionRow:
    return PositionRow(
        "287180", name, 1_000, 1_200, 200, 140_500_000, -1_234_567, 141_000, 141_000_000, 500_000, MARKED
    )


def test_positions_table_when_wide_then_every_column_with_the_mark() -> None:
    text = _render("positions", POSITION_LAYOUT, [_position("에코프로비엠")], width=160)
    header, row = text.splitlines()[1:4:2]
    assert header.split() == [
        *("code", "name", "owned", "account", "external", "cost"),
        *("price", "value", "unrealised", "realised", "priced"),
    ]
    assert row.split() == [
        *("287180", "에코프로비엠", "1,000", "1,200", "200", "140,500,000"),
        *("141,000", "141,000,000", "500,000", "-1,234,567", "10:31:00"),
    ]


def test_positions_table_when_80_columns_wide_keeps_codes_and_sums_whole() -> None:
    text = _render("positions", POSITION_LAYOUT, [_position("에코프로비엠")])
    assert all(cell_len(line) <= 80 for line in text.splitlines())
    assert "…" not in text
    # the mark's time, the name, the price and the external shares give way: --json keeps them
    assert text.splitlines()[3].split() == [
        *("287180", "1,000", "1,200", "140,500,000"),
        *("141,000,000", "500,000", "-1,234,567"),
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


def test_orders_table_when_columns_give_way_then_the_name_goes_first() -> None:
    """The code beside it says what the name says, so at every width where some column is left out, the
    name is."""
    rows: list[object] = [_order_row(o, ORDER_NAMES) for o in ORDERS]
    every = set(" ".join(c.header for c in ORDER_LAYOUT.columns).split())
    for width in range(60, 200):
        console = Console(width=width, file=io.StringIO(), color_system=None)
        _table("orders", ORDER_LAYOUT, rows, console)
        assert isinstance(console.file, io.StringIO)
        shown = set(console.file.getvalue().splitlines()[1].split())
        assert shown == every or "name" not in shown, width


def test_positions_table_when_a_long_name_does_not_fit_then_it_gives_way_and_the_sums_stay_whole() -> None:
    long_name = "미래에셋TIGER미국나스닥100커버드콜합성"  # 62 cells
    text = _render("positions", POSITION_LAYOUT, [_position(long_name)])
    assert all(cell_len(line) <= 80 for line in text.splitlines())
    assert long_name not in text
    assert text.splitlines()[3].split()[:2] == ["287180", "1,000"]


def _named_book(tmp_path: Path) -> None:
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        save_book(store)
    finally:
        store.close()


def test_positions_and_orders_when_the_list_names_their_stocks_then_the_tables_and_json_carry_the_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _named_book(tmp_path)
    write_names(tmp_path / "market")
    config = str(_config(tmp_path, tmp_path / "market"))

    assert main(["positions", "--config", config, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert list(rows[0])[:3] == ["code", "name", "owned_quantity"]
    assert [(r["code"], r["name"]) for r in rows] == [
        ("000660", "<b>하이닉스</b> & [/b]"),
        ("005930", "삼성전자"),
    ]
    assert main(["orders", "--config", config, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert list(rows[0])[:4] == ["order_id", "code", "name", "side"]
    assert [(r["code"], r["name"]) for r in rows] == [
        ("005930", "삼성전자"),
        ("000660", "<b>하이닉스</b> & [/b]"),
        ("0088M0", ""),  # not in the list
    ]

    monkeypatch.setenv("COLUMNS", "160")
    assert main(["positions", "--config", config]) == 0
    header, _, hostile, samsung = capsys.readouterr().out.splitlines()[1:5]
    assert header.split()[:3] == ["code", "name", "owned"]
    assert hostile.split()[:6] == ["000660", "<b>하이닉스</b>", "&", "[/b]", "0", "5"]  # as text, not markup
    assert samsung.split()[:3] == ["005930", "삼성전자", "10"]
    assert main(["orders", "--config", config, "--day", DAY]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:4] == ["time", "id", "code", "name"]
    assert lines[3].split()[2:5] == ["005930", "삼성전자", "buy"]
    assert lines[4].split()[2:7] == ["000660", "<b>하이닉스</b>", "&", "[/b]", "buy"]
    assert lines[5].split()[2:4] == ["0088M0", "sell"]  # a blank name


@pytest.mark.parametrize("made", [False, True], ids=["no data root", "no list in it"])
def test_positions_and_orders_when_there_is_no_instrument_list_then_blank_names_and_nothing_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], made: bool
) -> None:
    _named_book(tmp_path)
    root = tmp_path / "market"
    if made:
        root.mkdir()
    config = str(_config(tmp_path, root))
    assert main(["positions", "--config", config, "--json"]) == 0
    assert main(["orders", "--config", config, "--json"]) == 0
    positions, orders = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert [p["name"] for p in positions] == ["", ""]
    assert [o["name"] for o in orders] == ["", "", ""]
    assert main(["positions", "--config", config]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[4].split()[:2] == ["005930", "10"]
    assert captured.err == ""
    assert (list(root.iterdir()) == []) if made else not root.exists()


def test_positions_and_orders_when_the_list_is_broken_then_one_warning_and_still_their_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _named_book(tmp_path)
    (tmp_path / "market").mkdir()
    broken = tmp_path / "market" / "instruments.parquet"
    broken.write_bytes(b"half a file")
    config = str(_config(tmp_path, tmp_path / "market"))
    for command in ("positions", "orders"):
        assert main([command, "--config", config, "--json"]) == 0
        captured = capsys.readouterr()
        assert {row["name"] for row in json.loads(captured.out)} == {""}  # stdout is JSON still
        (warning,) = captured.err.splitlines()
        assert warning.startswith(f"warning: stock names left blank: {broken}: not a readable Parquet file")
    assert main(["status", "--config", config]) == 0
    assert capsys.readouterr().err == ""


def test_orders_table_when_a_denied_buy_left_the_number_to_the_sizing_then_its_quantity_is_blank() -> None:
    at = datetime(2025, 12, 3, 9, 5, tzinfo=KST)
    denied = Order("20251203-000009", StockCode("000660"), Side.BUY, 1, OrderType.MARKET, None, at)
    denied.apply(OrderEvent.DENY, at, "cooldown: 20 minutes left of 30")  # asked_quantity None: sizing's
    text = _render("orders", ORDER_LAYOUT, [_order_row(denied, {})], width=160)
    row = text.splitlines()[3]
    assert row.split()[:7] == ["09:05:00", "20251203-000009", "000660", "buy", "market", "0", "denied"]
