"""The portfolio stop's compiled arithmetic: the held shares' value kept up to date fill by fill equals the
plain sum over the holdings, and the scan finds the first bar at or below the level."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.backtest.equity_scan import add_shares, first_at_or_below


@settings(max_examples=200, deadline=None)
@given(
    codes=st.integers(1, 5),
    bars=st.integers(0, 30),
    seed=st.integers(0, 2**32 - 1),
    fills=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 40)), max_size=8),
    start=st.integers(0, 32),
    level=st.integers(-1, 3_000_000),
)
def test_held_value_when_fills_change_holdings_scans_like_a_plain_sum(
    codes: int, bars: int, seed: int, fills: list[tuple[int, int]], start: int, level: int
) -> None:
    rng = np.random.default_rng(seed)
    closes = rng.integers(1_000, 100_000, size=(codes, bars), dtype=np.int64)
    quantity = rng.choice([0, 0, 3, 10, 25], size=codes).astype(np.int64)
    value = quantity @ closes
    for row, shares in fills:  # a fill moves a holding to ``shares``
        row %= codes
        add_shares(value, closes, row, shares - int(quantity[row]))
        quantity[row] = shares
    plain = [sum(int(quantity[r]) * int(closes[r, bar]) for r in range(codes)) for bar in range(bars)]
    assert value.tolist() == plain
    stop = max(bars - 1, 0)
    expected = next((bar for bar in range(start, stop) if plain[bar] <= level), -1)
    assert first_at_or_below(value, start, stop, level) == expected
