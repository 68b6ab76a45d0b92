"""Counted nouns for the lines a user reads. The CLI's result lines and the engine's stop lines both print
counts, so the one rule (``1 order``, ``2 orders``, thousands separated) lives here for every layer to share;
at the package root because the engine may not import the CLI."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """``1 executed order``, ``4,645 executed orders``: a count and its noun, read as written (``1 orders``
    read as a slip)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
