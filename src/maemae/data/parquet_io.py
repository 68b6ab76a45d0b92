"""Reading and writing bar arrays as Parquet files, atomically.

A write goes to a temporary file in the same directory, is flushed to disk, then renamed over the old file,
so a crash or a full disk leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from maemae.data.bars import BAR_COLUMNS, BarArrays

TS_TYPE = pa.timestamp("ns", tz="Asia/Seoul")


def arrays_to_table(bars: BarArrays) -> pa.Table:
    columns = [pa.array(bars.ts, type=pa.int64()).cast(TS_TYPE)]
    columns += [pa.array(getattr(bars, name), type=pa.int64()) for name in BAR_COLUMNS[1:]]
    return pa.Table.from_arrays(columns, names=list(BAR_COLUMNS))


def table_to_arrays(table: pa.Table) -> BarArrays:
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    columns = {name: table.column(name).to_numpy() for name in BAR_COLUMNS[1:]}
    return BarArrays(ts=np.ascontiguousarray(ts, dtype=np.int64), **columns)


def write_table_atomically(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` so that readers see the old file or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as sink:
            pq.write_table(table, sink, compression="zstd")
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_bars(path: Path) -> BarArrays:
    return table_to_arrays(pq.read_table(path))


def concat(parts: list[BarArrays]) -> BarArrays:
    if not parts:
        return BarArrays.empty()
    if len(parts) == 1:
        return parts[0]
    return BarArrays(*(np.concatenate([getattr(part, name) for part in parts]) for name in BAR_COLUMNS))
