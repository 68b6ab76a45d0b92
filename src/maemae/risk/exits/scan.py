"""Compiled forward scans over a stock's bar arrays: the first bar at or after ``start`` where an exit fires.

These are the backtest driver of the exit rules (DESIGN 1b): while a position is open, the engine asks each
rule for its first trigger bar instead of calling it on every bar. Every kernel returns -1 when nothing fires;
the rule modules turn that into ``None``. Prices are int64 whole won, the same integers the live path sees.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

Prices = npt.NDArray[np.int64]


def as_prices(values: npt.ArrayLike) -> Prices:
    """An int64, contiguous view of ``values`` (no copy when it already is one)."""
    array = np.ascontiguousarray(values, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"price array: expected one dimension, got shape {array.shape}")
    return array


@njit(cache=True, nogil=True)  # type: ignore[misc]
def first_at_or_below(values: Prices, start: int, level: int) -> int:
    for i in range(start, values.shape[0]):
        if values[i] <= level:
            return i
    return -1


@njit(cache=True, nogil=True)  # type: ignore[misc]
def first_at_or_above(values: Prices, start: int, level: int) -> int:
    for i in range(start, values.shape[0]):
        if values[i] >= level:
            return i
    return -1


@njit(cache=True, nogil=True)  # type: ignore[misc]
def first_trailing_breach(low: Prices, high: Prices, start: int, high_water: int, keep_num: int, keep_den: int) -> int:
    """First bar whose low is at or below ``high_water`` × keep, the mark being the highest high *before* it.

    ``low <= floor(hw * num / den)`` is tested as ``low * den <= hw * num``, which is the same for integers
    and needs no division.
    """
    hw = high_water
    for i in range(start, low.shape[0]):
        if low[i] * keep_den <= hw * keep_num:
            return i
        if high[i] > hw:
            hw = high[i]
    return -1
