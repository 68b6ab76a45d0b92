from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.data.sample.day_paths import DayInputs, day_limits, generate_day, round_to_tick, tick_groups
from maemae.domain.enums import InstrumentType, Market
from maemae.krx.limits import price_limits
from maemae.krx.ticks import round_down_array, tick_size_array

# Before the 2023-01-25 stock reform, between it and the 2023-12-08 ETF reform, and after both.
DAYS = (date(2022, 6, 30), date(2023, 1, 25), date(2023, 6, 1), date(2025, 6, 2))
KINDS = st.sampled_from(
    [
        (InstrumentType.STOCK, Market.KOSPI),
        (InstrumentType.STOCK, Market.KOSDAQ),
        (InstrumentType.ETF, Market.KOSPI),
    ]
)


def test_day_limits_when_close_sits_off_the_new_tick_grid_snaps_limits_inwards() -> None:
    reform_day = date(2023, 1, 25)
    groups = tick_groups([InstrumentType.STOCK], [Market.KOSDAQ])
    raw = price_limits(300_100, reform_day, InstrumentType.STOCK, Market.KOSDAQ)
    upper, lower = day_limits(np.array([300_100]), reform_day, groups)
    assert (raw.upper, raw.lower) == (390_000, 210_100)  # 210,100 is not a valid price: the tick is 500
    assert (int(upper[0]), int(lower[0])) == (390_000, 210_500)


def test_day_limits_when_close_on_grid_equals_price_limits_per_market() -> None:
    groups = tick_groups([InstrumentType.STOCK, InstrumentType.STOCK], [Market.KOSPI, Market.KOSDAQ])
    day = date(2022, 6, 30)
    upper, lower = day_limits(np.array([123_000, 123_000]), day, groups)
    kospi = price_limits(123_000, day, InstrumentType.STOCK, Market.KOSPI)
    kosdaq = price_limits(123_000, day, InstrumentType.STOCK, Market.KOSDAQ)
    assert list(upper) == [kospi.upper, kosdaq.upper]
    assert list(lower) == [kospi.lower, kosdaq.lower]
    assert kospi.upper != kosdaq.upper  # the old tables differ by market


@given(
    prices=st.lists(st.floats(10.0, 3_000_000.0), min_size=1, max_size=8),  # above every table's first tick
    kind=KINDS,
    day=st.sampled_from(DAYS),
)
def test_round_to_tick_when_any_price_results_are_ticks_bracketing_it(
    prices: list[float], kind: tuple[InstrumentType, Market], day: date
) -> None:
    values = np.array(prices)
    groups = tick_groups([kind[0]] * len(prices), [kind[1]] * len(prices))
    down = round_to_tick(values, day, groups, "down")
    up = round_to_tick(values, day, groups, "up")
    nearest = round_to_tick(values, day, groups, "nearest")
    for result in (down, up, nearest):
        assert np.all(result % tick_size_array(result, day, *kind) == 0)
    assert np.all(down <= values)
    assert np.all(up >= values)
    assert np.all((nearest == down) | (nearest == up))
    assert np.all(np.abs(nearest - values) <= np.minimum(values - down, up - values) + 1e-9)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            KINDS,
            st.integers(600, 2_000_000),  # yesterday's close, before rounding onto the grid
            st.floats(0.001, 0.05),  # daily volatility
            st.floats(-0.4, 0.4),  # target return, beyond the limits on purpose
            st.sampled_from(["none", "up", "down"]),
        ),
        min_size=1,
        max_size=6,
    ),
    day=st.sampled_from(DAYS),
    seed=st.integers(0, 2**32 - 1),
)
def test_generate_day_when_random_inputs_prices_are_valid_and_locks_close_at_the_limit(
    rows: list[tuple[tuple[InstrumentType, Market], int, float, float, str]], day: date, seed: int
) -> None:
    kinds = [row[0] for row in rows]
    groups = tick_groups([kind for kind, _ in kinds], [market for _, market in kinds])
    base = np.array([int(round_down_array(np.array([row[1]]), day, *row[0])[0]) for row in rows])
    upper, lower = day_limits(base, day, groups)
    n, minutes = len(rows), 20
    inputs = DayInputs(
        day=day,
        base=base,
        upper=upper,
        lower=lower,
        log_return=np.array([row[3] for row in rows]),
        gap=np.array([row[3] / 4 for row in rows]),
        volatility=np.array([row[2] for row in rows]),
        volume=np.full(n, 10_000.0),
        lock_up=np.array([row[4] == "up" for row in rows]),
        lock_down=np.array([row[4] == "down" for row in rows]),
        groups=groups,
    )
    bars = generate_day(np.random.default_rng(seed), inputs, minutes)
    assert bars.close.shape == (n, minutes + 1)
    for i, (kind, market) in enumerate(kinds):
        for prices in (bars.open[i], bars.high[i], bars.low[i], bars.close[i]):
            assert np.all(prices % tick_size_array(prices, day, kind, market) == 0)
            assert np.all((lower[i] <= prices) & (prices <= upper[i]))
    assert np.all(bars.high >= np.maximum(bars.open, bars.close))
    assert np.all(bars.low <= np.minimum(bars.open, bars.close))
    assert np.all(bars.volume >= 0)
    assert np.all(bars.open[:, -1] == bars.close[:, -1])  # the auction bar is one print
    assert np.all(bars.high[:, -1] == bars.low[:, -1])
    np.testing.assert_array_equal(bars.close[inputs.lock_up, -1], upper[inputs.lock_up])
    np.testing.assert_array_equal(bars.close[inputs.lock_down, -1], lower[inputs.lock_down])
