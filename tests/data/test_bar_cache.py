"""The memory-mapped copies of minute files: the same bars as Parquet, made again when their file changes,
kept under the size cap, and never in the way when they cannot be written."""

import os
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from structlog.testing import capture_logs

from maemae.data.bar_cache import MappedBarCache
from maemae.data.bars import BAR_COLUMNS, BarArrays, Timeframe
from maemae.data.store import BarStore, read_codes
from maemae.domain.codes import StockCode

CODE = StockCode("005930")


def minutes(start: str, periods: int, price: int) -> pd.DataFrame:
    ts = pd.date_range(start, periods=periods, freq="min", tz="Asia/Seoul")
    close = price + 10 * np.arange(periods)
    return pd.DataFrame(
        {
            "ts": ts,
            "open": close - 10,
            "high": close + 20,
            "low": close - 20,
            "close": close,
            "volume": np.arange(periods) + 1,
            "value": close * (np.arange(periods) + 1),
        }
    )


def two_year_store(root: Path) -> BarStore:
    store = BarStore(root)
    frame = pd.concat([minutes("2024-12-30 09:00", 300, 70_000), minutes("2025-01-02 09:00", 500, 71_000)])
    store.write(CODE, Timeframe.MINUTE, frame)
    return store


def mapped_from(array: np.ndarray, path: Path) -> bool:
    """Whether ``array``'s memory lies in a mapping of the file ``path`` (from /proc/self/maps)."""
    address = array.ctypes.data
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)  # address range, mode, offset, device, inode, [file]
        low, high = (int(part, 16) for part in fields[0].split("-"))
        if low <= address < high:
            return len(fields) == 6 and fields[5] == str(path)
    return False


def same(left: BarArrays, right: BarArrays) -> bool:
    return all(np.array_equal(getattr(left, name), getattr(right, name)) for name in BAR_COLUMNS)


def test_read_when_cached_equals_parquet_and_maps_without_copy(tmp_path: Path) -> None:
    store = two_year_store(tmp_path)
    cache = MappedBarCache(store.root, 2**30)
    for start, end in [(None, None), (date(2025, 1, 2), None), (date(2024, 12, 30), date(2024, 12, 30))]:
        assert same(
            store.read_arrays(CODE, Timeframe.MINUTE, start, end, cache=cache),
            store.read_arrays(CODE, Timeframe.MINUTE, start, end),
        )
    cache.wait()  # the copies are written by a thread of the cache's own
    assert cache.copies_made == 2  # one a year file, made on the first read only
    assert sorted(p.name for p in (tmp_path / "cache" / "minute" / str(CODE)).iterdir()) == [
        "2024.bars",
        "2025.bars",
    ]
    mapped = store.read_arrays(CODE, Timeframe.MINUTE, date(2025, 1, 1), cache=cache)
    assert same(mapped, store.read_arrays(CODE, Timeframe.MINUTE, date(2025, 1, 1)))
    assert not mapped.close.flags.writeable
    if Path("/proc/self/maps").exists():  # Linux: the column's memory is the copy's file, mapped
        assert mapped_from(mapped.close, tmp_path / "cache" / "minute" / str(CODE) / "2025.bars")
    cache.wait()
    assert cache.copies_made == 2  # the later reads mapped the copies: none was made again


def test_read_when_parquet_rewritten_makes_the_copy_again(tmp_path: Path) -> None:
    store = two_year_store(tmp_path)
    cache = MappedBarCache(store.root, 2**30)
    store.read_arrays(CODE, Timeframe.MINUTE, cache=cache)
    cache.wait()
    store.write(CODE, Timeframe.MINUTE, minutes("2025-03-04 09:00", 7, 5_000))
    again = store.read_arrays(CODE, Timeframe.MINUTE, cache=cache)
    assert again.close.tolist() == [5_000 + 10 * i for i in range(7)]
    cache.wait()
    assert store.read_arrays(CODE, Timeframe.MINUTE, cache=cache).close.tolist() == again.close.tolist()
    assert cache.copies_made == 3


def test_read_when_copy_is_truncated_or_foreign_makes_it_again(tmp_path: Path) -> None:
    store = two_year_store(tmp_path)
    cache = MappedBarCache(store.root, 2**30)
    expected = store.read_arrays(CODE, Timeframe.MINUTE)
    store.read_arrays(CODE, Timeframe.MINUTE, cache=cache)
    cache.wait()
    copy = tmp_path / "cache" / "minute" / str(CODE) / "2025.bars"
    copy.write_bytes(copy.read_bytes()[:1000])  # a copy cut short
    assert same(store.read_arrays(CODE, Timeframe.MINUTE, cache=cache), expected)
    cache.wait()
    copy.write_bytes(b"not a copy of bars")
    assert same(store.read_arrays(CODE, Timeframe.MINUTE, cache=cache), expected)
    cache.wait()
    assert same(store.read_arrays(CODE, Timeframe.MINUTE, cache=cache), expected)  # mapped again
    assert cache.copies_made == 4


def test_read_when_cache_is_over_its_cap_removes_the_copy_used_longest_ago(tmp_path: Path) -> None:
    store = two_year_store(tmp_path)
    one_file = 500 * len(BAR_COLUMNS) * 8 + 4096  # the bigger year's columns and the copy's header
    cache = MappedBarCache(store.root, one_file)
    expected = store.read_arrays(CODE, Timeframe.MINUTE, date(2024, 1, 1), date(2024, 12, 31))
    directory = tmp_path / "cache" / "minute" / str(CODE)
    store.read_arrays(CODE, Timeframe.MINUTE, date(2025, 1, 1), cache=cache)
    cache.wait()
    old = time.time() - 60
    os.utime(directory / "2025.bars", (old, old))
    bars = store.read_arrays(CODE, Timeframe.MINUTE, date(2024, 1, 1), date(2024, 12, 31), cache=cache)
    cache.wait()
    assert same(bars, expected)
    assert [p.name for p in directory.iterdir()] == ["2024.bars"]
    assert cache.size() <= one_file


def test_read_when_copy_cannot_be_written_returns_parquet_bars_and_warns_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = two_year_store(tmp_path)
    cache = MappedBarCache(store.root, 2**30)
    expected = store.read_arrays(CODE, Timeframe.MINUTE)

    def refused(*args: object) -> None:
        raise PermissionError("read-only store")

    monkeypatch.setattr("maemae.data.bar_cache.os.replace", refused)
    with capture_logs() as logs:
        bars = store.read_arrays(CODE, Timeframe.MINUTE, cache=cache)
        cache.wait()
    assert same(bars, expected)
    assert [entry["event"] for entry in logs] == ["bar_cache_unwritable"]
    assert cache.copies_made == 0
    assert list((tmp_path / "cache").rglob("*")) == [
        tmp_path / "cache" / "minute",
        tmp_path / "cache" / "minute" / str(CODE),
    ]


def test_trim_when_a_writer_died_long_ago_removes_its_temporary_file(tmp_path: Path) -> None:
    store = two_year_store(tmp_path)
    directory = tmp_path / "cache" / "minute" / str(CODE)
    directory.mkdir(parents=True)
    abandoned, recent = directory / ".2024.bars.x1.tmp", directory / ".2024.bars.x2.tmp"
    abandoned.write_bytes(b"half")
    recent.write_bytes(b"being written")
    old = time.time() - 2 * 3600
    os.utime(abandoned, (old, old))
    cache = MappedBarCache(store.root, 2**30)
    cache.read(tmp_path / "minute" / str(CODE) / "2024.parquet")
    cache.wait()
    assert sorted(p.name for p in directory.iterdir()) == [".2024.bars.x2.tmp", "2024.bars"]


def test_read_when_directory_given_keeps_the_copies_there(tmp_path: Path) -> None:
    store = two_year_store(tmp_path / "store")
    cache = MappedBarCache(store.root, 2**30, tmp_path / "local")
    assert same(
        store.read_arrays(CODE, Timeframe.MINUTE, cache=cache), store.read_arrays(CODE, Timeframe.MINUTE)
    )
    cache.wait()
    assert sorted(p.name for p in (tmp_path / "local" / "minute" / str(CODE)).iterdir()) == [
        "2024.bars",
        "2025.bars",
    ]
    assert not (tmp_path / "store" / "cache").exists()


def test_read_mapped_when_every_year_has_a_copy_maps_the_bars_else_gives_none(tmp_path: Path) -> None:
    store = two_year_store(tmp_path)
    cache = MappedBarCache(store.root, 2**30)
    assert store.read_mapped(CODE, Timeframe.MINUTE, cache) is None  # no copy yet: nothing decoded
    assert cache.copies_made == 0
    store.read_arrays(CODE, Timeframe.MINUTE, date(2025, 1, 2), cache=cache)  # copies the 2025 file only
    cache.wait()
    assert store.read_mapped(CODE, Timeframe.MINUTE, cache, date(2024, 12, 30)) is None  # 2024 has none
    later = store.read_mapped(CODE, Timeframe.MINUTE, cache, date(2025, 1, 2), date(2025, 1, 2))
    assert later is not None
    assert same(later, store.read_arrays(CODE, Timeframe.MINUTE, date(2025, 1, 2), date(2025, 1, 2)))
    store.read_arrays(CODE, Timeframe.MINUTE, cache=cache)
    cache.wait()
    every = store.read_mapped(CODE, Timeframe.MINUTE, cache)
    assert every is not None
    assert same(every, store.read_arrays(CODE, Timeframe.MINUTE))
    assert cache.copies_made == 2


def test_read_codes_when_some_are_mapped_reads_only_the_others_in_threads_in_order() -> None:
    codes = [StockCode(f"{n:06d}") for n in (5, 1, 4, 2, 3)]
    bars = {code: BarArrays.empty() for code in codes}
    at_once = {codes[1], codes[3]}
    decoded: list[tuple[StockCode, str]] = []

    def read(code: StockCode) -> BarArrays:
        decoded.append((code, threading.current_thread().name))
        return bars[code]

    def read_at_once(code: StockCode) -> BarArrays | None:
        return bars[code] if code in at_once else None

    found = read_codes(codes, read, read_at_once)
    assert list(found) == codes  # the caller's order
    assert all(found[code] is bars[code] for code in codes)
    assert sorted(code for code, _ in decoded) == sorted(set(codes) - at_once)
    assert all(thread != threading.main_thread().name for _, thread in decoded)  # decoded in threads
    decoded.clear()
    assert read_codes(codes[:1], read) == {codes[0]: bars[codes[0]]}
    assert decoded == [(codes[0], threading.main_thread().name)]  # one file: no threads for it


def test_read_when_copy_is_longer_than_its_header_says_makes_it_again(tmp_path: Path) -> None:
    store = two_year_store(tmp_path)
    cache = MappedBarCache(store.root, 2**30)
    expected = store.read_arrays(CODE, Timeframe.MINUTE)
    store.read_arrays(CODE, Timeframe.MINUTE, cache=cache)
    cache.wait()
    copy = tmp_path / "cache" / "minute" / str(CODE) / "2025.bars"
    copy.write_bytes(copy.read_bytes() + bytes(8))  # one value too many: not the copy that was written
    assert same(store.read_arrays(CODE, Timeframe.MINUTE, cache=cache), expected)
    cache.wait()
    assert cache.copies_made == 3
    assert copy.stat().st_size == 128 + 500 * len(BAR_COLUMNS) * 8  # the header, then the columns


def test_read_when_file_has_no_bars_maps_an_empty_copy(tmp_path: Path) -> None:
    store = two_year_store(tmp_path)
    source = tmp_path / "minute" / str(CODE) / "2024.parquet"
    pq.write_table(pq.read_table(source).slice(0, 0), source)  # the same columns, no rows
    cache = MappedBarCache(store.root, 2**30)
    assert len(cache.read(source)) == 0
    cache.wait()
    mapped = cache.mapped(source)
    assert mapped is not None
    assert len(mapped) == 0
    assert (tmp_path / "cache" / "minute" / str(CODE) / "2024.bars").stat().st_size == 128  # the header
    assert cache.copies_made == 1


def test_first_write_removes_copies_of_the_earlier_arrow_layout(tmp_path: Path) -> None:
    store = two_year_store(tmp_path)
    directory = tmp_path / "cache" / "minute" / str(CODE)
    directory.mkdir(parents=True)
    (directory / "2024.arrow").write_bytes(b"an Arrow IPC copy from before")
    cache = MappedBarCache(store.root, 2**30)
    store.read_arrays(CODE, Timeframe.MINUTE, date(2025, 1, 2), cache=cache)
    cache.wait()
    assert sorted(p.name for p in directory.iterdir()) == ["2025.bars"]
