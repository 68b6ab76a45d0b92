"""The hidden staging folders of the commands that write a set of files whole (``data sample``'s new market
in ``.maemae-sample-*``, a backtest's outputs in ``.maemae-run-*``), and the removal of those a killed run
left behind.

A run removes its own staging folder however it ends, Ctrl-C included; ``kill -9`` or a power cut leaves it.
By its name alone a later run cannot tell a leftover from the folder of a run still writing in the same place.
So each folder holds a file its run keeps locked (``file_locks``) while the folder is in use: the operating
system lets go of the lock when the process ends in any way, and a later run that can take the lock removes
the folder. A folder is kept when it holds ``previous`` (the files a set replaced, moved aside during the
milliseconds of a swap: what to do with them is the user's call, docs/data.md and docs/backtest.md) or has no
lock file yet (being made this instant, or left by an older maemae).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from maemae.file_locks import try_lock

OWNER_FILE = ".owner"  # inside a staging folder: locked by the run that uses the folder
PREVIOUS = "previous"  # inside a staging folder: the files the new set replaces, while it is put in place

_owned: dict[Path, int] = {}  # this process's staging folders: the descriptor holding each one's lock


def make_staging(parent: Path, prefix: str) -> Path:
    """A new, empty staging folder in ``parent`` (which must exist), locked as in use by this process; the
    leftovers of killed runs with the same ``prefix`` are removed first. OSError when it cannot be made."""
    remove_leftovers(parent, prefix)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        fd = os.open(folder / OWNER_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try_lock(fd)  # a file nobody else has opened: taken
    _owned[folder] = fd
    return folder


def release(folder: Path) -> None:
    """Let go of ``folder``'s lock (before it is removed, or kept for the user): a later run may remove it."""
    fd = _owned.pop(folder, None)
    if fd is not None:
        os.close(fd)


def remove_staging(folder: Path) -> None:
    """Remove this process's staging ``folder`` and what it holds."""
    release(folder)
    shutil.rmtree(folder, ignore_errors=True)


def remove_leftovers(parent: Path, prefix: str) -> list[Path]:
    """Remove the staging folders in ``parent`` named ``prefix*`` whose run has ended (their lock can be
    taken), but none holding ``previous`` or without a lock file; the folders removed."""
    removed: list[Path] = []
    with contextlib.suppress(OSError):  # an unreadable parent: the command's own checks word that
        for folder in sorted(parent.glob(f"{prefix}*")):
            if folder in _owned or not folder.is_dir() or (folder / PREVIOUS).exists():
                continue
            try:
                fd = os.open(folder / OWNER_FILE, os.O_RDWR)
            except OSError:
                continue
            try:
                ended = try_lock(fd)
            finally:
                os.close(fd)  # before the removal: Windows removes no open file
            if ended:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed
