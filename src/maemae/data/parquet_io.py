"""Reading and writing bar arrays as Parquet files, atomically.

A write goes to a temporary file in the same directory, is flushed to disk, then renamed over the old file,
so a crash or a full disk leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from maemae.data.bars import BAR_COLUMNS, BarArrays
from maemae.errors import DataError, first_line

TS_TYPE = pa.timestamp("ns", tz="Asia/Seoul")

# The columns read here are a backtest's bars without a copy when the mapped cache is off or too small for the
# run (data/bar_cache.py), so Arrow's memory holds them for the whole run.
# Arrow's default allocator (mimalloc) also keeps what the decoding used and freed: a 100-stock year held 930
# MiB more after loading with it, 610 MiB with the C library's allocator. The first load in a process took
# 1.2 to 2.3 s with mimalloc against about 0.45 s; later loads take about the same (0.3 to 0.5 s). jemalloc
# is not in every pyarrow build. A pool the user chose (ARROW_DEFAULT_MEMORY_POOL) is left alone.
if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
    pa.set_memory_pool(pa.system_memory_pool())


# Bars have no missing values, and the columns say so: a required Parquet column stores no definition
# levels, which a reader otherwise decodes into a validity bitmap for every value (about a quarter of the
# time of loading a 100-stock year). Files written before read the same.
BAR_SCHEMA = pa.schema(
    [pa.field("ts", TS_TYPE, nullable=False)]
    + [pa.field(name, pa.int64(), nullable=False) for name in BAR_COLUMNS[1:]]
)


def arrays_to_table(bars: BarArrays) -> pa.Table:
    columns = [pa.array(bars.ts, type=pa.int64()).cast(TS_TYPE)]
    columns += [pa.array(getattr(bars, name), type=pa.int64()) for name in BAR_COLUMNS[1:]]
    return pa.Table.from_arrays(columns, schema=BAR_SCHEMA)


def table_to_arrays(table: pa.Table) -> BarArrays:
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    columns = {name: table.column(name).to_numpy() for name in BAR_COLUMNS[1:]}
    return BarArrays(ts=np.ascontiguousarray(ts, dtype=np.int64), **columns)


# Bar columns are integers that change little from one row to the next (times a minute apart, prices a few
# ticks apart): stored as bit-packed differences and compressed with LZ4, a 100-stock year of minute bars
# takes 96 MiB and reads in 0.30 s, against 204 MiB and 0.53 s with the default dictionary pages and zstd
# (docs/data.md). Every Parquet reader (pyarrow, DuckDB, pandas) knows the encoding.
BAR_WRITE_OPTIONS: dict[str, object] = {
    "compression": "lz4",
    "use_dictionary": False,
    "column_encoding": "DELTA_BINARY_PACKED",
}


_TEMPORARY_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def missing_folders(path: Path) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, deepest first: the folders a write there
    makes, for :func:`remove_empty` to take back when the write is abandoned."""
    return [folder for folder in (path, *path.parents) if not os.path.lexists(folder)]


def remove_empty(folders: Sequence[Path]) -> None:
    """Remove ``folders`` (deepest first), stopping at the first that holds something."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def create_temporary(path: Path, suffix: str = ".tmp") -> tuple[int, Path]:
    """A new, empty file beside ``path`` (``.<name>.<random><suffix>``), open for writing, to be renamed over
    ``path`` once complete: its descriptor and its path.

    Not ``tempfile.mkstemp``: that creates the file with mode 0600, and the rename keeps it, so every bar
    file, cache copy and backtest output came out readable by its owner alone where the umask lets the group
    and others read the files a plain ``open()`` makes. Created here with 0666, the file gets what ``open()``
    gives: the kernel removes the umask's bits (and applies a directory's default ACL). The umask is never
    read: ``os.umask`` can only read it by setting it, process-wide, while bar-cache threads create files.
    """
    for _ in range(100):
        candidate = path.parent / f".{path.name}.{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(candidate, _TEMPORARY_FLAGS, 0o666), candidate
        except FileExistsError:  # another writer drew the same name: draw again
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(path.parent))


def write_bars_atomically(bars: BarArrays, path: Path, row_group_size: int | None = None) -> None:
    """Write ``bars`` to ``path`` in the bar files' encoding, atomically."""
    write_table_atomically(arrays_to_table(bars), path, row_group_size, **BAR_WRITE_OPTIONS)


def write_table_atomically(
    table: pa.Table, path: Path, row_group_size: int | None = None, **options: object
) -> None:
    """Write ``table`` to ``path`` so that readers see the old file or the complete new one; ``options`` go
    to ``pyarrow.parquet.write_table`` (zstd compression unless they say otherwise). A file where a folder of
    the path should be, or a folder where the file should be, is a DataError naming it."""
    temporary = write_temporary(table, path, row_group_size, **options)
    try:
        put_in_place(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_temporary(
    table: pa.Table, path: Path, row_group_size: int | None = None, **options: object
) -> Path:
    """Write ``table`` to a new temporary file beside ``path`` (:func:`write_beside`) and return it."""

    def write(sink: BinaryIO) -> None:
        pq.write_table(table, sink, row_group_size=row_group_size, **{"compression": "zstd", **options})

    return write_beside(path, write)


def write_beside(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """A new temporary file beside ``path`` that ``write`` fills, flushed to disk: complete, to be renamed
    over ``path`` (:func:`put_in_place`). The folder is made when missing; a file where it should be is a
    DataError naming it. Nothing is left behind when the write fails or is interrupted."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise DataError(f"{path.parent}: cannot make this folder: {_blocking(path.parent)}") from None
    handle, temporary = create_temporary(path)
    try:
        with os.fdopen(handle, "wb") as sink:
            write(sink)
            sink.flush()
            os.fsync(sink.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def put_in_place(temporary: Path, path: Path) -> None:
    """Rename the complete ``temporary`` over ``path``; a folder at ``path`` is a DataError naming it."""
    try:
        os.replace(temporary, path)
    except IsADirectoryError:
        raise DataError(f"{path}: a folder, expected a Parquet file (or nothing) there") from None


def not_a_folder(folder: Path) -> Path | None:
    """The file that stands where ``folder`` or one of the folders above it should be, or None.

    Making the folder would fail on it (FileExistsError, NotADirectoryError): asked first, a command refuses
    a wrong ``--dir`` before it writes anything, not half way through.
    """
    for part in (folder, *folder.parents):
        if part.exists():
            return None if part.is_dir() else part
    return None


def _blocking(folder: Path) -> str:
    found = not_a_folder(folder)
    return f"{found} is a file, expected a folder" if found else "a part of the path is not a folder"


def read_table(path: Path) -> pa.Table:
    """Every row of the Parquet file ``path``. ``pq.read_table`` takes a single file through pyarrow's
    dataset layer (discovery, partitions): 0.3 ms more a file, and a backtest reads one per stock."""
    try:
        with pq.ParquetFile(path) as file:
            return file.read()
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError) as error:
        raise unreadable(path, error) from None


def unreadable(path: Path, error: Exception) -> DataError:
    """The one-line error for a store file that is not Parquet (cut short, overwritten, another format),
    with what puts it right: the next import or fetch of that data reads the file first, so it must go. A
    file this user may not read is whole: it needs its permissions, not removing (:func:`no_permission`)."""
    if isinstance(error, PermissionError):
        return no_permission(path)
    again = (
        "import the instrument list again (--instruments FILE, or fetch --market)"
        if path.name == "instruments.parquet"
        else "import or fetch that code again"
    )
    return DataError(f"{path}: not a readable Parquet file ({first_line(error)}): remove it, then {again}")


def no_permission(path: Path) -> DataError:
    """The one-line error for a file or folder of the store that this user may not read: it used to end a
    backtest in a PermissionError's traceback, and an unreadable folder read as one with no bars."""
    kind = "folder" if path.is_dir() else "file"
    return DataError(
        f"{path}: cannot read this {kind} (permission denied): give this user read access to it (its owner "
        "and mode), then run the command again"
    )


def unreadable_among(files: list[Path], error: Exception) -> DataError:
    """The error for a query over ``files`` that a reader library refused: the first file pyarrow cannot
    open either, named as :func:`unreadable` does; the library's own first line when every file opens."""
    for path in files:
        try:
            pq.read_metadata(path)
        except (pa.ArrowException, OSError) as problem:
            return unreadable(path, problem)
    return DataError(f"{files[0].parent}: the store's files cannot be read ({first_line(error)})")


MINUTE_ROW_GROUP = 8_192  # about 21 sessions of minute bars: a window read skips the other months


def read_bars(path: Path, lo_ns: int | None = None, hi_ns: int | None = None) -> BarArrays:
    """The bars of ``path``; with ``lo_ns``/``hi_ns`` only the row groups whose ``ts`` range meets
    [lo_ns, hi_ns) are read (the caller slices the exact range), so a window of a year file costs a month."""
    if lo_ns is None and hi_ns is None:
        return table_to_arrays(read_table(path))
    try:
        return _read_window(pq.ParquetFile(path), lo_ns, hi_ns)
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError) as error:
        raise unreadable(path, error) from None


def _read_window(file: pq.ParquetFile, lo_ns: int | None, hi_ns: int | None) -> BarArrays:
    """The row groups of ``file`` whose ``ts`` statistics meet [lo_ns, hi_ns) (all where a group has none)."""
    groups = []
    for index in range(file.metadata.num_row_groups):
        stats = file.metadata.row_group(index).column(0).statistics
        if stats is None or not stats.has_min_max:
            groups.append(index)
            continue
        first, last = _ns(stats.min), _ns(stats.max)
        if (hi_ns is None or first < hi_ns) and (lo_ns is None or last >= lo_ns):
            groups.append(index)
    if not groups:
        return BarArrays.empty()
    return table_to_arrays(file.read_row_groups(groups))


def _ns(value: object) -> int:
    """A ``ts`` statistic (a pandas or datetime timestamp, or an integer) as epoch nanoseconds."""
    if isinstance(value, int):
        return value
    return int(pa.scalar(value, type=TS_TYPE).cast(pa.int64()).as_py())


def concat(parts: list[BarArrays]) -> BarArrays:
    if not parts:
        return BarArrays.empty()
    if len(parts) == 1:
        return parts[0]
    return BarArrays(*(np.concatenate([getattr(part, name) for part in parts]) for name in BAR_COLUMNS))
