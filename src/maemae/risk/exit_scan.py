"""The exit rules' scans over a stock's bars, compiled with Numba: the first bar where a stop, a take-profit
or the trailing stop fires (DESIGN 1b: a held stock's wake-up bar), and the trailing stop's high-water mark
brought up to date.

They live apart from ``exits.py`` and ``kernel.py``, which mypyc compiles (Numba needs a function's Python
bytecode). One call replaces several NumPy calls on a slice of the day, each of which cost more to call than
to run.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

NEVER_BELOW = -1  # a stop level no price reaches: the stop is off
NEVER_ABOVE = 1 << 62  # a take-profit level no price reaches: the rule is off (or already taken)


@njit(cache=True)
def first_exit_index(
    closes: npt.NDArray[np.int64],
    start: int,
    stop: int,
    take_profit: int,
    trailing: bool,
    high_water: int,
    numerator: int,
    denominator: int,
) -> int:
    """The first index from ``start`` where a close is at or below ``stop``, at or above ``take_profit``, or
    (``trailing``) at or below floor(high x numerator / denominator), the high being the highest of
    ``high_water`` and the closes up to and including this one; -1 when none is."""
    assert start >= 0  # Numba checks no bounds below
    high = high_water
    for index in range(start, closes.shape[0]):
        close = closes[index]
        if close <= stop or close >= take_profit:
            return index
        if trailing:
            high = max(high, close)
            if close <= high * numerator // denominator:
                return index
    return -1


@njit(cache=True)
def high_since(
    ts: npt.NDArray[np.int64], closes: npt.NDArray[np.int64], after_ts: int, index: int
) -> tuple[int, int]:
    """The highest close of the bars after ``after_ts`` up to ``index`` (included), and ``index``'s time:
    what the trailing stop's high-water mark takes in; (-1, 0) when no such bar is."""
    assert 0 <= index < ts.shape[0]  # Numba checks no bounds below
    assert closes.shape[0] == ts.shape[0]
    first = np.searchsorted(ts, after_ts, side="right")
    high = -1
    for position in range(first, index + 1):
        high = max(high, closes[position])
    return (high, ts[index]) if high >= 0 else (-1, 0)
