"""SMADaily's two drivers: the backtest's vectorised ``evaluate_day`` gives, at every bar, exactly the signal
the live loop's ``evaluate`` gives with that bar's price standing for today's close."""

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from maemae.domain.codes import StockCode
from maemae.strategy.api import DailyInput, Signal
from maemae.strategy.sma_daily import SMADaily, SMADailyParams

CODE = StockCode("005930")


@st.composite
def days(draw: st.DrawFn) -> tuple[SMADailyParams, list[int], list[int], list[int]]:
    short = draw(st.integers(1, 10))
    long = draw(st.integers(short + 1, 25))
    params = SMADailyParams(
        short=short,
        long=long,
        volume_filter=draw(st.booleans()),
        volume_ratio=draw(st.sampled_from([Decimal("0.5"), Decimal("1.0"), Decimal("1.7")])),
    )
    n = draw(st.integers(0, 30))  # fewer than long - 1 days: no signal yet
    closes = draw(st.lists(st.integers(100, 300), min_size=n, max_size=n))
    volumes = draw(st.lists(st.integers(0, 1_000), min_size=n, max_size=n))
    # today's prices near the averages, so ties (NONE) and both sides happen
    prices = draw(st.lists(st.integers(100, 300), min_size=1, max_size=40))
    return params, closes, volumes, prices


@settings(max_examples=300, deadline=None)
@given(days())
def test_evaluate_day_when_any_history_and_prices_equals_evaluate_at_each_price(
    day: tuple[SMADailyParams, list[int], list[int], list[int]],
) -> None:
    params, closes, volumes, prices = day
    strategy = SMADaily(params)
    history, traded = np.array(closes, dtype=np.int64), np.array(volumes, dtype=np.int64)
    today, so_far = np.array(prices, dtype=np.int64), np.arange(1, len(prices) + 1, dtype=np.int64)

    vectorised = strategy.evaluate_day(CODE, history, traded, today, so_far)

    live = [
        strategy.evaluate(DailyInput(CODE, history, traded, price, int(volume)))
        for price, volume in zip(prices, so_far, strict=True)
    ]
    assert vectorised.dtype == np.int8
    assert [Signal(int(s)) for s in vectorised] == live


def test_evaluate_day_when_price_sits_on_the_crossing_gives_none() -> None:
    # short 1, long 2 over [100]: at 100 both averages are 100 (NONE), above BUY, below SELL
    strategy = SMADaily(SMADailyParams(short=1, long=2))
    signals = strategy.evaluate_day(
        CODE,
        np.array([100], dtype=np.int64),
        np.array([5], dtype=np.int64),
        np.array([99, 100, 101], dtype=np.int64),
        np.array([1, 2, 3], dtype=np.int64),
    )
    assert signals.tolist() == [Signal.SELL, Signal.NONE, Signal.BUY]
