"""The exit rules' scans over a stock's bars, compiled with Numba: the first bar where a stop, a take-profit
or the trailing stop fires (DESIGN 1b: a held stock's wake-up bar), and the trailing stop's high-water mark
brought up to date.

They live apart from ``exits.py`` and ``kernel.py``, which mypyc compiles (Numba needs a function's Python
bytecode). One call replaces several NumPy calls on a slice of the day, each of which cost more to call than
to run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, types

# a 1-D and a 2-D int64 array of any strides: the types the entry points below are compiled for
INTS = types.Array(types.int64, 1, "A")
INTS_2D = types.Array(types.int64, 2, "A")

NEVER_BELOW = -1  # a stop level no price reaches: the stop is off
NEVER_ABOVE = 1 << 62  # a take-profit level no price reaches: the rule is off (or already taken)


@njit(cache=True)
def first_exit_index(
    closes: npt.NDArray[np.int64],
    row: int,
    start: int,
    end: int,
    stop: int,
    take_profit: int,
    trailing: bool,
    high_water: int,
    numerator: int,
    denominator: int,
) -> int:
    """The first bar in [``start``, ``end``) of row ``row`` of ``closes`` (codes x bars) where a close is at
    or below ``stop``, at or above ``take_profit``, or (``trailing``) at or below floor(high x numerator /
    denominator), the high being the highest of ``high_water`` and the closes up to and including this one;
    -1 when none is. The day's whole matrix with a row and an end, not the row's slice: a NumPy view cut
    for each call cost about as much as the scan."""
    assert 0 <= row < closes.shape[0]  # Numba checks no bounds below
    assert start >= 0
    assert end <= closes.shape[1]
    high = high_water
    for index in range(start, end):
        close = closes[row, index]
        if close <= stop or close >= take_profit:
            return index
        if trailing:
            high = max(high, close)
            if close <= high * numerator // denominator:
                return index
    return -1


@njit(cache=True)
def high_since(ts: npt.NDArray[np.int64], closes: npt.NDArray[np.int64], after_ts: int, index: int) -> int:
    """The highest close of the bars after ``after_ts`` up to ``index`` (included), what the trailing stop's
    high-water mark takes in; -1 when no such bar is. A plain int, not (high, time): the caller has read
    ``index``'s time already, and a returned tuple is boxed and unpacked on every call."""
    assert 0 <= index < ts.shape[0]  # Numba checks no bounds below
    assert closes.shape[0] == ts.shape[0]
    first = np.searchsorted(ts, after_ts, side="right")
    high = -1
    for position in range(first, index + 1):
        high = max(high, closes[position])
    return high


@cache  # asking the dispatcher again runs its compile path in Python, some 200,000 instructions
def entry_point(dispatcher: Any, arg_types: tuple[Any, ...]) -> Callable[..., Any]:
    """``dispatcher``'s compiled code for ``arg_types`` (compiled, or loaded from its cache, on the first
    ask), to be called without Numba's dispatch.

    Why: a call through the dispatcher works out the Numba type of every argument and looks the types up
    among its compilations, each time; on the few bars a scan reads, that was half of the call's cost. The
    function returned unboxes its arguments as ``arg_types`` and checks an array's item size only, not its
    dimensions, so a caller passes arrays of the stated dimensions (layout "A" takes any strides)."""
    dispatcher.compile(arg_types)
    return dispatcher.get_overload(arg_types)  # type: ignore[no-any-return]


FirstExitIndex = Callable[[npt.NDArray[np.int64], int, int, int, int, int, bool, int, int, int], int]
HighSince = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64], int, int], int]


def first_exit_index_entry() -> FirstExitIndex:
    """``first_exit_index`` without the dispatch (``entry_point``): closes is 2-D."""
    i = types.int64
    return entry_point(first_exit_index, (INTS_2D, i, i, i, i, i, types.boolean, i, i, i))


def high_since_entry() -> HighSince:
    """``high_since`` without the dispatch (``entry_point``): ts and closes are 1-D."""
    return entry_point(high_since, (INTS, INTS, types.int64, types.int64))
