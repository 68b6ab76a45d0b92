"""The portfolio stop's arithmetic over a day, compiled with Numba (DESIGN 1b: the stop's wake-up bar): the
closing value of the shares held, bar by bar, kept up to date on every fill, and the first bar where it
falls to a level.

It lives apart from ``runner.py``, which mypyc compiles (Numba needs a function's Python bytecode). Done
with NumPy, each of these took several calls on a day's row, which cost more to call than to run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt
from numba import njit, types

from maemae.risk.exit_scan import INTS, INTS_2D, entry_point


@njit(cache=True)
def add_shares(value: npt.NDArray[np.int64], closes: npt.NDArray[np.int64], row: int, shares: int) -> None:
    """Add ``shares`` (negative: fewer) of code ``row`` to ``value``, the held shares' closing value at
    each bar; ``closes`` is codes x bars."""
    assert 0 <= row < closes.shape[0]  # Numba checks no bounds below
    assert closes.shape[1] == value.shape[0]
    for bar in range(value.shape[0]):
        value[bar] += shares * closes[row, bar]


@njit(cache=True)
def first_at_or_below(value: npt.NDArray[np.int64], start: int, stop: int, level: int) -> int:
    """The first bar in [start, stop) where ``value`` is at most ``level``; -1 when none is."""
    assert start >= 0  # Numba checks no bounds below
    assert stop <= value.shape[0]
    for bar in range(start, stop):
        if value[bar] <= level:
            return bar
    return -1


@njit(cache=True)
def add_then_first_at_or_below(
    value: npt.NDArray[np.int64],
    closes: npt.NDArray[np.int64],
    row: int,
    shares: int,
    start: int,
    stop: int,
    level: int,
) -> int:
    """``add_shares`` (when ``shares`` is not 0), then ``first_at_or_below``, in one call: a fill's change of
    value is followed by the stop's scan, and each call from compiled Python costs thousands of instructions,
    more than the loop over a day's bars."""
    if shares:
        add_shares(value, closes, row, shares)
    return first_at_or_below(value, start, stop, level)


AddThenFirst = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64], int, int, int, int, int], int]


@cache  # ``entry_point``'s own cache hashes and compares the Numba types: about 14,000 instructions a day
def add_then_first_at_or_below_entry() -> AddThenFirst:
    """``add_then_first_at_or_below`` without the dispatch (``risk.exit_scan.entry_point``): value is 1-D,
    closes 2-D."""
    i = types.int64
    return entry_point(add_then_first_at_or_below, (INTS, INTS_2D, i, i, i, i, i))
