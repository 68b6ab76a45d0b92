"""The portfolio stop's scan over a day, compiled with Numba: the first bar where the closing value of the
shares held falls to a level (DESIGN 1b: the stop's wake-up bar).

It lives apart from ``runner.py``, which mypyc compiles (Numba needs a function's Python bytecode). Summing
the held stocks' closes bar by bar here replaces a running value the runner kept up to date with NumPy on
every fill, whose calls cost more than their work.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit


@njit(cache=True)
def first_value_at_or_below(
    closes: npt.NDArray[np.int64], quantity: npt.NDArray[np.int64], start: int, stop: int, level: int
) -> int:
    """The first bar in [start, stop) where the sum over codes of quantity x close is at most ``level``; -1
    when none is. ``closes`` is codes x bars; only the codes held (quantity > 0) are summed."""
    held = np.flatnonzero(quantity)
    for bar in range(start, stop):
        value = 0
        for row in held:
            value += quantity[row] * closes[row, bar]
        if value <= level:
            return bar
    return -1
