from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maemae.domain.enums import InstrumentType, Market
from maemae.errors import DomainError
from maemae.krx.limits import limit_rate, price_limits
from maemae.krx.ticks import is_on_tick, round_up_to_tick

NEW = date(2025, 3, 4)


@pytest.mark.parametrize(
    ("base", "on", "market", "upper", "lower"),
    [
        (9_980, NEW, Market.KOSPI, 12_970, 6_990),  # KRX's own example, current table
        (9_940, date(2020, 6, 1), Market.KOSDAQ, 12_900, 6_960),  # KRX's example on the old KOSDAQ table
        (166_500, NEW, Market.KOSPI, 216_000, 116_600),
        (1_999, NEW, Market.KOSDAQ, 2_595, 1_400),
        (100_000, NEW, Market.KOSPI, 130_000, 70_000),
    ],
)
def test_price_limits_when_reference_example_matches(
    base: int, on: date, market: Market, upper: int, lower: int
) -> None:
    limits = price_limits(base, on, market=market)
    assert (limits.upper, limits.lower) == (upper, lower)


def test_limit_rate_when_before_2015_reform_is_15_percent() -> None:
    assert limit_rate(date(2015, 6, 12)) * 100 == 15
    assert limit_rate(date(2015, 6, 15)) * 100 == 30


def test_price_limits_when_leveraged_etf_doubles_band() -> None:
    limits = price_limits(10_000, NEW, InstrumentType.ETF, leverage=2)
    assert (limits.upper, limits.lower) == (16_000, 4_000)


def test_price_limits_when_base_not_positive_raises() -> None:
    with pytest.raises(DomainError, match="base price -5"):
        price_limits(-5, NEW)


@given(
    st.integers(min_value=10, max_value=3_000_000),
    st.sampled_from([date(2022, 3, 2), NEW]),
    st.sampled_from(list(Market)),
    st.sampled_from([InstrumentType.STOCK, InstrumentType.ETF]),
)
def test_price_limits_when_any_base_limits_are_valid_ticks_around_base(
    raw: int, on: date, market: Market, kind: InstrumentType
) -> None:
    base = round_up_to_tick(raw, on, kind, market)
    limits = price_limits(base, on, kind, market)
    assert is_on_tick(limits.upper, on, kind, market)
    assert is_on_tick(limits.lower, on, kind, market)
    assert 1 <= limits.lower <= base <= limits.upper
    assert limits.upper <= base * 13 // 10
    assert limits.lower >= base * 7 // 10
