"""Before the 2023 reform KOSPI and KOSDAQ stocks had different tick grids (KOSDAQ: 100 won from 50,000 up;
KOSPI: 100 to 100,000, then 500). Every price the engine moves or checks for a stock uses its own market's
grid: the strategy's ``price_ticks_away``, a timed-out order's re-price, and (tests/risk, tests/brokers)
the risk gate's tick check and the exchange's slippage."""

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from maemae.backtest.service import run_backtest
from maemae.brokers.sim.exchange import SimExchange
from maemae.config import parse_config
from maemae.data.bars import BarArrays
from maemae.data.instruments import Instrument
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market, Side
from maemae.domain.intents import OrderIntent
from maemae.engine.composition import build_core
from maemae.krx.calendar import default_calendar
from maemae.krx.costs import CostModel
from maemae.krx.ticks import tick_table
from maemae.strategy.inputs import MinuteInput, Signal
from tests.backtest.conftest import make_config
from tests.backtest.test_strategy_contract import user_class

OLD_DAY = date(2022, 6, 2)
NOW = datetime(2022, 6, 2, 9, 5, tzinfo=KST)
CODE = StockCode("123456")


def view_at(price: int, market: Market) -> MinuteInput:
    ts = np.array([0], dtype=np.int64)
    prices = np.array([price], dtype=np.int64)
    volume = np.array([10], dtype=np.int64)
    bars = BarArrays(ts, prices, prices, prices, prices, volume, volume * prices)
    return MinuteInput(CODE, NOW, bars, 0, Signal.NONE, None, InstrumentType.STOCK, market)


def test_the_old_grids_differ_at_150_100() -> None:  # the premise of this file's tests
    assert tick_table(OLD_DAY, InstrumentType.STOCK, Market.KOSDAQ).is_on_grid(150_100)
    assert not tick_table(OLD_DAY, InstrumentType.STOCK, Market.KOSPI).is_on_grid(150_100)


def test_price_ticks_away_when_before_the_reform_moves_on_the_stocks_market_grid() -> None:
    assert view_at(150_100, Market.KOSDAQ).price_ticks_away(1) == 150_200
    assert view_at(150_100, Market.KOSDAQ).price_ticks_away(-2) == 149_900
    assert view_at(150_000, Market.KOSPI).price_ticks_away(1) == 150_500
    assert view_at(100_000, Market.KOSPI).price_ticks_away(-1) == 99_900  # the band below: 100 won


def test_re_price_when_a_kosdaq_order_times_out_before_the_reform_moves_on_kosdaq_grid() -> None:
    clock = [NOW]
    calendar = default_calendar()
    instruments = {CODE: Instrument(CODE, "코스닥 종목", Market.KOSDAQ)}
    exchange = SimExchange(
        clock=lambda: clock[0],
        calendar=calendar,
        costs=CostModel(),
        instruments=instruments,
        initial_cash=100_000_000,
    )
    exchange.start_day(OLD_DAY, {CODE: 150_000})
    config = parse_config(
        {"execution": {"on_timeout": "replace", "unfilled_timeout_s": 60, "replace_ticks": 1}}
    )
    core = build_core(config, calendar, instruments, exchange, resilient=False)
    order = core.orders.submit(OrderIntent(CODE, Side.BUY, 1, limit_price=149_900), 1, NOW)
    clock[0] = NOW + timedelta(minutes=2)
    core.orders.check_timeouts(clock[0])
    assert order.limit_price == 150_000  # one KOSDAQ tick (100 won) up, not an error on KOSPI's grid
    core.orders.check_timeouts(clock[0] + timedelta(minutes=2))
    assert order.limit_price == 150_100  # on KOSDAQ's grid only


SPY = """
from typing import ClassVar
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

SEEN: dict[str, str] = {}

class MarketSpy(MinuteStrategy):
    name: ClassVar[str] = "market_spy"
    Params: ClassVar[type[StrategyParams]] = StrategyParams

    def on_bar(self, data: MinuteInput) -> None:
        SEEN[data.code] = data.market.value
        return None
"""


def test_minute_input_when_a_backtest_wakes_a_stock_carries_its_market(
    tmp_path: Path, market_root: Path
) -> None:
    config = make_config(
        market_root, strategies={"minute": {"class": user_class(tmp_path, SPY, "MarketSpy")}}
    )
    result = run_backtest(config, start=date(2025, 12, 1), end=date(2025, 12, 3))
    seen = result.engine.minute.on_bar.__globals__["SEEN"]
    instruments = BarStore(market_root).read_instruments()
    assert {instruments[StockCode(code)].market.value for code in seen} == {"kospi", "kosdaq"}
    assert seen == {code: instruments[StockCode(code)].market.value for code in seen}
