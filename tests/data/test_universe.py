from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maemae.data.bars import BarArrays, Timeframe
from maemae.data.instruments import Instrument
from maemae.data.sample import SAFE_ASSET_CODE
from maemae.data.store import BarStore
from maemae.data.universe import FixedListSelector, TopTradedValueSelector, make_selector, select_stocks
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.errors import ConfigError
from maemae.krx.calendar import default_calendar

CAL = default_calendar()
DAYS = [date(2025, 3, 4), date(2025, 3, 5), date(2025, 3, 6), date(2025, 3, 7)]


def daily(values: list[int]) -> BarArrays:
    ts = (
        pd.DatetimeIndex([pd.Timestamp(d.isoformat(), tz="Asia/Seoul") for d in DAYS[: len(values)]])
        .as_unit("ns")
        .asi8
    )
    ones = np.ones(len(values), dtype=np.int64) * 1_000
    return BarArrays(ts, ones, ones, ones, ones, ones, np.array(values, dtype=np.int64))


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    store = BarStore(tmp_path)
    table = {"000010": [5, 5, 5, 1], "000020": [1, 1, 1, 999], "000030": [3, 3, 3, 3], "357870": [9, 9, 9, 9]}
    for code, values in table.items():
        store.write_arrays(StockCode(code), Timeframe.DAY, daily(values))
    store.write_instruments(
        [
            Instrument(StockCode(c), c, Market.KOSPI, InstrumentType.STOCK)
            for c in ("000010", "000020", "000030")
        ]
        + [Instrument(SAFE_ASSET_CODE, "ETF", Market.KOSPI, InstrumentType.ETF)]
    )
    return store


def bars_of(store: BarStore) -> dict[StockCode, BarArrays]:
    return store.read_many(store.codes(Timeframe.DAY), Timeframe.DAY)


def test_top_traded_value_when_selecting_ignores_the_day_itself(store: BarStore) -> None:
    selector = TopTradedValueSelector(n=2, lookback_days=3, calendar=CAL)
    universe = select_stocks(DAYS[3], bars_of(store), store.read_instruments(), selector)
    assert universe.selected == ("000010", "000030")  # 000020's huge value is on the day itself: unseen


def test_top_traded_value_when_funds_excluded_by_default(store: BarStore) -> None:
    assert SAFE_ASSET_CODE not in TopTradedValueSelector(n=10, lookback_days=3, calendar=CAL).select(
        DAYS[3], bars_of(store), store.read_instruments()
    )


def test_select_stocks_when_safe_asset_and_holdings_added_without_duplicates(store: BarStore) -> None:
    universe = select_stocks(
        DAYS[3],
        bars_of(store),
        store.read_instruments(),
        FixedListSelector((StockCode("000030"), StockCode("000010"))),
        safe_asset=SAFE_ASSET_CODE,
        holdings=[StockCode("000010"), StockCode("000020")],
    )
    assert universe.codes == ("000030", "000010", "357870", "000020")


def test_select_stocks_when_cap_above_100_raises() -> None:
    with pytest.raises(ConfigError, match=r"universe\.max_stocks = 101: expected 1\.\.100"):
        select_stocks(DAYS[0], {}, {}, FixedListSelector(()), max_stocks=101)


def test_make_selector_when_name_unknown_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="expected one of fixed, top_traded_value"):
        make_selector("momentum")


def test_fixed_selector_when_more_than_cap_keeps_first_hundred(store: BarStore) -> None:
    codes = tuple(StockCode(f"{i:06d}") for i in range(10, 1_510, 10))
    assert len(select_stocks(DAYS[0], {}, {}, FixedListSelector(codes)).selected) == 100
