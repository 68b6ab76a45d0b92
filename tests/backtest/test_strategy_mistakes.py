"""A user's strategy mistakes: each is that strategy's error, logged and counted, never a stopped run; and the
two speed hooks, which are given the whole day at once, are checked for looking ahead (a one-line slip such as
``prices[-1]`` made a backtest no live run can repeat, and nothing said so)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from maemae.backtest.service import BacktestResult, run_backtest
from maemae.domain.intents import IntentSource
from maemae.errors import ConfigError, StrategyError
from maemae.strategy.loader import load_minute
from tests.backtest.conftest import make_config
from tests.backtest.test_strategy_contract import user_class

START, END = date(2025, 12, 1), date(2025, 12, 3)

DAILY = """
from typing import ClassVar
import numpy as np
from maemae.strategy.api import DailyInput, DailyStrategy, Signal, StrategyParams

class NoParams(StrategyParams):
    pass

class Above(DailyStrategy):
    '''Buy while the price is above yesterday's close; evaluate_day is the user's vectorised copy.'''
    name: ClassVar[str] = "above"
    Params: ClassVar[type[StrategyParams]] = NoParams

    def history_days(self) -> int:
        return 5

    def evaluate(self, data: DailyInput) -> Signal:
        return Signal.BUY if data.price > int(data.closes[-1]) else Signal.SELL

class Peeking(Above):
    def evaluate_day(self, code, closes, volumes, prices, volumes_today):
        # the slip: the day's last price stands for every bar
        return np.full(len(prices), 1 if prices[-1] > closes[-1] else -1, dtype=np.int8)

class Short(Above):
    def evaluate_day(self, code, closes, volumes, prices, volumes_today):
        return np.zeros(3, dtype=np.int8)

class Floats(Above):
    def evaluate_day(self, code, closes, volumes, prices, volumes_today):
        return np.full(len(prices), 0.7)

class Mask(Above):
    def evaluate_day(self, code, closes, volumes, prices, volumes_today):
        return np.asarray(prices) > 0  # a mask, not signals: True read as BUY

class Fraction(Above):
    def evaluate(self, data):
        return 1.7

class Text(Above):
    def evaluate(self, data):
        return "1"

class Word(Above):
    def evaluate(self, data):
        return "BUY"

class Truth(Above):
    def evaluate(self, data):
        return True

class Two(Above):
    def evaluate(self, data):
        return 2

class Plain(Above):
    def evaluate(self, data):
        return 1 if data.price > int(data.closes[-1]) else -1
"""

MINUTE = """
from typing import ClassVar
import numpy as np
from maemae.domain.intents import OrderIntent
from maemae.strategy.api import MinuteInput, MinuteStrategy, Signal, StrategyParams, WakeBars

class NoParams(StrategyParams):
    pass

class Eager(MinuteStrategy):
    '''Buys 1 share at market on every bar it is woken while flat, sells on the daily sell signal.'''
    name: ClassVar[str] = "eager"
    Params: ClassVar[type[StrategyParams]] = NoParams

    def on_bar(self, data: MinuteInput):
        if data.position is None:
            return OrderIntent(data.code, "buy", 1, "market")
        if data.daily_signal == Signal.SELL:
            return OrderIntent(data.code, "sell", data.position.quantity, "market")
        return None

class AtTheLow(Eager):
    def wake_bars(self, bars, today_start, daily_signals):
        # the slip: wakes only at the day's lowest open, which no live run knows before the close
        opens = bars.open[today_start:]
        flat = np.zeros(len(opens), dtype=bool)
        flat[int(np.argmin(opens))] = True
        return WakeBars(flat, np.ones(len(opens), dtype=bool))

class NoFlat(Eager):
    def wake_bars(self, bars, today_start, daily_signals):
        return WakeBars(None, np.ones(len(bars) - today_start, dtype=bool))

class Wrong(Eager):
    def on_bar(self, data: MinuteInput):
        return "buy"

class Elsewhere(Eager):
    def on_bar(self, data: MinuteInput):
        return OrderIntent("999990", "buy", 1, "market")

class Priceless(Eager):
    def on_bar(self, data: MinuteInput):
        return OrderIntent(data.code, "buy", 1, "limit")

class OnBuy(Eager):
    def on_bar(self, data: MinuteInput):
        if data.position is None and data.daily_signal is Signal.BUY:
            return OrderIntent(data.code, "buy", 1, "market")
        return None

class Half(Eager):
    def on_bar(self, data: MinuteInput):
        return OrderIntent(data.code, "buy", 2.5, "market")
"""


def _run(
    tmp_path: Path,
    market_root: Path,
    daily: str = "",
    minute: str = "",
    every_bar: bool = False,
) -> BacktestResult:
    strategies = {}
    if daily:
        strategies["daily"] = {"class": user_class(tmp_path, DAILY, daily)}
    if minute:
        strategies["minute"] = {"class": user_class(tmp_path, MINUTE, minute)}
    config = make_config(market_root, strategies=strategies)
    return run_backtest(config, start=START, end=END, every_bar=every_bar)


def _trades(result: BacktestResult) -> list[tuple[object, ...]]:
    return [(f.ts, f.code, f.side, f.quantity, f.price) for f in result.recorder.fills]


def _first_error(result: BacktestResult) -> str:
    return result.engine.kernel.first_strategy_error


def _assert_at_the_users_file(logs: list[dict[str, Any]], folder: Path) -> None:
    """The logged error's ``at=`` names the user's file, as docs/strategies.md says: a wrong return value or
    bars that look ahead named maemae's own line, or nothing; and maemae's finding reads as one error, not
    a StrategyError inside a StrategyError."""
    (first, *_) = [entry for entry in logs if entry["event"] == "strategy_error"]
    assert str(first["at"]).startswith(str(folder)), first
    assert str(first["error"]).count("StrategyError") == 1, first


@pytest.mark.parametrize(
    ("daily", "minute", "hook"),
    [("Peeking", "Eager", "evaluate_day"), ("Above", "AtTheLow", "wake_bars")],
)
def test_speed_hook_when_it_looks_ahead_then_said_and_the_run_trades_as_every_bar_does(
    tmp_path: Path, market_root: Path, daily: str, minute: str, hook: str
) -> None:
    with capture_logs() as logs:
        fast = _run(tmp_path, market_root, daily, minute)
    assert f"{hook} looks ahead" in _first_error(fast)
    _assert_at_the_users_file(logs, tmp_path)
    assert fast.engine.kernel.strategy_errors == 1  # said once, then replaced for the rest of the run
    every = _run(tmp_path, market_root, daily, minute, every_bar=True)
    assert every.engine.kernel.strategy_errors == 0
    assert _trades(fast) == _trades(every)
    assert fast.recorder.days[-1].equity == every.recorder.days[-1].equity


def test_speed_hooks_when_causal_then_not_flagged(tmp_path: Path, market_root: Path) -> None:
    result = _run(tmp_path, market_root, "Above", "Eager")
    assert result.engine.kernel.strategy_errors == 0
    assert result.recorder.fills


@pytest.mark.parametrize(
    ("daily", "minute", "expected"),
    [
        ("Short", "Eager", "evaluate_day gave an array of shape (3,); expected one signal per bar"),
        ("Floats", "Eager", "evaluate_day gave float64 values; expected the integers -1, 0 or 1"),
        ("Mask", "Eager", "evaluate_day gave bool values; expected the integers -1, 0 or 1"),
        ("Above", "NoFlat", "wake_bars: flat is object of shape (); expected"),
        # the compiled engine words it itself: "OrderIntent or None object expected; got str"
        ("Above", "Wrong", "OrderIntent or None"),
        ("Above", "Elsewhere", "on_bar returned an intent for 999990, which is not in today's universe"),
        ("Above", "Priceless", "a limit order needs a positive limit_price, got None"),
        ("Above", "Half", "quantity 2.5 (float): expected a whole number of shares"),
    ],
)
def test_strategy_mistake_when_made_then_counted_and_the_run_goes_on(
    tmp_path: Path, market_root: Path, daily: str, minute: str, expected: str
) -> None:
    with capture_logs() as logs:
        result = _run(tmp_path, market_root, daily, minute)
    assert expected in _first_error(result)
    assert result.engine.kernel.strategy_errors > 0
    _assert_at_the_users_file(logs, tmp_path)
    assert result.recorder.days[-1].day == END


@pytest.mark.parametrize("every_bar", [False, True])
@pytest.mark.parametrize(
    ("daily", "given"),
    [
        ("Fraction", "1.7 (float)"),
        ("Text", "'1' (str)"),
        ("Word", "'BUY' (str)"),
        ("Truth", "True (bool)"),
        ("Two", "2 (int)"),
    ],
)
def test_evaluate_when_it_returns_no_signal_then_an_error_at_the_users_evaluate(
    tmp_path: Path, market_root: Path, daily: str, given: str, every_bar: bool
) -> None:
    """1.7, "1" and True were taken as BUY without a word; "BUY" and 2 were errors that named maemae's own
    line or nothing, and ``evaluate_day``, a hook the user never wrote."""
    with capture_logs() as logs:
        result = _run(tmp_path, market_root, daily, "OnBuy", every_bar=every_bar)
    expected = f"evaluate returned {given}: expected a Signal (Signal.BUY, Signal.SELL or Signal.NONE)"
    (first, *_) = [entry for entry in logs if entry["event"] == "strategy_error"]
    assert first["error"] == repr(StrategyError(f"above: {expected}"))
    assert first["hook"] == "evaluate"
    lines = DAILY.splitlines()
    defined = lines.index(f"class {daily}(Above):") + 2  # the line of its ``def evaluate``
    assert first["at"] == f"{tmp_path / (daily.lower() + '.py')}:{defined} in evaluate (what it returned)"
    assert result.engine.kernel.strategy_errors > 0
    # no signal, so no buy: the value was not taken for BUY (only the safe asset is bought)
    assert not [o for o in result.engine.orders.orders.values() if o.source is IntentSource.STRATEGY]
    assert result.recorder.days[-1].day == END


def test_evaluate_when_it_returns_plain_integers_then_taken_as_the_signals(
    tmp_path: Path, market_root: Path
) -> None:
    """-1, 0 and 1 are what a ``Signal`` is (docs/strategies.md): they stay accepted."""
    plain = _run(tmp_path, market_root, "Plain", "OnBuy")
    assert plain.engine.kernel.strategy_errors == 0
    assert plain.recorder.fills
    assert _trades(plain) == _trades(_run(tmp_path, market_root, "Above", "OnBuy"))


def test_user_file_when_it_defines_a_dataclass_then_loads(tmp_path: Path, market_root: Path) -> None:
    source = (
        MINUTE
        + """
from dataclasses import dataclass

@dataclass
class Level:
    price: int

class WithLevel(Eager):
    pass
"""
    )
    spec = user_class(tmp_path, source, "WithLevel")
    minute = make_config(market_root, strategies={"minute": {"class": spec}}).strategies.minute
    assert minute is not None
    assert load_minute(minute).name == "eager"


def test_user_file_when_a_syntax_error_then_one_line_naming_file_and_line(
    tmp_path: Path, market_root: Path
) -> None:
    spec = user_class(tmp_path, "class Broken(\n    pass\n", "Broken")
    minute = make_config(market_root, strategies={"minute": {"class": spec}}).strategies.minute
    assert minute is not None
    with pytest.raises(ConfigError) as refused:
        load_minute(minute)
    message = str(refused.value)
    assert f"{tmp_path / 'broken.py'}:" in message
    assert "syntax error" in message
    assert "\n" not in message
