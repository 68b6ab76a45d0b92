"""Wording shared by the lines a user reads, from every layer: counted nouns (the CLI's result lines and the
engine's stop lines both print counts), where a relative path was looked for, how to give a replay its own
store. At the package root because the engine may not import the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def counted(count: int, noun: str) -> str:
    """``1 executed order``, ``4,645 executed orders``: a count and its noun, read as written (``1 orders``
    read as a slip)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def where_relative(path: object) -> str:
    """`` (relative to the current folder /home/me)`` for a relative path, nothing for an absolute one: a
    config's relative paths are read from the folder maemae runs in, not the config file's, so a path that
    is not found from elsewhere is told with where it was looked for."""
    return "" if Path(str(path)).is_absolute() else f" (relative to the current folder {Path.cwd()})"


def unset_variables(variables: Sequence[str], env: Mapping[str, str]) -> str:
    """``KIS_APP_KEY is not set``, or ``KIS_APP_SECRET, KIS_HTS_ID are not set and KIS_APP_KEY is empty``:
    environment variables that give no value, those never exported told apart from those exported empty.
    ``KIS_APP_KEY=`` is set, and a user told it is not would look for a missing export rather than the
    missing value; the KIS keys, the alert secrets and ``config check`` all say it in these words."""
    unset = [name for name in variables if name not in env]
    empty = [name for name in variables if name in env]
    said = [
        f"{', '.join(names)} {'are' if len(names) > 1 else 'is'} {state}"
        for names, state in ((unset, "not set"), (empty, "empty"))
        if names
    ]
    return " and ".join(said)


NEW_STORE = "a new store (--store URL, or the config's store.url)"
"""How a replay refused on a store gets one of its own: the option of ``paper`` and ``run --replay``, or the
config's field (a store holds one replayed day)."""
