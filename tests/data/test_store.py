from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from maemae.data.bars import BarArrays, Timeframe
from maemae.data.instruments import Instrument
from maemae.data.parquet_io import arrays_to_table
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market

CODE = StockCode("005930")


def minute_frame(start: str, periods: int, price: int = 70_000) -> pd.DataFrame:
    ts = pd.date_range(start, periods=periods, freq="min", tz="Asia/Seoul")
    return pd.DataFrame(
        {
            "ts": ts,
            "open": price,
            "high": price + 100,
            "low": price - 100,
            "close": price,
            "volume": 10,
            "value": price * 10,
        }
    )


def test_write_and_read_when_minute_bars_span_years_round_trip(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    frame = pd.concat([minute_frame("2024-12-30 09:00", 3), minute_frame("2025-01-02 10:00", 2)])
    store.write(CODE, Timeframe.MINUTE, frame)
    assert sorted(p.name for p in (tmp_path / "minute" / "005930").iterdir()) == [
        "2024.parquet",
        "2025.parquet",
    ]
    back = store.read_frame(CODE, Timeframe.MINUTE)
    assert back["ts"].tolist() == frame["ts"].tolist()
    assert back["close"].dtype == np.int64
    assert len(store.read_arrays(CODE, Timeframe.MINUTE, start=date(2025, 1, 1))) == 2
    assert len(store.read_arrays(CODE, Timeframe.MINUTE, end=date(2024, 12, 30))) == 3


def test_has_minute_year_when_minute_files_are_stored_names_their_years_only(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    assert not store.has_minute_year(2025)  # no minute folder at all
    store.write(CODE, Timeframe.MINUTE, minute_frame("2024-12-30 09:00", 3))
    store.write_arrays(StockCode("357870"), Timeframe.DAY, store.read_arrays(CODE, Timeframe.MINUTE))
    assert store.has_minute_year(2024)
    assert not store.has_minute_year(2025)  # daily bars are not minute bars


def test_write_when_bars_stored_uses_delta_encoding_with_lz4_and_duckdb_reads_them(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    frame = minute_frame("2025-03-04 09:00", 500)
    store.write(CODE, Timeframe.MINUTE, frame)
    store.write(CODE, Timeframe.DAY, frame.iloc[:1].assign(ts=pd.Timestamp("2025-03-04", tz="Asia/Seoul")))
    for path in [tmp_path / "minute" / "005930" / "2025.parquet", tmp_path / "day" / "005930.parquet"]:
        for index in range(7):
            column = pq.ParquetFile(path).metadata.row_group(0).column(index)
            assert column.compression == "LZ4"
            assert "DELTA_BINARY_PACKED" in column.encodings
            assert "PLAIN_DICTIONARY" not in column.encodings
    with duckdb.connect() as connection:
        rows = connection.execute(
            "SELECT count(*), sum(close) FROM read_parquet(?)",
            [str(tmp_path / "minute" / "005930" / "2025.parquet")],
        ).fetchall()
    assert rows == [(500, 500 * 70_000)]


def test_read_when_file_written_with_zstd_dictionary_pages_reads_it_unchanged(tmp_path: Path) -> None:
    """Stores written by earlier versions (Parquet's default pages, zstd, nullable columns) are read as they
    are."""
    path = tmp_path / "minute" / "005930" / "2025.parquet"
    path.parent.mkdir(parents=True)
    frame = minute_frame("2025-03-04 09:00", 30)
    required = arrays_to_table(BarArrays.from_frame(frame))
    nullable = pa.Table.from_arrays(required.columns, names=required.column_names)
    pq.write_table(nullable, path, compression="zstd")
    assert all(field.nullable for field in pq.read_schema(path))
    back = BarStore(tmp_path).read_frame(CODE, Timeframe.MINUTE)
    assert back["ts"].tolist() == frame["ts"].tolist()
    assert back["value"].tolist() == frame["value"].tolist()


def test_merge_when_bars_overlap_new_replace_old_and_order_kept(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write(CODE, Timeframe.MINUTE, minute_frame("2025-03-04 09:00", 3, 100))
    store.merge(CODE, Timeframe.MINUTE, BarArrays.from_frame(minute_frame("2025-03-04 09:02", 2, 200)))
    back = store.read_arrays(CODE, Timeframe.MINUTE)
    assert back.close.tolist() == [100, 100, 200, 200]
    assert np.all(np.diff(back.ts) > 0)


def test_write_when_it_fails_midway_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = BarStore(tmp_path)
    store.write(CODE, Timeframe.DAY, minute_frame("2025-03-04 00:00", 1, 100))

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("maemae.data.parquet_io.pq.write_table", boom)
    with pytest.raises(OSError, match="disk full"):
        store.write(CODE, Timeframe.DAY, minute_frame("2025-03-05 00:00", 1, 999))
    assert store.read_arrays(CODE, Timeframe.DAY).close.tolist() == [100]
    assert [p.name for p in (tmp_path / "day").iterdir()] == ["005930.parquet"]


def test_instruments_when_written_read_back_equal(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    items = [
        Instrument(CODE, "삼성전자", Market.KOSPI, InstrumentType.STOCK, listed=date(1975, 6, 11)),
        Instrument(StockCode("357870"), "CD ETF", Market.KOSPI, InstrumentType.ETF),
        Instrument(
            StockCode("091990"),
            "셀트리온헬스케어",
            Market.KOSDAQ,
            listed=date(2017, 7, 28),
            delisted=date(2024, 1, 12),
        ),
    ]
    store.write_instruments(items)
    assert store.read_instruments() == {item.code: item for item in items}


def test_read_many_when_codes_given_returns_each(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    for code in ("000010", "000020"):
        store.write(StockCode(code), Timeframe.MINUTE, minute_frame("2025-03-04 09:00", 4))
    loaded = store.read_many(store.codes(Timeframe.MINUTE), Timeframe.MINUTE)
    assert {code: len(bars) for code, bars in loaded.items()} == {"000010": 4, "000020": 4}
