from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.enums import InstrumentType, Market
from maemae.errors import DomainError
from maemae.krx.ticks import (
    add_ticks,
    is_on_tick,
    round_down_array,
    round_down_to_tick,
    round_up_array,
    round_up_to_tick,
    tick_size,
    tick_size_array,
)

NEW = date(2024, 5, 2)
OLD = date(2022, 5, 2)

NEW_TABLE_ROWS = [
    (1, 1),
    (1_999, 1),
    (2_000, 5),
    (4_995, 5),
    (5_000, 10),
    (19_990, 10),
    (20_000, 50),
    (49_950, 50),
    (50_000, 100),
    (199_900, 100),
    (200_000, 500),
    (499_500, 500),
    (500_000, 1_000),
    (3_000_000, 1_000),
]
OLD_KOSPI_ROWS = [
    (999, 1),
    (1_000, 5),
    (4_995, 5),
    (5_000, 10),
    (9_990, 10),
    (10_000, 50),
    (49_950, 50),
    (50_000, 100),
    (99_900, 100),
    (100_000, 500),
    (499_500, 500),
    (500_000, 1_000),
]
OLD_KOSDAQ_ROWS = [
    (999, 1),
    (1_000, 5),
    (5_000, 10),
    (10_000, 50),
    (50_000, 100),
    (100_000, 100),
    (600_000, 100),
]


@pytest.mark.parametrize(("price", "tick"), NEW_TABLE_ROWS)
@pytest.mark.parametrize("market", [Market.KOSPI, Market.KOSDAQ])
def test_tick_size_when_current_table_matches_reference_row(price: int, tick: int, market: Market) -> None:
    assert tick_size(price, NEW, market=market) == tick


@pytest.mark.parametrize(("price", "tick"), OLD_KOSPI_ROWS)
def test_tick_size_when_old_kospi_table_matches_reference_row(price: int, tick: int) -> None:
    assert tick_size(price, OLD, market=Market.KOSPI) == tick


@pytest.mark.parametrize(("price", "tick"), OLD_KOSDAQ_ROWS)
def test_tick_size_when_old_kosdaq_table_matches_reference_row(price: int, tick: int) -> None:
    assert tick_size(price, OLD, market=Market.KOSDAQ) == tick


def test_tick_size_when_reform_day_switches_table() -> None:
    assert tick_size(15_000, date(2023, 1, 24)) == 50
    assert tick_size(15_000, date(2023, 1, 25)) == 10


@pytest.mark.parametrize(
    ("price", "on", "tick"),
    [
        (1_500, date(2023, 6, 1), 5),
        (50_000, date(2023, 6, 1), 5),
        (1_500, date(2024, 1, 2), 1),
        (2_000, date(2024, 1, 2), 5),
        (105_000, date(2024, 1, 2), 5),
    ],
)
def test_tick_size_when_etf_follows_etf_table(price: int, on: date, tick: int) -> None:
    assert tick_size(price, on, InstrumentType.ETF) == tick
    assert tick_size(price, on, InstrumentType.ETN) == tick


def test_tick_size_when_price_not_positive_raises_one_line_error() -> None:
    with pytest.raises(DomainError, match="price 0: expected a positive"):
        tick_size(0, NEW)


def test_rounding_when_price_off_grid_goes_to_neighbours() -> None:
    assert round_down_to_tick(50_050, NEW) == 50_000
    assert round_up_to_tick(50_050, NEW) == 50_100
    assert round_up_to_tick(4_999, NEW) == 5_000
    assert round_down_to_tick(4_999, NEW) == 4_995


def test_add_ticks_when_crossing_band_uses_each_bands_tick() -> None:
    assert add_ticks(4_995, 1, NEW) == 5_000
    assert add_ticks(5_000, 1, NEW) == 5_010
    assert add_ticks(5_000, -1, NEW) == 4_995
    assert add_ticks(5_010, -2, NEW) == 4_995


prices = st.integers(min_value=1, max_value=5_000_000)
days = st.sampled_from([OLD, NEW, date(2023, 6, 1)])
kinds = st.sampled_from(list(InstrumentType))
markets = st.sampled_from(list(Market))


@given(prices, days, kinds, markets)
def test_rounding_when_any_price_result_is_valid_and_nearest(
    price: int, on: date, kind: InstrumentType, market: Market
) -> None:
    down = round_down_to_tick(price, on, kind, market)
    up = round_up_to_tick(price, on, kind, market)
    if price >= tick_size(price, on, kind, market):
        assert is_on_tick(down, on, kind, market)
        assert down <= price
    assert is_on_tick(up, on, kind, market)
    assert up >= price
    assert up - price < tick_size(price, on, kind, market)


@given(st.lists(prices, min_size=1, max_size=50), days, kinds, markets)
def test_array_functions_when_any_prices_agree_with_scalar(
    values: list[int], on: date, kind: InstrumentType, market: Market
) -> None:
    array = np.array(values, dtype=np.int64)
    assert tick_size_array(array, on, kind, market).tolist() == [
        tick_size(p, on, kind, market) for p in values
    ]
    assert round_up_array(array, on, kind, market).tolist() == [
        round_up_to_tick(p, on, kind, market) for p in values
    ]
    expected_down = [round_down_to_tick(p, on, kind, market) for p in values]
    assert round_down_array(array, on, kind, market).tolist() == expected_down


@given(st.integers(min_value=1_000, max_value=2_000_000), st.integers(min_value=-20, max_value=20), days)
def test_add_ticks_when_round_trip_returns_to_start(price: int, n: int, on: date) -> None:
    start = round_up_to_tick(price, on)
    assert add_ticks(add_ticks(start, n, on), -n, on) == start
