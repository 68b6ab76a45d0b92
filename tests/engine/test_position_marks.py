"""Each position's price, market value and unrealised P&L in ``maemae positions`` and the dashboard: the last
prices a run valued the held stocks at (the runtime document ``marks``, saved with the minute's portfolio
snapshot and at the close). A price, not a value, is saved: the shares held now are valued exactly at the
last mark even after a fill that came later."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.data.bars import Timeframe, day_ns
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.position import Position
from maemae.ports.state import MARKS_DOCUMENT, SavedState, StateChange
from maemae.service.status import position_rows
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import DAY, _config


def _positions(config: Path, day: date, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["positions", "--config", str(config), "--day", str(day), "--json"]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_positions_after_a_paper_day_are_valued_at_the_closes_of_the_day(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(market_root, tmp_path)
    assert main(["paper", "--config", str(config), "--replay", str(DAY), "--speed", "0"]) == 0
    held = [row for row in _positions(config, DAY, capsys) if row["owned_quantity"]]
    assert held, "the sample day must end with a position for this test to judge"
    store = BarStore(market_root)
    for row in held:
        daily = store.read_arrays(StockCode(str(row["code"])), Timeframe.DAY)
        close = int(daily.close[list(daily.ts).index(day_ns(DAY))])
        assert row["price"] == close
        assert row["market_value"] == row["owned_quantity"] * close  # type: ignore[operator]
        assert row["unrealised_pnl"] == row["market_value"] - row["cost_basis"]  # type: ignore[operator]
        assert str(row["marked_at"]).startswith(f"{DAY}T15:")


def test_positions_of_another_day_than_the_marks_are_not_valued(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(market_root, tmp_path)
    assert main(["paper", "--config", str(config), "--replay", str(DAY), "--speed", "0"]) == 0
    rows = _positions(config, DAY + timedelta(days=1), capsys)
    assert rows
    assert {(row["price"], row["market_value"], row["unrealised_pnl"], row["marked_at"]) for row in rows} == {
        (None, None, None, None)
    }


def _saved(positions: list[Position], marks: dict[str, object]) -> SavedState:
    store = SqlStateStore("sqlite://")
    try:
        store.commit(StateChange(positions=positions, runtime={MARKS_DOCUMENT: marks}))
        return store.load(DAY)
    finally:
        store.close()


def test_position_rows_value_only_maemae_owned_shares_with_a_mark() -> None:
    at = datetime.combine(DAY, time(10, 31), KST).isoformat()
    owned = Position(StockCode("005930"), owned_quantity=10, account_quantity=10, cost_basis=700_000)
    external = Position(StockCode("000660"), owned_quantity=0, account_quantity=5, cost_basis=0)
    unmarked = Position(StockCode("035720"), owned_quantity=3, account_quantity=3, cost_basis=150_000)
    saved = _saved([owned, external, unmarked], {"at": at, "prices": {"005930": 71_500, "000660": 200_000}})
    rows = {row.code: row for row in position_rows(saved, {}, DAY)}
    assert (rows["005930"].price, rows["005930"].market_value, rows["005930"].unrealised_pnl) == (
        71_500,
        715_000,
        15_000,
    )
    assert rows["005930"].marked_at == at
    assert rows["000660"].price is None  # external shares are not maemae's to value
    assert rows["035720"].price is None  # bought after the mark: no price for it yet
