from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maemae.data.bars import BarArrays, Timeframe
from maemae.data.instruments import Instrument, listing
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


def plain_top(on: date, n: int, lookback: int, market: dict[StockCode, BarArrays], kinds: dict) -> list:
    """The rule written out: listed on ``on``, a stock (funds, preferred shares and SPACs out), some trade in
    the ``lookback`` sessions before ``on``; most value first, ties to the lower code."""
    first = pd.Timestamp(CAL.add_sessions(on, -lookback).isoformat(), tz="Asia/Seoul").value
    before = pd.Timestamp(on.isoformat(), tz="Asia/Seoul").value
    totals = []
    for code, bars in market.items():
        instrument = kinds[code]
        if instrument.instrument_type is not InstrumentType.STOCK or not instrument.is_listed_on(on):
            continue
        inside = (bars.ts >= first) & (bars.ts < before)
        if inside.any():
            totals.append((-int(bars.value[inside].sum()), code))
    return [code for _, code in sorted(totals)[:n]]


@pytest.mark.parametrize("seed", range(8))
def test_top_traded_value_when_market_is_random_matches_the_plain_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sessions = CAL.sessions(date(2025, 1, 2), date(2025, 4, 30))
    stamps = pd.DatetimeIndex([pd.Timestamp(d.isoformat(), tz="Asia/Seoul") for d in sessions]).as_unit("ns")
    market: dict[StockCode, BarArrays] = {}
    kinds: dict[StockCode, Instrument] = {}
    types = [InstrumentType.STOCK] * 6 + [InstrumentType.ETF, InstrumentType.PREFERRED, InstrumentType.SPAC]
    for i in range(60):
        code = StockCode(f"{(i * 7919) % 999_999:06d}")
        present = np.sort(rng.choice(len(sessions), size=int(rng.integers(1, len(sessions))), replace=False))
        values = rng.integers(0, 4, size=len(present)) * 1_000_000  # coarse values: many ties
        ones = np.ones(len(present), dtype=np.int64)
        market[code] = BarArrays(stamps.asi8[present], ones, ones, ones, ones, ones, values)
        listed = sessions[int(rng.integers(0, 40))] if rng.random() < 0.3 else None
        delisted = sessions[int(rng.integers(40, len(sessions)))] if rng.random() < 0.3 else None
        kinds[code] = Instrument(
            code, code, Market.KOSDAQ, types[int(rng.integers(0, len(types)))], listed, delisted
        )
    selector = TopTradedValueSelector(n=10, lookback_days=5, calendar=CAL)
    for on in sessions[6::3]:
        assert selector.select(on, market, kinds) == plain_top(on, 10, 5, market, kinds), on


def test_listing_when_a_code_is_known_or_missing_gives_its_kind_and_market_or_a_kospi_stocks() -> None:
    etf = Instrument(StockCode("357870"), "TIGER CD금리투자KIS", Market.KOSPI, InstrumentType.ETF)
    kosdaq = Instrument(StockCode("091990"), "셀트리온헬스케어", Market.KOSDAQ)
    assert listing(etf) == (InstrumentType.ETF, Market.KOSPI)
    assert listing(kosdaq) == (InstrumentType.STOCK, Market.KOSDAQ)
    assert listing(None) == (InstrumentType.STOCK, Market.KOSPI)
