"""The strategy hooks for all of a day's stocks at once (``evaluate_days``, ``wake_bars_many``): the
built-ins' equal their per-stock hooks on the sample market; a strategy that overrides only a per-stock
hook is asked stock by stock, its own hook; a user's form for all stocks that differs from its per-stock
hook is reported and dropped, and the run trades as the per-stock hooks say."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from maemae.backtest.runner import HOOK_CHECK_DAYS, BacktestRunner, _batched
from maemae.backtest.service import load_market, run_backtest
from maemae.data.bars import BarArrays
from maemae.engine.composition import build_backtest_engine
from maemae.strategy.api import DailyStrategy, Int8Array, MinuteStrategy
from maemae.strategy.rsi_minute import RSIMinute, RSIMinuteParams
from maemae.strategy.sma_daily import SMADaily, SMADailyParams
from tests.backtest.conftest import make_config
from tests.backtest.test_strategy_contract import user_class

START, END = date(2025, 11, 10), date(2025, 12, 3)


@pytest.mark.parametrize("volume_filter", [False, True])
def test_built_in_hooks_at_once_when_on_the_sample_market_equal_the_per_stock_hooks(
    market_root: Path, volume_filter: bool
) -> None:
    config = make_config(market_root)
    market, days = load_market(config, START, END, backtest=True)
    daily = SMADaily(SMADailyParams(short=3, long=10, volume_filter=volume_filter))
    minute = RSIMinute(RSIMinuteParams())
    codes = list(market.daily)
    for day in days:
        history = {code: market.history.daily_before(code, day, 12 if day.day % 2 else 4) for code in codes}
        session = market.day_bars(day, [code for code in codes if len(history[code])])
        shown = session.codes
        volumes = np.cumsum(session.volumes, axis=1)
        closes = [history[code].close for code in shown]
        every = [history[code].volume for code in shown]
        each = np.array(
            [
                daily.evaluate_day(code, closes[row], every[row], session.closes[row], volumes[row])
                for row, code in enumerate(shown)
            ]
        )
        signals = daily.evaluate_days(shown, closes, every, session.closes, volumes)
        assert signals.dtype == np.int8
        assert np.array_equal(signals, each), day
        signals[:, ::3] = 1  # a buy signal now and then, so the flat mask has something to say
        bars = [session.joined[code][0] for code in shown]
        starts = [session.joined[code][1] for code in shown]
        wake = minute.wake_bars_many(bars, starts, signals)
        for row in range(len(shown)):
            one = minute.wake_bars(bars[row], starts[row], signals[row])
            assert np.array_equal(wake.flat[row], one.flat), day
            assert np.array_equal(wake.held[row], one.held), day


class _OwnDaily(SMADaily):
    def evaluate_day(
        self, code: str, closes: np.ndarray, volumes: np.ndarray, prices: np.ndarray, today: np.ndarray
    ) -> Int8Array:
        return -super().evaluate_day(code, closes, volumes, prices, today)


class _OwnMinute(RSIMinute):
    def wake_bars(self, bars: BarArrays, today_start: int, daily_signals: Int8Array) -> None:
        return None


def test_batched_when_a_subclass_overrides_only_the_per_stock_hook_is_false() -> None:
    assert _batched(SMADaily, "evaluate_days", "evaluate_day", DailyStrategy)
    assert _batched(RSIMinute, "wake_bars_many", "wake_bars", MinuteStrategy)
    assert not _batched(_OwnDaily, "evaluate_days", "evaluate_day", DailyStrategy)
    assert not _batched(_OwnMinute, "wake_bars_many", "wake_bars", MinuteStrategy)


COUNTING = """
from typing import ClassVar
from maemae.strategy.rsi_minute import RSIMinute
from maemae.strategy.sma_daily import SMADaily

class CountingDaily(SMADaily):
    '''SMADaily, its per-stock hook's calls counted.'''
    calls: ClassVar[list[int]] = [0]

    def evaluate_day(self, code, closes, volumes, prices, volumes_today):
        CountingDaily.calls[0] += 1
        return super().evaluate_day(code, closes, volumes, prices, volumes_today)

class CountingMinute(RSIMinute):
    '''RSIMinute, its per-stock hook's calls counted by day (today's first bar).'''
    calls: ClassVar[dict[int, int]] = {}

    def wake_bars(self, bars, today_start, daily_signals):
        day = int(bars.ts[today_start])
        CountingMinute.calls[day] = CountingMinute.calls.get(day, 0) + 1
        return super().wake_bars(bars, today_start, daily_signals)
"""


def test_run_when_a_subclass_overrides_only_the_per_stock_hooks_asks_them_for_every_stock_and_day(
    tmp_path: Path, market_root: Path
) -> None:
    daily = user_class(tmp_path, COUNTING, "CountingDaily")
    minute = f"{tmp_path}/countingdaily.py:CountingMinute"
    config = make_config(
        market_root,
        strategies={
            "daily": {"class": daily, "params": {"short": 3, "long": 10}},
            "minute": {"class": minute},
        },
    )
    market, days = load_market(config, START, END, backtest=True)
    assert len(days) > HOOK_CHECK_DAYS + 2
    engine = build_backtest_engine(config, market.calendar, market.instruments, days[0])
    BacktestRunner(engine, market).run(days)
    assert engine.kernel.strategy_errors == 0
    by_day: dict[int, int] = type(engine.minute).calls  # type: ignore[attr-defined]
    assert len(by_day) == len(days)  # asked on every day,
    assert min(by_day.values()) >= 2  # stock by stock
    # after the check days, one call a stock and day for each hook
    after_checks = sum(count for day, count in sorted(by_day.items())[HOOK_CHECK_DAYS:])
    assert type(engine.daily).calls[0] >= after_checks  # type: ignore[attr-defined]
    built_in = run_backtest(make_config(market_root), start=START, end=END)
    own = run_backtest(config, start=START, end=END)
    assert own.metrics == built_in.metrics  # the same hooks' arithmetic, asked stock by stock


DIFFERING = """
from typing import ClassVar
import numpy as np
from maemae.strategy.api import WakeBars
from maemae.strategy.rsi_minute import RSIMinute
from maemae.strategy.sma_daily import SMADaily

class Differing(SMADaily):
    '''SMADaily with an evaluate_days of its own that says BUY everywhere: not what evaluate_day says.'''
    def evaluate_days(self, codes, closes, volumes, prices, volumes_today):
        return np.ones(prices.shape, dtype=np.int8)

class Sleepy(RSIMinute):
    '''RSIMinute with a wake_bars_many of its own that wakes a stock where wake_bars does not, and not
    where it does.'''
    def wake_bars_many(self, bars, today_starts, daily_signals):
        wake = super().wake_bars_many(bars, today_starts, daily_signals)
        return WakeBars(~wake.flat, ~wake.held)
"""


def test_run_when_a_users_hook_at_once_differs_from_the_per_stock_hook_reports_it_and_trades_as_that_one(
    tmp_path: Path, market_root: Path
) -> None:
    daily = user_class(tmp_path, DIFFERING, "Differing")
    minute = f"{tmp_path}/differing.py:Sleepy"
    config = make_config(
        market_root,
        strategies={
            "daily": {"class": daily, "params": {"short": 3, "long": 10}},
            "minute": {"class": minute},
        },
    )
    result = run_backtest(config, start=START, end=END)
    assert result.engine.kernel.strategy_errors == 2  # each hook once, on the first check day
    assert result.metrics.n_trades > 0
    built_in = run_backtest(make_config(market_root), start=START, end=END)
    assert result.metrics.n_trades == built_in.metrics.n_trades
    assert result.metrics.final_equity == built_in.metrics.final_equity


def test_hooks_at_once_when_not_overridden_loop_over_the_per_stock_hooks() -> None:
    daily = _OwnDaily(SMADailyParams(short=2, long=3))
    closes = [np.array([10, 11, 12], dtype=np.int64), np.array([12, 11, 10], dtype=np.int64)]
    prices = np.array([[13, 9], [9, 13]], dtype=np.int64)
    today = np.ones((2, 2), dtype=np.int64)
    signals = DailyStrategy.evaluate_days(daily, ["A", "B"], closes, closes, prices, today)
    for row in range(2):
        expected = daily.evaluate_day("A", closes[row], closes[row], prices[row], today[row])
        assert np.array_equal(signals[row], expected)
    assert signals.tolist() == [[-1, 1], [1, -1]]  # the subclass's negated signals
    minute = _OwnMinute(RSIMinuteParams())
    wake = MinuteStrategy.wake_bars_many(minute, [BarArrays.empty()], [0], np.zeros((1, 3), dtype=np.int8))
    assert wake is not None
    assert wake.flat.all()
    assert wake.held.all()
