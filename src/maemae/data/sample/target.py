"""Where ``maemae data sample`` may write: an empty or new folder, or a store it was told to replace; and how
the new market gets there, whole or not at all.

A sample written over a store used to mix two markets: the old codes' bars stayed, without their
instruments, and a backtest traded both. So a folder holding a store is refused, and ``--replace`` replaces
that store as a whole (bars, instruments and what was kept about them). A folder of other files (a folder of
CSVs, a project's root) is refused too: the store would be written in among them. All of this is decided
before anything is written: a wrong ``--dir`` leaves the disk as it was.

The new market is written into a staging folder inside the target and moved into place with renames once
complete: a Ctrl-C or an error while it is generated or written leaves the folder as it was (the old store
too), where writing in place had deleted the old store and left half of the new one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from maemae.ctrl_c import commit_point
from maemae.data.parquet_io import missing_folders, remove_empty
from maemae.data.sample.catalogue import is_sample_name
from maemae.data.staging_folders import PREVIOUS, make_staging, remove_leftovers, remove_staging
from maemae.data.store import INSTRUMENTS_FILE, BarStore, check_store_layout
from maemae.errors import DataError

BAR_FOLDERS = ("day", "minute")
# Everything a store keeps about its market (docs/data.md, Layout): what --replace removes, and nothing else.
STORE_FOLDERS = (*BAR_FOLDERS, "adjust", "quarantine", "quality", "runs", "cache")
STORE_PARTS = (INSTRUMENTS_FILE, *STORE_FOLDERS)
STAGING_PREFIX = ".maemae-sample-"  # one a killed run left is removed by a later run (data.staging_folders)
SHOWN = 3  # other files named in the refusal of a folder that holds them


def check_target(root: Path, *, replace: bool) -> None:
    """Refuse ``root`` when a file stands where the store's folders go, when it holds a store and
    ``replace`` was not asked for, or when it holds other files and no store. The staging folders killed
    runs left there are removed first: they are no other files of the user's."""
    check_store_layout(root, [root / name for name in STORE_FOLDERS], ": pick another folder")
    remove_leftovers(root, STAGING_PREFIX)
    held = holds_store(root)
    if held and not replace:
        raise DataError(
            f"--dir {root}: already holds a market store ({', '.join(held)}): pick an empty folder, "
            "remove this store, or give --replace to replace it as a whole"
        )
    if held:
        _refuse_real_instruments(root)
    others = _other_entries(root)
    if others and not held:
        more = f" and {len(others) - SHOWN} more" if len(others) > SHOWN else ""
        shown = ", ".join(others[:SHOWN]) + more
        raise DataError(
            f"--dir {root}: holds other files ({shown}) and no market store: expected an empty or new "
            "folder, or a store to replace; pick another folder"
        )


def _refuse_real_instruments(root: Path) -> None:
    """``--replace`` replaces a sample market only. A store holding instruments the sample did not invent
    has bars a user imported or fetched into it (``data import`` and ``data fetch`` write into the demo's
    folder when no ``--dir`` is given, and ``make demo`` replaces that folder's sample): those would be
    deleted with the sample's, so the store is refused and left as it was."""
    try:
        instruments = BarStore(root).read_instruments()
    except DataError as error:
        raise DataError(f"--dir {root}: {error}; --replace removes only a sample market") from None
    real = sorted(code for code, item in instruments.items() if not is_sample_name(item.name))
    if real:
        more = f" and {len(real) - SHOWN} more" if len(real) > SHOWN else ""
        raise DataError(
            f"--dir {root}: holds stocks the sample did not invent ({', '.join(real[:SHOWN])}{more}), "
            "imported or fetched: --replace replaces only a sample market; move or remove this store "
            "yourself, or pick another --dir"
        )


def holds_store(root: Path) -> list[str]:
    """The parts of a store found in ``root`` (its instrument list, its bar folders); empty when none."""
    found = [INSTRUMENTS_FILE] if (root / INSTRUMENTS_FILE).is_file() else []
    return found + [f"{name}/" for name in BAR_FOLDERS if (root / name).is_dir()]


def _other_entries(root: Path) -> list[str]:
    """The names in ``root`` that are no part of a store, sorted (none when ``root`` does not exist)."""
    if not root.is_dir():
        return []
    try:
        names = os.listdir(root)
    except OSError as error:
        raise DataError(f"--dir {root}: cannot read this folder ({error.strerror or error})") from None
    return sorted(name for name in names if name not in STORE_PARTS)


@contextmanager
def staged_store(root: Path) -> Iterator[Path]:
    """A new, empty folder inside ``root`` (made if missing) to write the new market into; whatever leaves
    the block without :func:`swap_in` (an error, a Ctrl-C) removes it, and ``root`` too if it was made here
    and is empty again."""
    made = missing_folders(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = make_staging(root, STAGING_PREFIX)
    except OSError as error:
        raise DataError(f"--dir {root}: cannot write there ({error.strerror or error})") from None
    try:
        yield staging
    finally:
        remove_staging(staging)
        remove_empty(made)


def swap_in(staging: Path, root: Path) -> None:
    """Put the market written in ``staging`` in place of ``root``'s store (if any): the old store's parts
    moved aside into the staging folder, the new ones in, then the old ones removed; with Ctrl-C held, so
    the folder holds one whole store at every moment a Ctrl-C can stop the command. Other files stay."""
    previous = staging / PREVIOUS
    with commit_point():
        previous.mkdir()
        for name in STORE_PARTS:
            if os.path.lexists(root / name):
                os.replace(root / name, previous / name)
        for name in STORE_PARTS:
            if os.path.lexists(staging / name):
                os.replace(staging / name, root / name)
        shutil.rmtree(previous)
