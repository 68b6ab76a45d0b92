"""Four things a review found in a backtest's account of itself: the reason ``orders.csv`` gives for an order
the engine cancelled on its unfilled timeout; the day ``strategy_errors_repeated`` names for errors of the
hooks evaluated before the day's trading; how often a user's ``wake_bars`` is asked for the whole day on
the days the speed hooks are checked; and what ``orders.csv`` says of a sell the gate clipped to the shares
held."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from structlog.testing import capture_logs

from maemae.backtest.runner import HOOK_CHECK_DAYS, BacktestRunner, _cuts
from maemae.backtest.service import load_market, run_backtest
from maemae.engine.composition import build_backtest_engine
from tests.backtest.conftest import make_config
from tests.backtest.test_strategy_contract import user_class

FAR_BELOW = """
from typing import ClassVar
from maemae.domain.intents import OrderIntent
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

class NoParams(StrategyParams):
    pass

class FarBelow(MinuteStrategy):
    '''Bids 30 ticks under the last price on every bar it is woken flat: seldom filled, it times out.'''
    name: ClassVar[str] = "far_below"
    Params: ClassVar[type[StrategyParams]] = NoParams

    def on_bar(self, data: MinuteInput):
        if data.position is None:
            return OrderIntent(data.code, "buy", 1, "limit", data.price_ticks_away(-30), reason="far below")
        return None
"""


def test_orders_csv_when_an_order_timed_out_gives_the_timeout_as_its_reason(
    tmp_path: Path, market_root: Path
) -> None:
    strategy = user_class(tmp_path, FAR_BELOW, "FarBelow")
    config = make_config(market_root, strategies={"minute": {"class": strategy}})
    run_backtest(config, start=date(2025, 12, 1), end=date(2025, 12, 2), out_dir=tmp_path / "out")
    with (tmp_path / "out" / "orders.csv").open(encoding="utf-8") as rows:
        cancelled = [row for row in csv.DictReader(rows) if row["final_state"] == "cancelled"]
    assert cancelled
    assert all(row["last_note"].startswith("unfilled timeout") for row in cancelled), {
        row["last_note"] for row in cancelled
    }
    assert all(row["reason"] == "far below" for row in cancelled)


FAILS_ONE_DAY = """
from typing import ClassVar
from maemae.strategy.api import DailyInput, DailyStrategy, Signal, StrategyParams

class NoParams(StrategyParams):
    pass

class FailsOneDay(DailyStrategy):
    '''Buys above yesterday's close; raises the same error for every stock while ``failing`` is set.'''
    name: ClassVar[str] = "fails_one_day"
    Params: ClassVar[type[StrategyParams]] = NoParams
    failing = False

    def history_days(self) -> int:
        return 5

    def evaluate(self, data: DailyInput) -> Signal:
        if self.failing:
            raise RuntimeError("bad day")
        return Signal.BUY if data.price > int(data.closes[-1]) else Signal.SELL
"""


def test_strategy_errors_repeated_when_the_daily_hook_fails_on_one_day_names_that_day(
    tmp_path: Path, market_root: Path
) -> None:
    strategy = user_class(tmp_path, FAILS_ONE_DAY, "FailsOneDay")
    config = make_config(market_root, strategies={"daily": {"class": strategy}})
    market, days = load_market(config, date(2025, 12, 1), date(2025, 12, 3), backtest=True)
    bad_day = days[1]
    engine = build_backtest_engine(config, market.calendar, market.instruments, days[0])
    daily = engine.daily

    def fail_on_the_bad_day(done: int, total: int) -> None:  # after each day, before the next one's hooks
        daily.failing = done < total and days[done] == bad_day  # type: ignore[attr-defined]

    fail_on_the_bad_day(0, len(days))
    with capture_logs() as logs:
        BacktestRunner(engine, market).run(days, fail_on_the_bad_day)
    first = [e for e in logs if e["event"] == "strategy_error"]
    repeated = [e for e in logs if e["event"] == "strategy_errors_repeated"]
    assert [e["hook"] for e in first] == ["evaluate"]
    assert [(e["day"], e["count"]) for e in repeated] == [
        (bad_day.isoformat(), engine.kernel.strategy_errors - 1)
    ]


COUNTING = """
from typing import ClassVar
import numpy as np
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams, WakeBars

class NoParams(StrategyParams):
    pass

class Counting(MinuteStrategy):
    '''Wakes on every bar; counts its wake_bars calls by stock (its bars of yesterday), day and how many of
    today's bars it is shown.'''
    name: ClassVar[str] = "counting"
    Params: ClassVar[type[StrategyParams]] = NoParams
    calls: ClassVar[dict[tuple[bytes, int, int], int]] = {}

    def on_bar(self, data: MinuteInput):
        return None

    def wake_bars(self, bars, today_start, daily_signals):
        n = len(bars) - today_start
        stock = bars.close[:today_start].tobytes() + bars.volume[:today_start].tobytes()
        key = (stock, int(bars.ts[today_start]), n)
        Counting.calls[key] = Counting.calls.get(key, 0) + 1
        return WakeBars(np.ones(n, dtype=bool), np.ones(n, dtype=bool))
"""


def test_wake_bars_on_a_check_day_is_asked_for_the_whole_day_once(tmp_path: Path, market_root: Path) -> None:
    strategy = user_class(tmp_path, COUNTING, "Counting")
    config = make_config(market_root, strategies={"minute": {"class": strategy}})
    market, days = load_market(config, date(2025, 11, 24), date(2025, 12, 3), backtest=True)
    assert len(days) > HOOK_CHECK_DAYS
    engine = build_backtest_engine(config, market.calendar, market.instruments, days[0])
    BacktestRunner(engine, market).run(days)
    assert engine.kernel.strategy_errors == 0
    calls: dict[tuple[bytes, int, int], int] = type(engine.minute).calls  # type: ignore[attr-defined]
    # stock and day -> how many of today's bars it was shown -> how often
    shown: dict[tuple[bytes, int], dict[int, int]] = {}
    for (stock, opening, bars), count in calls.items():
        shown.setdefault((stock, opening), {})[bars] = count
    openings = sorted({opening for _, opening in shown})
    assert len(openings) == len(days)
    for (_, opening), counts in shown.items():
        number = openings.index(opening)
        n = len(market.grid(days[number]))
        expected = {n: 1}  # the whole day, once
        if number < HOOK_CHECK_DAYS:
            expected.update({cut: 1 for cut in _cuts(n)})  # and the check's cut days
        assert counts == expected, days[number]


RAISING = """
from typing import ClassVar
from maemae.domain.intents import OrderIntent
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

class NoParams(StrategyParams):
    pass

class Raising(MinuteStrategy):
    '''Buys 1 share when woken flat; its wake_bars raises, so every stock is woken on every bar.'''
    name: ClassVar[str] = "raising"
    Params: ClassVar[type[StrategyParams]] = NoParams
    whole_days: ClassVar[int] = 0

    def on_bar(self, data: MinuteInput):
        return OrderIntent(data.code, "buy", 1, "market") if data.position is None else None

    def wake_bars(self, bars, today_start, daily_signals):
        if len(bars) - today_start > 300:  # the whole day (the check's cuts show at most 3/4 of it)
            Raising.whole_days += 1
        raise ValueError("a bug in wake_bars")
"""


def test_wake_bars_when_it_raises_on_a_check_day_is_reported_once_per_stock_and_day(
    tmp_path: Path, market_root: Path
) -> None:
    strategy = user_class(tmp_path, RAISING, "Raising")
    config = make_config(market_root, strategies={"minute": {"class": strategy}})
    start, end = date(2025, 11, 24), date(2025, 12, 3)
    fast = run_backtest(config, start=start, end=end)
    whole_days: int = type(fast.engine.minute).whole_days  # type: ignore[attr-defined]
    assert whole_days > 0
    assert fast.engine.kernel.strategy_errors == whole_days
    every = run_backtest(config, start=start, end=end, every_bar=True)
    assert [(f.ts, f.code, f.side, f.quantity, f.price) for f in fast.recorder.fills] == [
        (f.ts, f.code, f.side, f.quantity, f.price) for f in every.recorder.fills
    ]


GREEDY = """
from typing import ClassVar
from maemae.domain.intents import OrderIntent
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

class NoParams(StrategyParams):
    pass

class Greedy(MinuteStrategy):
    '''Buys 5 shares at market while flat; once it holds some, sells ten times what it holds.'''
    name: ClassVar[str] = "greedy"
    Params: ClassVar[type[StrategyParams]] = NoParams

    def on_bar(self, data: MinuteInput):
        if data.position is None:
            return OrderIntent(data.code, "buy", 5, "market", strategy=self.name, reason="in")
        return OrderIntent(
            data.code, "sell", data.position.quantity * 10, "market", strategy=self.name, reason="out"
        )
"""


def test_orders_csv_when_a_sell_asked_more_than_held_gives_what_it_asked_and_the_clipping(
    tmp_path: Path, market_root: Path
) -> None:
    """The gate clips such a sell to the shares held (docs/risk.md), and what is traded stays so; but the
    order showed only the 5 sold: the 50 asked and the clipping were nowhere."""
    strategy = user_class(tmp_path, GREEDY, "Greedy")
    config = make_config(market_root, strategies={"minute": {"class": strategy}})
    result = run_backtest(config, start=date(2025, 12, 1), end=date(2025, 12, 1), out_dir=tmp_path / "out")
    with (tmp_path / "out" / "orders.csv").open(encoding="utf-8") as rows:
        listed = list(csv.DictReader(rows))
    sells = [row for row in listed if row["reason"] == "out" and row["final_state"] != "denied"]
    first = sells[0]
    assert (first["quantity"], first["asked_quantity"], first["filled_quantity"]) == ("5", "50", "5")
    assert all(row["asked_quantity"] == str(10 * int(row["quantity"])) for row in sells)
    assert all(row["filled_quantity"] == row["quantity"] for row in sells if row["final_state"] == "filled")
    sold = [o for o in result.engine.orders.orders.values() if o.reason == "out" and o.filled_quantity]
    assert sold[0].history[0].note == "out; asked 50, clipped to the 5 held"  # the order's history says why
    assert all(
        o.history[0].note == f"out; asked {10 * o.quantity}, clipped to the {o.quantity} held" for o in sold
    )
    buys = [row for row in listed if row["reason"] == "in"]
    assert buys
    assert all(row["asked_quantity"] == "" for row in buys)  # an order that holds what it asked
