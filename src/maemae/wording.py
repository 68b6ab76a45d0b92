"""Counted nouns for the lines a user reads. The CLI's result lines and the engine's stop lines both print
counts, so the one rule (``1 order``, ``2 orders``, thousands separated) lives here for every layer to share;
at the package root because the engine may not import the CLI."""

from __future__ import annotations

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
