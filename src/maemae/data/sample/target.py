"""Where ``maemae data sample`` may write: an empty or new folder, or a store it was told to replace.

A sample written over a store used to mix two markets: the old codes' bars stayed, without their
instruments, and a backtest traded both. So a folder holding a store is refused, and ``--replace`` removes
that store as a whole (bars, instruments and what was kept about them) before the new market is written.
Both are decided before anything is written: a wrong ``--dir`` leaves the disk as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from maemae.data.store import INSTRUMENTS_FILE, check_store_layout
from maemae.errors import DataError

BAR_FOLDERS = ("day", "minute")
# Everything a store keeps about its market (docs/data.md, Layout): what --replace removes, and nothing else.
STORE_FOLDERS = (*BAR_FOLDERS, "adjust", "quarantine", "quality", "runs", "cache")


def check_target(root: Path, *, replace: bool) -> None:
    """Refuse ``root`` when a file stands where the store's folders go, or when it holds a store and
    ``replace`` was not asked for."""
    check_store_layout(root, [root / name for name in STORE_FOLDERS], ": pick another folder")
    held = holds_store(root)
    if held and not replace:
        raise DataError(
            f"--dir {root}: already holds a market store ({', '.join(held)}): pick an empty folder, "
            "remove this store, or give --replace to replace it as a whole"
        )


def holds_store(root: Path) -> list[str]:
    """The parts of a store found in ``root`` (its instrument list, its bar folders); empty when none."""
    found = [INSTRUMENTS_FILE] if (root / INSTRUMENTS_FILE).is_file() else []
    return found + [f"{name}/" for name in BAR_FOLDERS if (root / name).is_dir()]


def clear_store(root: Path) -> None:
    """Remove the store in ``root``: its instrument list and every folder of its layout. Other files the
    user keeps there are left alone."""
    (root / INSTRUMENTS_FILE).unlink(missing_ok=True)
    for name in STORE_FOLDERS:
        if (root / name).is_dir():
            shutil.rmtree(root / name)
