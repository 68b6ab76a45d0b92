"""Memory-mapped copies of the bar files: a backtest's bars without decoding them (DESIGN 1b).

The store keeps bars in Parquet: compact (a 100-stock year of minutes in 96 MiB), durable and read by every
tool. A backtest reads the same files run after run, and decoding them was most of its loading: about 0.3 s
for that year, more in a new process, whose fresh memory the kernel has to hand over page by page first. This
cache keeps each bar file a second time, uncompressed: a 128-byte header, then the int64 columns one after
the other (``MAGIC``, ``HEADER_BYTES``). Mapped into memory, its columns *are* the arrays the engine reads: no
decoding, no copy, and the pages are the operating system's file cache, shared by every process that maps
the file (a sweep's workers, the next run). Mapping a copy takes about 20 µs; the copies were Arrow IPC files
until December 2026, and opening one (the schema and its metadata parsed, each column wrapped) took about
250 µs, most of a 20-stock backtest's loading.

A read that finds no copy decodes the Parquet file and returns those bars, and the copy is written by a
thread of its own meanwhile: the run that makes the copies is about as fast as one without the cache (the
100-stock year's copies take about a second to write, most of it flushing them to disk), and the
interpreter waits for that thread at exit, so every copy asked for is made.

A copy is used only while its Parquet file is the one it was made from (size, modification time and file
id, kept in the copy's header); otherwise the next read makes it again. A copy is written to a temporary
file, flushed to disk and renamed over the old one, so a reader sees the old copy or the complete new one.
An uncompressed copy takes about 6.6 times its Parquet file (the 100-stock year: 640 MiB), so the cache holds
at most ``max_bytes``: when a new copy passes that, the copies used longest ago are removed. When a copy
cannot be written (a read-only store, a full disk, a file another process has mapped on Windows), the bars
decoded from Parquet are returned instead: the cache only ever makes a read faster.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import structlog

from maemae.data.bars import BAR_COLUMNS, BarArrays
from maemae.data.parquet_io import create_temporary, read_table

log = structlog.get_logger("maemae.data")

CACHE_DIRECTORY = "cache"  # under the store's root
SUFFIX = ".bars"
_LEGACY_SUFFIX = ".arrow"  # copies of the earlier layout: removed by the first trim of a process that writes
# The copy's layout. The header: the magic (its last two bytes the layout's version: another is made again),
# the number of bars, then the length and bytes of the source's stamp (``_stamp``); zeros up to 128 bytes.
# Then the columns in BAR_COLUMNS' order, each ``rows`` little-endian int64 values: 8-byte aligned, mapped
# as they lie.
MAGIC = b"MMBARS01"
HEADER_BYTES = 128
_HEADER = struct.Struct("<8sqH")
_STAMP_ROOM = HEADER_BYTES - _HEADER.size
_INT64 = np.dtype("<i8")
_SCHEMA = pa.schema([pa.field(name, pa.int64(), nullable=False) for name in BAR_COLUMNS])  # decoded bars
_ABANDONED_SECONDS = 3600  # a temporary file this old was left by a writer that died


class MappedBarCache:
    """Uncompressed, memory-mapped copies of a store's bar files, under ``directory`` (by default
    ``<store root>/cache``; one directory per store: another store's copies there would be made again and
    again)."""

    def __init__(self, store_root: Path, max_bytes: int, directory: Path | None = None) -> None:
        self.store_root = Path(store_root)
        self.directory = Path(directory) if directory is not None else self.store_root / CACHE_DIRECTORY
        self.max_bytes = max_bytes
        self.copies_made = 0  # how many copies this cache wrote (the bench and the tests read it)
        self._warned = False  # an unwritable cache is logged once, not once a file
        # the bytes the copies took at this cache's first write, plus what it wrote since: the directory is
        # walked again only when that passes max_bytes (another process's copies are seen then)
        self._written: int | None = None
        self._lock = threading.Lock()  # the store reads files in threads; the accounting is shared
        # copies are written by one thread of their own while the run goes on; the interpreter waits for
        # it at exit, so every copy asked for is written
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bar-cache")
        self._pending: list[Future[bool]] = []

    def read(self, source: Path) -> BarArrays:
        """Every bar of the Parquet file ``source``: mapped from its copy, or decoded when there is none yet
        (the copy is then written alongside, for the next read)."""
        mapped = self.mapped(source)
        if mapped is not None:
            return mapped
        stamp = _stamp(source)
        target = self._target(source)
        table = _as_columns(read_table(source))
        with self._lock:
            self._pending.append(self._writer.submit(self._write, table, target, stamp))
        return _arrays(table)

    def mapped(self, source: Path) -> BarArrays | None:
        """The bars of ``source`` mapped from its copy, or None when it has no copy of this version."""
        target = self._target(source)
        mapped = _open(target, _stamp(source))
        if mapped is not None:
            _touch(target)  # its last use: the eviction order
        return mapped

    def _target(self, source: Path) -> Path:
        return self.directory / source.relative_to(self.store_root).with_suffix(SUFFIX)

    def wait(self) -> None:
        """Return once every copy asked for so far is written (or found unwritable)."""
        with self._lock:
            pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def size(self) -> int:
        """Bytes the copies take now."""
        return sum(path.stat().st_size for path in self._copies())

    def _write(self, table: pa.Table, target: Path, stamp: bytes) -> bool:
        """Write ``table``'s copy atomically, then trim the cache; False when it could not be written."""
        if table.nbytes > self.max_bytes:
            return False
        if _open(target, stamp) is not None:  # asked for twice before the first was written
            return True
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = create_temporary(target)  # mode as open() gives, not mkstemp's 0600
        except OSError as error:
            self._unwritable(target, error)
            return False
        try:
            with os.fdopen(handle, "wb") as sink:
                sink.write(_header(table.num_rows, stamp))
                for name in BAR_COLUMNS:
                    column = table.column(name).chunk(0).to_numpy() if table.num_rows else np.empty(0)
                    sink.write(np.ascontiguousarray(column, dtype=_INT64).data)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(temporary, target)
        except (OSError, pa.ArrowException) as error:
            Path(temporary).unlink(missing_ok=True)
            self._unwritable(target, error)
            return False
        with self._lock:
            self.copies_made += 1
            if self._written is not None:
                self._written += table.nbytes
            if self._written is None or self._written > self.max_bytes:
                try:
                    self._written = self._trim(keep=target)
                except OSError as error:  # the directory changed under the walk (removed by the user)
                    self._unwritable(target, error)
        return True

    def _unwritable(self, target: Path, error: Exception) -> None:
        """Log the first copy that could not be written or trimmed; the reads go on from Parquet."""
        if not self._warned:
            self._warned = True
            log.warning("bar_cache_unwritable", path=str(target), error=str(error))

    def _trim(self, keep: Path) -> int:
        """Remove the copies used longest ago until the cache fits ``max_bytes`` (never ``keep``, just
        written), and temporary files their writers left behind; the bytes the copies take then."""
        now = time.time()
        copies = []
        for path in self._copies(include_temporary=True):
            try:
                status = path.stat()
            except FileNotFoundError:  # another process removed it meanwhile
                continue
            if path.name.endswith(".tmp"):
                if now - status.st_mtime > _ABANDONED_SECONDS:
                    path.unlink(missing_ok=True)
                continue
            if path.suffix == _LEGACY_SUFFIX:  # never read again: its space goes to the copies in use
                with contextlib.suppress(OSError):  # mapped by another process on Windows: a later trim
                    path.unlink(missing_ok=True)
                continue
            copies.append((status.st_mtime, status.st_size, path))
        total = sum(size for _, size, _ in copies)
        for _, size, path in sorted(copies, key=lambda copy: copy[0]):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            try:
                path.unlink(missing_ok=True)
            except OSError:  # mapped by another process on Windows: it stays until a later trim
                continue
            total -= size
        return total

    def _copies(self, include_temporary: bool = False) -> list[Path]:
        """The copies' files (and the temporary files of copies being written, if asked)."""
        if not self.directory.is_dir():
            return []
        pattern = "*" if include_temporary else f"*{SUFFIX}"
        return [path for path in self.directory.rglob(pattern) if path.is_file()]


def _stamp(source: Path) -> bytes:
    """What identifies this version of ``source``: a rewrite (always a new file, renamed over the old one)
    changes its file id and its modification time."""
    status = source.stat()
    return f"{status.st_size}:{status.st_mtime_ns}:{status.st_ino}".encode()


def _header(rows: int, stamp: bytes) -> bytes:
    """A copy's header for ``rows`` bars of the source version ``stamp``."""
    if len(stamp) > _STAMP_ROOM:
        raise OSError(f"source stamp of {len(stamp)} bytes does not fit a copy's header")
    return _HEADER.pack(MAGIC, rows, len(stamp)) + stamp.ljust(_STAMP_ROOM, b"\0")


def _open(target: Path, stamp: bytes) -> BarArrays | None:
    """The mapped bars of the copy at ``target`` if it is a complete copy of this version of its source."""
    try:
        with open(target, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size < HEADER_BYTES:
                return None
            mapping = mmap.mmap(file.fileno(), size, access=mmap.ACCESS_READ)  # outlives the file object
    except (OSError, ValueError):  # missing, or unreadable: made again
        return None
    magic, rows, length = _HEADER.unpack_from(mapping)
    if (
        magic != MAGIC
        or length > _STAMP_ROOM
        or mapping[_HEADER.size : _HEADER.size + length] != stamp
        or rows < 0
        or size != HEADER_BYTES + rows * len(BAR_COLUMNS) * _INT64.itemsize  # a copy cut short, or longer
    ):
        mapping.close()
        return None
    if rows == 0:
        mapping.close()
        return BarArrays.empty()
    # one read-only view of the mapping, a row per column; the arrays keep the mapping alive
    columns = np.frombuffer(mapping, dtype=_INT64, count=rows * len(BAR_COLUMNS), offset=HEADER_BYTES)
    return BarArrays(*columns.reshape(len(BAR_COLUMNS), rows))


def _touch(target: Path) -> None:
    with contextlib.suppress(OSError):  # removed by another process's trim since it was mapped: the
        os.utime(target)  # mapping stays valid


def _as_columns(table: pa.Table) -> pa.Table:
    """``table`` as the copy stores it: int64 columns (``ts`` as epoch nanoseconds) in one chunk each."""
    columns = [table.column(name).cast(pa.int64()) for name in BAR_COLUMNS]
    return pa.Table.from_arrays(columns, schema=_SCHEMA).combine_chunks()


def _arrays(table: pa.Table) -> BarArrays:
    """The columns of a one-chunk ``table`` as read-only NumPy views of its buffers."""
    if table.num_rows == 0:
        return BarArrays.empty()
    return BarArrays(*(table.column(name).chunk(0).to_numpy(zero_copy_only=True) for name in BAR_COLUMNS))
