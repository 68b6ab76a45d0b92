"""Over HTTP: ``/api/view`` names each position's and order's stock beside its code, from the instrument list
read once when the dashboard started; without a list, or with a broken one (logged), the names are blank and
the dashboard serves."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from maemae.data.store import INSTRUMENTS_FILE
from tests.support.named_book import SAMSUNG, UNNAMED, write_names
from tests.web.conftest import Served, serve_named_book

served_named_book = contextmanager(serve_named_book)


def _view(served: Served) -> dict[str, Any]:
    response = httpx.get(served.url + "/api/view", headers={"Authorization": f"Bearer {served.token}"})
    assert response.status_code == 200
    view: dict[str, Any] = response.json()
    return view


def _names(view: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(code, name) of every position and order shown."""
    return (
        [(p["code"], p["name"]) for p in view["positions"]],
        [(o["code"], o["name"]) for o in view["orders"]],
    )


def test_view_when_the_list_names_the_stocks_then_each_row_has_its_name_read_at_the_start(
    served_named: Served, tmp_path: Path
) -> None:
    view = _view(served_named)
    assert list(view["positions"][0])[:3] == ["code", "name", "owned_quantity"]
    assert list(view["orders"][0])[:4] == ["order_id", "code", "name", "side"]
    shown = (
        [("000660", "<b>하이닉스</b> & [/b]"), ("005930", "삼성전자")],
        [("0088M0", ""), ("000660", "<b>하이닉스</b> & [/b]"), ("005930", "삼성전자")],  # newest first
    )
    assert _names(view) == shown
    # a new list is read at the next start, not on a poll every 2 seconds
    write_names(tmp_path / "market", {SAMSUNG: "삼성전자우", UNNAMED: "새 이름"})
    assert _names(_view(served_named)) == shown


def test_view_when_there_is_no_instrument_list_then_blank_names_and_nothing_made(tmp_path: Path) -> None:
    missing = tmp_path / "no-market"
    with served_named_book(tmp_path, missing) as served:
        positions, orders = _names(_view(served))
        assert {name for _, name in positions + orders} == {""}
        assert "stock_names_unread" not in served.log_lines()
    assert not missing.exists()


def test_view_when_the_list_is_broken_then_blank_names_and_a_warning_in_the_log(tmp_path: Path) -> None:
    broken = tmp_path / "market" / INSTRUMENTS_FILE
    broken.parent.mkdir()
    broken.write_bytes(b"half a file")
    with served_named_book(tmp_path, broken.parent) as served:
        positions, orders = _names(_view(served))
        assert {name for _, name in positions + orders} == {""}
        (warning,) = [line for line in served.log_lines().splitlines() if "stock_names_unread" in line]
        assert '"level": "warning"' in warning
        assert f"{broken}: not a readable Parquet file" in warning
