"""Backtests on the memory-mapped copies of the minute files trade exactly as on Parquet, and a run whose
year files do not fit the cache reads Parquet."""

import shutil
from datetime import date
from pathlib import Path
from typing import Any

from maemae.backtest.minute_feed import StoredMinutes, year_files_bytes
from maemae.backtest.service import load_market, run_backtest
from maemae.krx.calendar import default_calendar
from maemae.krx.exceptions import CALENDAR_START
from tests.backtest.conftest import make_config

START, END = date(2025, 11, 17), date(2025, 12, 5)


def fills(result: Any) -> list[tuple[Any, ...]]:
    return [(f.fill_id, f.code, f.side, f.quantity, f.price, f.ts) for f in result.recorder.fills]


def test_backtest_when_bars_are_mapped_trades_exactly_as_on_parquet(
    market_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "market"
    shutil.copytree(market_root, root, ignore=shutil.ignore_patterns("cache"))
    mapped_config = make_config(root)
    loaded = load_market(mapped_config, START, END, backtest=True)
    source = loaded[0].minute.source
    assert isinstance(source, StoredMinutes)
    assert source.cache is not None
    source.cache.wait()  # a copy of every daily and minute file
    assert source.cache.copies_made == len(list(root.glob("*/**/*.parquet")))
    assert len(list((root / "cache" / "day").glob("*.bars"))) == len(list((root / "day").glob("*.parquet")))

    mapped = run_backtest(mapped_config, start=START, end=END, loaded=loaded)
    reloaded = load_market(mapped_config, START, END, backtest=True)
    source = reloaded[0].minute.source
    assert isinstance(source, StoredMinutes)
    assert source.cache is not None
    assert source.cache.copies_made == 0  # every copy reused
    again = run_backtest(mapped_config, start=START, end=END, loaded=reloaded)
    parquet = run_backtest(make_config(root, backtest={"mapped_cache_mib": 0}), start=START, end=END)

    assert fills(mapped) == fills(parquet) == fills(again)
    assert mapped.metrics == parquet.metrics == again.metrics
    assert len(fills(parquet)) > 10, "the scenario must actually trade"


def test_backtest_when_year_files_do_not_fit_the_cache_reads_parquet(
    market_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "market"
    shutil.copytree(market_root, root, ignore=shutil.ignore_patterns("cache"))
    market, _ = load_market(make_config(root, backtest={"mapped_cache_mib": 1}), START, END, backtest=True)
    source = market.minute.source
    assert isinstance(source, StoredMinutes)
    assert source.cache is None
    assert not (root / "cache" / "minute").exists()  # the daily files are mapped still


def test_paper_and_exchange_markets_when_loaded_read_parquet(market_root: Path) -> None:
    market, _ = load_market(make_config(market_root), START, END)  # backtest=False: a replay or a server
    source = market.minute.source
    assert isinstance(source, StoredMinutes)
    assert source.cache is None


def test_year_files_bytes_when_run_starts_in_the_calendars_first_year_counts_from_its_first_day() -> None:
    calendar = default_calendar()
    first_year = len(calendar.sessions(CALENDAR_START, date(2006, 12, 31)))
    assert year_files_bytes(2, calendar, date(2006, 3, 2), date(2006, 5, 1)) == 2 * first_year * 381 * 56
