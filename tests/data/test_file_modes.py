"""Files written atomically (bar files, mapped copies) get the mode a plain ``open()`` gives under the
process's umask, not ``tempfile.mkstemp``'s 0600: the store is shared with other users and tools."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from maemae.data.bar_cache import MappedBarCache
from maemae.data.bars import BarArrays, Timeframe
from maemae.data.parquet_io import create_temporary, write_bars_atomically
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode

CODE = StockCode("005930")


@pytest.fixture
def umask() -> Iterator[None]:
    """Restores the process's umask after a test that sets its own."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def bars(count: int = 5) -> BarArrays:
    ts = np.datetime64("2025-03-04T00:00", "ns").astype(np.int64) + np.arange(count) * 60 * 10**9
    price = np.full(count, 70_000, dtype=np.int64)
    return BarArrays(ts, price, price, price, price, np.ones(count, np.int64), price)


@pytest.mark.usefixtures("umask")
def test_write_bars_atomically_when_umask_022_is_mode_644(tmp_path: Path) -> None:
    path = tmp_path / "day" / "005930.parquet"
    write_bars_atomically(bars(), path)
    assert mode(path) == 0o644


@pytest.mark.usefixtures("umask")
def test_write_bars_atomically_when_umask_027_follows_it(tmp_path: Path) -> None:
    os.umask(0o027)
    path = tmp_path / "005930.parquet"
    write_bars_atomically(bars(), path)
    assert mode(path) == 0o640


@pytest.mark.usefixtures("umask")
def test_store_files_when_umask_022_are_mode_644(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_arrays(CODE, Timeframe.DAY, bars())
    store.write_arrays(CODE, Timeframe.MINUTE, bars())
    written = sorted(tmp_path.rglob("*.parquet"))
    assert len(written) == 2
    assert {path.name: mode(path) for path in written} == {path.name: 0o644 for path in written}


@pytest.mark.usefixtures("umask")
def test_bar_cache_copy_when_umask_022_is_mode_644(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_arrays(CODE, Timeframe.MINUTE, bars())
    cache = MappedBarCache(store.root, 2**30)
    store.read_arrays(CODE, Timeframe.MINUTE, cache=cache)
    cache.wait()
    copies = list((tmp_path / "cache").rglob("*.bars"))
    assert cache.copies_made == 1
    assert [mode(path) for path in copies] == [0o644]


def test_create_temporary_when_called_twice_gives_two_hidden_files_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "2025.bars"
    first, first_path = create_temporary(target)
    second, second_path = create_temporary(target)
    os.close(first)
    os.close(second)
    assert first_path != second_path
    for path in (first_path, second_path):
        assert path.parent == tmp_path
        assert path.name.startswith(".2025.bars.")
        assert path.name.endswith(".tmp")  # what the cache's trim recognises as a temporary file
    assert not target.exists()
