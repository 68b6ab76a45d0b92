"""The runner's wake-up bookkeeping for a day (``_Day``) answers as a plain reading of the masks does, through
any sequence of fills: who is woken at a bar, the next bar that wakes anyone, and the held shares' value."""

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.backtest.market import DayGrid
from maemae.backtest.runner import _Day
from maemae.domain.codes import StockCode
from maemae.krx.calendar import default_calendar
from maemae.krx.sessions import session_schedule

DAY = date(2025, 12, 3)


def make_day(flat: np.ndarray, held: np.ndarray, quantity: np.ndarray, closes: np.ndarray) -> _Day:
    bars, codes = flat.shape
    schedule = session_schedule(DAY, default_calendar())
    assert schedule is not None
    names = [StockCode(f"{100_000 + row:06d}") for row in range(codes)]
    return _Day(
        DayGrid(DAY, schedule, np.arange(bars, dtype=np.int64)),
        names,
        {},
        {},
        closes,
        np.zeros((codes, bars), dtype=np.int64),
        np.zeros((codes, bars), dtype=np.int8),
        {code: row for row, code in enumerate(names)},
        flat,
        held,
        quantity.copy(),
    )


def woken_plainly(
    flat: np.ndarray, held: np.ndarray, holding: list[bool], k: int, entries: bool
) -> list[int]:
    rows = [row for row in range(flat.shape[1]) if holding[row] and held[k, row]]
    if entries:
        rows += [row for row in range(flat.shape[1]) if not holding[row] and flat[k, row]]
    return sorted(rows)


@settings(max_examples=150, deadline=None)
@given(
    bars=st.integers(1, 12),
    codes=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    steps=st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 4), st.sampled_from([0, 0, 5, 10]), st.booleans()),
        max_size=12,
    ),
    every_bar=st.booleans(),
)
def test_day_when_holdings_change_answers_like_the_masks(
    bars: int, codes: int, seed: int, steps: list[tuple[int, int, int, bool]], every_bar: bool
) -> None:
    rng = np.random.default_rng(seed)
    shape = (bars, codes)
    flat = np.ones(shape, dtype=bool) if every_bar else rng.random(shape) < 0.15
    held = np.ones(shape, dtype=bool) if every_bar else rng.random(shape) < 0.4
    quantity = rng.choice([0, 0, 3, 8], size=codes).astype(np.int64)
    closes = rng.integers(1_000, 50_000, size=(codes, bars), dtype=np.int64)
    day = make_day(flat, held, quantity, closes)
    for k, row, shares, entries in steps:
        k, row = k % bars, row % codes
        holding = [bool(q) for q in quantity]
        # the driver asks the book for entries only when the count says a flat code wakes at k
        flat_woken = day.flat_count[k] > 0
        assert flat_woken == any(not holding[r] and flat[k, r] for r in range(codes))
        woken = day.woken(k, flat_woken and entries)
        assert [day.index_of[c] for c in woken] == woken_plainly(flat, held, holding, k, entries)
        for r in range(codes):
            assert day.wakes(r, k) == bool((held if holding[r] else flat)[k, r])
        for with_flat in (True, False):
            expected = next(
                (
                    bar
                    for bar in range(k, bars)
                    if any(
                        (holding[r] and held[bar, r]) or (with_flat and not holding[r] and flat[bar, r])
                        for r in range(codes)
                    )
                ),
                None,
            )
            assert day.next_woken(k, with_flat) == expected
        day.set_quantity(row, shares)  # a fill: the code is held in ``shares`` now
        quantity[row] = shares
        if k % 2:  # no scan at this step: the next fill comes before one (two fills in a step)
            continue
        value = (quantity @ closes).tolist()
        for bar in range(bars):  # each bar's value is a level it reaches, and one less is not
            assert day.first_value_at_or_below(bar, bar + 1, value[bar]) == bar
            assert day.first_value_at_or_below(bar, bar + 1, value[bar] - 1) == -1
