"""The minute bars a live day built, on a real SQLite file and a real PostgreSQL server: appended by the
checkpoints, read back by day and stock in time order, deleted with the day's close; and a store made by the
maemae before them (schema 0001) refused until ``maemae db migrate`` adds their table."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from maemae.cli import main
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.minute_bar import MinuteBar
from maemae.errors import StoreError
from maemae.ports.state import StateChange
from maemae.store.database import alembic_config
from maemae.store.repository import SqlStateStore

DAY = date(2025, 12, 3)
SAMSUNG, HYNIX = StockCode("005930"), StockCode("000660")


def _bar(day: date, minute: int, close: int) -> MinuteBar:
    start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=KST) + timedelta(minutes=minute)
    return MinuteBar(start, close - 100, close + 100, close - 200, close, 1_000 + minute, close * 1_000)


def test_live_minute_bars_when_checkpoints_append_then_read_back_by_stock_in_order_and_gone_at_the_close(
    database_url: str,
) -> None:
    store = SqlStateStore(database_url)
    try:
        _append_read_and_close(store)
    finally:
        store.close()


def _append_read_and_close(store: SqlStateStore) -> None:
    earlier = date(2025, 12, 2)
    store.commit(StateChange(minute_bars={SAMSUNG: [_bar(earlier, 0, 70_000)]}))  # a day that never closed
    store.commit(StateChange(minute_bars={SAMSUNG: [_bar(DAY, 0, 71_000)], HYNIX: [_bar(DAY, 0, 180_000)]}))
    store.commit(StateChange(minute_bars={SAMSUNG: [_bar(DAY, 1, 71_100), _bar(DAY, 2, 71_200)], HYNIX: []}))
    bars = store.live_minute_bars(DAY)
    assert bars == {
        SAMSUNG: [_bar(DAY, 0, 71_000), _bar(DAY, 1, 71_100), _bar(DAY, 2, 71_200)],
        HYNIX: [_bar(DAY, 0, 180_000)],
    }
    assert all(bar.start.tzinfo == KST for bar in bars[SAMSUNG])
    assert store.live_minute_bars(earlier) == {SAMSUNG: [_bar(earlier, 0, 70_000)]}
    assert not StateChange(minute_bars={SAMSUNG: []})  # nothing to write: no transaction
    store.commit(StateChange(minute_bars_done=DAY))  # the close: this day's and older days' go
    assert store.live_minute_bars(DAY) == {}
    assert store.live_minute_bars(earlier) == {}


def test_store_of_schema_0001_when_opened_then_refused_until_db_migrate_adds_the_bars_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    engine.dispose()
    with pytest.raises(StoreError, match="schema revision 0001 is older than this maemae's 0003: back it up"):
        SqlStateStore(url)
    assert main(["db", "migrate", "--url", url]) == 0
    assert "0001 -> 0003" in capsys.readouterr().out
    store = SqlStateStore(url)
    try:
        assert "live_minute_bars" in inspect(store.engine).get_table_names()
        store.commit(StateChange(minute_bars={SAMSUNG: [_bar(DAY, 0, 71_000)]}))
        assert store.live_minute_bars(DAY) == {SAMSUNG: [_bar(DAY, 0, 71_000)]}
    finally:
        store.close()


def test_live_minute_bars_when_a_stock_is_rewritten_then_its_saved_bars_of_the_day_are_the_new_ones(
    database_url: str,
) -> None:
    """The broker's chart came in after the run had saved bars it built (a slow chart at a start): the
    stock's bars of the day are replaced, a minute the chart lacks included; other stocks' stay."""
    store = SqlStateStore(database_url)
    try:
        built = [_bar(DAY, 30, 71_000), _bar(DAY, 31, 71_050)]
        store.commit(StateChange(minute_bars={SAMSUNG: built, HYNIX: [_bar(DAY, 30, 180_000)]}))
        chart = [_bar(DAY, 0, 70_500), _bar(DAY, 1, 70_600), _bar(DAY, 31, 71_100)]
        store.commit(StateChange(minute_bars={SAMSUNG: chart}, minute_bars_rewritten={SAMSUNG}))
        assert store.live_minute_bars(DAY) == {SAMSUNG: chart, HYNIX: [_bar(DAY, 30, 180_000)]}
    finally:
        store.close()
