from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.data.sample.catalogue import SAFE_ASSET_CODE, Behaviour, build_catalogue
from maemae.domain.enums import InstrumentType, Market


def test_catalogue_when_default_size_mixes_behaviours_markets_and_price_levels() -> None:
    catalogue = build_catalogue(np.random.default_rng(7), 100)
    stocks = catalogue[:-1]
    behaviours = Counter(stock.behaviour for stock in stocks)
    assert behaviours == {
        Behaviour.TRENDING_UP: 25,
        Behaviour.TRENDING_DOWN: 25,
        Behaviour.MEAN_REVERTING: 25,
        Behaviour.FLAT: 25,
    }
    markets = Counter(stock.instrument.market for stock in stocks)
    assert markets[Market.KOSPI] >= 30
    assert markets[Market.KOSDAQ] >= 30
    prices = np.array([stock.start_price for stock in stocks])
    assert np.count_nonzero(prices < 2_000) >= 3
    assert np.count_nonzero((prices >= 5_000) & (prices <= 100_000)) >= 40
    assert np.count_nonzero(prices > 500_000) >= 2
    assert all(stock.daily_volume > 0 for stock in stocks)
    assert all(stock.instrument.instrument_type is InstrumentType.STOCK for stock in stocks)


def test_catalogue_when_built_ends_with_the_cash_like_safe_asset_etf() -> None:
    safe = build_catalogue(np.random.default_rng(1), 4)[-1]
    assert safe.instrument.code == SAFE_ASSET_CODE == "357870"
    assert safe.instrument.instrument_type is InstrumentType.ETF
    assert safe.behaviour is Behaviour.CASH_LIKE
    assert 0 < safe.drift < 0.001
    assert safe.volatility < 0.001


@settings(max_examples=40)
@given(stocks=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
def test_catalogue_when_any_size_codes_and_names_are_unique_six_digit(stocks: int, seed: int) -> None:
    catalogue = build_catalogue(np.random.default_rng(seed), stocks)
    codes = [stock.instrument.code for stock in catalogue]
    names = [stock.instrument.name for stock in catalogue]
    assert len(catalogue) == stocks + 1
    assert len(set(codes)) == len(set(names)) == stocks + 1
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert codes.count(SAFE_ASSET_CODE) == 1
