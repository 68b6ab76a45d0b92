"""A store file that is not Parquet is one line naming it, for ``maemae data info`` and for every read a
backtest makes (bars, windows of them, the mapped cache, the instrument list), not a library's traceback."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.data.bar_cache import MappedBarCache
from maemae.data.bars import Timeframe
from maemae.data.sample import SampleSummary
from maemae.data.store import BarStore
from maemae.errors import DataError
from tests.user_errors import refused

CODE = "357870"


@pytest.fixture
def damaged(small_market: tuple[Path, SampleSummary], tmp_path: Path) -> Path:
    """A copy of the small market whose daily file of ``CODE`` holds two bytes of text."""
    root = tmp_path / "market"
    shutil.copytree(small_market[0], root, ignore=shutil.ignore_patterns("cache"))
    (root / "day" / f"{CODE}.parquet").write_text("x\n", encoding="utf-8")
    return root


def expected_start(root: Path) -> str:
    return f"{root / 'day' / f'{CODE}.parquet'}: not a readable Parquet file ("


def test_data_info_when_a_bar_file_is_not_parquet_names_it_in_one_line(
    damaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused(main(["data", "info", "--dir", str(damaged)]), capsys)
    assert line.startswith(f"error: {expected_start(damaged)}")
    assert line.endswith("remove it, then import or fetch that code again")


@pytest.mark.parametrize("window", [False, True], ids=["whole", "window"])
def test_store_read_when_a_bar_file_is_not_parquet_raises_a_data_error_naming_it(
    damaged: Path, window: bool
) -> None:
    store = BarStore(damaged)
    codes = store.codes(Timeframe.DAY)
    start, end = (date(2025, 12, 1), date(2025, 12, 30)) if window else (None, None)
    with pytest.raises(DataError) as raised:
        store.read_many(codes, Timeframe.DAY, start, end)
    assert str(raised.value).startswith(expected_start(damaged))


def test_mapped_cache_when_a_bar_file_is_not_parquet_raises_a_data_error_naming_it(damaged: Path) -> None:
    cache = MappedBarCache(damaged, 1 << 30)
    with pytest.raises(DataError) as raised:
        BarStore(damaged).read_arrays(CODE, Timeframe.DAY, cache=cache)
    cache.wait()
    assert str(raised.value).startswith(expected_start(damaged))


def test_instruments_when_not_parquet_names_the_file_and_how_to_write_it_again(damaged: Path) -> None:
    path = damaged / "instruments.parquet"
    path.write_bytes(b"")
    with pytest.raises(DataError) as raised:
        BarStore(damaged).read_instruments()
    assert str(raised.value).startswith(f"{path}: not a readable Parquet file (")
    assert "import the instrument list again" in str(raised.value)
