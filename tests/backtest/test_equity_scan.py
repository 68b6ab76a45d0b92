"""The portfolio stop's compiled scan finds the first bar where the held shares' closing value is at or below
the level, as summing every bar plainly does."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.backtest.equity_scan import first_value_at_or_below


@settings(max_examples=200, deadline=None)
@given(
    codes=st.integers(1, 5),
    bars=st.integers(0, 30),
    seed=st.integers(0, 2**32 - 1),
    start=st.integers(0, 32),
    level=st.integers(-1, 3_000_000),
)
def test_first_value_at_or_below_when_scanning_the_day_matches_a_plain_sum(
    codes: int, bars: int, seed: int, start: int, level: int
) -> None:
    rng = np.random.default_rng(seed)
    closes = rng.integers(1_000, 100_000, size=(codes, bars), dtype=np.int64)
    quantity = rng.choice([0, 0, 3, 10, 25], size=codes).astype(np.int64)
    stop = max(bars - 1, 0)
    expected = next(
        (
            bar
            for bar in range(start, stop)
            if sum(int(quantity[row]) * int(closes[row, bar]) for row in range(codes)) <= level
        ),
        -1,
    )
    assert first_value_at_or_below(closes, quantity, start, stop, level) == expected
