"""Many files of the store changed together: each new file written complete beside its place first, then all
of them renamed into place at once (``data import``: every code of the file, and the instrument list).

Written one after another in place, an import stopped half-way (Ctrl-C, a full disk) left some codes
imported and others not, although the user was promised all or nothing. Staged, a failure or a Ctrl-C
before the renames removes the new files (and the folders made for them) and the store is as it was; the
renames themselves take milliseconds, with Ctrl-C held (``ctrl_c.commit_point``).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import pyarrow as pa

from maemae.ctrl_c import commit_point
from maemae.data.bars import BarArrays
from maemae.data.parquet_io import (
    BAR_WRITE_OPTIONS,
    arrays_to_table,
    put_in_place,
    write_beside,
    write_temporary,
)


class StagedFiles:
    """The new files of one change of the store, put in place by :meth:`commit`; used as a context, a change
    left uncommitted (an error, a Ctrl-C) is discarded on the way out."""

    def __init__(self) -> None:
        self._placed: list[tuple[Path, Path]] = []  # (temporary, final path)
        self._removed: list[Path] = []
        self._made: list[Path] = []  # folders made for new files, deepest first

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.discard()

    def write_table(
        self, table: pa.Table, path: Path, row_group_size: int | None = None, **options: object
    ) -> None:
        """Write ``table`` beside ``path``, to replace it on commit."""
        self._note_folders(path)
        self._placed.append((write_temporary(table, path, row_group_size, **options), path))

    def write_bytes(self, data: bytes, path: Path) -> None:
        """Write ``data`` beside ``path``, to replace it on commit (a quarantine file, with its new rows)."""
        self._note_folders(path)
        self._placed.append((write_beside(path, lambda sink: sink.write(data)), path))

    def _note_folders(self, path: Path) -> None:
        """The folders that writing ``path`` makes, for :meth:`discard` to remove if they are left empty."""
        missing = [folder for folder in (path.parent, *path.parent.parents) if not os.path.lexists(folder)]
        self._made = missing + [folder for folder in self._made if folder not in missing]

    def write_bars(self, bars: BarArrays, path: Path, row_group_size: int | None = None) -> None:
        """:meth:`write_table` for bars, in the bar files' encoding."""
        self.write_table(arrays_to_table(bars), path, row_group_size, **BAR_WRITE_OPTIONS)

    def remove(self, path: Path) -> None:
        """Remove ``path`` on commit (a year of minutes the new bars no longer have)."""
        self._removed.append(path)

    def commit(self) -> None:
        """Put every new file in place and remove the files asked to go, with Ctrl-C held."""
        with commit_point():
            for temporary, path in self._placed:
                put_in_place(temporary, path)
            for path in self._removed:
                path.unlink(missing_ok=True)
        self._placed, self._removed, self._made = [], [], []

    def discard(self) -> None:
        """Remove the new files not yet in place, and the folders made for them that are empty again."""
        for temporary, _ in self._placed:
            temporary.unlink(missing_ok=True)
        for folder in sorted(self._made, key=lambda path: len(path.parts), reverse=True):
            try:
                folder.rmdir()
            except OSError:  # holds something that was there before, or is gone already
                continue
        self._placed, self._removed, self._made = [], [], []
