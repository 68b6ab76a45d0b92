"""The strategy contract: data ends at "now", a strategy's exception is counted, never fatal, and a full book
is not asked for entries."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from maemae.backtest.service import run_backtest
from maemae.config import MaemaeConfig
from maemae.domain.clock_time import KST
from maemae.domain.enums import Side
from maemae.domain.fill import Fill
from maemae.domain.position import Position
from maemae.strategy.inputs import PositionView
from tests.backtest.conftest import make_config

START, END = date(2025, 12, 1), date(2025, 12, 3)

SPY = """
from datetime import datetime, timedelta, timezone
from typing import ClassVar
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

SEEN: list[tuple[datetime, int]] = []

class SpyParams(StrategyParams):
    fail_every: int = 0

class Spy(MinuteStrategy):
    name: ClassVar[str] = "spy"
    Params: ClassVar[type[StrategyParams]] = SpyParams

    def __init__(self, params: SpyParams) -> None:
        super().__init__(params)
        self.p = params
        self.calls = 0

    def on_bar(self, data: MinuteInput) -> None:
        self.calls += 1
        SEEN.append((data.now, int(data.bars.ts[-1])))
        if self.p.fail_every and self.calls % self.p.fail_every == 0:
            raise ZeroDivisionError("a bug in the user's strategy")
        return None
"""


def user_class(tmp_path: Path, source: str, name: str) -> str:
    """``path:Name`` of class ``name`` in ``source``, saved as a user's strategy file."""
    path = tmp_path / f"{name.lower()}.py"
    path.write_text(source, encoding="utf-8")
    return f"{path}:{name}"


def spy_config(tmp_path: Path, market_root: Path, fail_every: int) -> MaemaeConfig:
    minute = {"class": user_class(tmp_path, SPY, "Spy"), "params": {"fail_every": fail_every}}
    return make_config(market_root, strategies={"minute": minute})


def test_minute_strategy_when_called_never_sees_a_bar_that_has_not_closed(
    tmp_path: Path, market_root: Path
) -> None:
    result = run_backtest(spy_config(tmp_path, market_root, 0), start=START, end=END)
    minute = result.engine.minute
    seen = minute.on_bar.__globals__["SEEN"]
    assert len(seen) > 1_000
    for now, last_bar_start in seen:
        bar_close = datetime.fromtimestamp(last_bar_start / 1e9, tz=now.tzinfo) + timedelta(minutes=1)
        assert bar_close <= now


def test_strategy_exception_when_raised_is_counted_and_the_run_goes_on(
    tmp_path: Path, market_root: Path
) -> None:
    result = run_backtest(spy_config(tmp_path, market_root, 7), start=START, end=END)
    assert result.engine.kernel.strategy_errors > 100
    assert result.recorder.days[-1].day == END


BUY_EVERYTHING = """
from typing import ClassVar
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

CALLS: list[tuple[object, str, bool]] = []

class BuyEverything(MinuteStrategy):
    name: ClassVar[str] = "buy_everything"
    Params: ClassVar[type[StrategyParams]] = StrategyParams

    def on_bar(self, data: MinuteInput) -> OrderIntent | None:
        CALLS.append((data.now, data.code, data.position is not None))
        if data.position is None:
            return OrderIntent(data.code, Side.BUY, None, OrderType.MARKET, strategy=self.name)
        return None
"""


def test_full_book_when_max_positions_held_or_being_bought_asks_the_strategy_for_no_entry(
    tmp_path: Path, market_root: Path
) -> None:
    config = make_config(
        market_root,
        strategies={"minute": {"class": user_class(tmp_path, BUY_EVERYTHING, "BuyEverything")}},
        risk={"sizing": {"max_positions": 2}},
    )
    result = run_backtest(config, start=START, end=END, every_bar=True)
    orders = list(result.engine.orders.orders.values())
    bought = {o.code for o in orders if o.filled_quantity}
    assert len(bought) == 2  # ten buy signals on the first bar open two positions, not ten
    assert not any(o.state.value == "denied" for o in orders)  # no entry was asked for, so none denied
    calls = result.engine.minute.on_bar.__globals__["CALLS"]
    first_full = min(o.created_at for o in orders if o.filled_quantity and o.code in bought)
    asked_for_entry = [(now, code) for now, code, held in calls if not held and now > first_full]
    assert asked_for_entry == []  # once the book was full, only held stocks were shown to the strategy
    assert any(held for _, _, held in calls)


BROKEN_HOOKS = """
from typing import ClassVar
from maemae.strategy.api import StrategyParams
from maemae.strategy.rsi_minute import RSIMinute
from maemae.strategy.sma_daily import SMADaily

class BrokenWake(RSIMinute):
    name: ClassVar[str] = "broken_wake"

    def wake_bars(self, bars, today_start, daily_signals, holding):  # the signature before WakeBars
        raise AssertionError("never called with this signature")

class BrokenDaily(SMADaily):
    name: ClassVar[str] = "broken_daily"

    def evaluate_day(self, code, closes, volumes, prices, volumes_today):
        raise ValueError("a bug in the user's vectorised signal")

class DoubledDaily(SMADaily):
    name: ClassVar[str] = "doubled_daily"

    def evaluate_day(self, code, closes, volumes, prices, volumes_today):
        return super().evaluate_day(code, closes, volumes, prices, volumes_today) * 2  # 2 is no signal
"""


def test_wake_bars_when_it_raises_wakes_every_bar_and_trades_as_if_it_had_none(
    tmp_path: Path, market_root: Path
) -> None:
    broken_wake = user_class(tmp_path, BROKEN_HOOKS, "BrokenWake")
    broken = run_backtest(
        make_config(market_root, strategies={"minute": {"class": broken_wake}}), start=START, end=END
    )
    plain = run_backtest(make_config(market_root), start=START, end=END)
    assert broken.engine.kernel.strategy_errors > 0  # counted, and the run went on to the end
    assert broken.recorder.days[-1].day == END
    # woken on every bar instead, the minute strategy makes the same decisions (its masks are a superset)
    assert [(f.code, f.side, f.quantity, f.price, f.ts) for f in broken.recorder.fills] == [
        (f.code, f.side, f.quantity, f.price, f.ts) for f in plain.recorder.fills
    ]
    assert plain.engine.kernel.strategy_errors == 0
    assert len(plain.recorder.fills) > 5


@pytest.mark.parametrize(
    ("broken", "fails_every_day"),
    [
        ("BrokenDaily", True),  # raises, for every stock on every day
        ("DoubledDaily", False),  # returns 2 and -2, which are no signal, where SMADaily gives one
    ],
)
def test_daily_strategy_when_it_fails_gives_no_signal_that_stock_day_and_the_run_goes_on(
    tmp_path: Path, market_root: Path, broken: str, fails_every_day: bool
) -> None:
    config = make_config(
        market_root, strategies={"daily": {"class": user_class(tmp_path, BROKEN_HOOKS, broken)}}
    )
    result = run_backtest(config, start=START, end=END)
    days = len(result.recorder.days)
    errors = result.engine.kernel.strategy_errors
    assert errors >= days if fails_every_day else errors > 0
    assert result.recorder.days[-1].day == END

    def strategy_buys(fills: list[Fill]) -> list[Fill]:
        return [f for f in fills if f.side is Side.BUY and f.code != config.universe.safe_asset_code]

    assert strategy_buys(result.recorder.fills) == []  # no daily BUY signal, so nothing was entered
    assert strategy_buys(run_backtest(make_config(market_root), start=START, end=END).recorder.fills)


HOLDER = """
from typing import ClassVar
from maemae.strategy.rsi_minute import RSIMinute

SEEN = []

class Holder(RSIMinute):
    name: ClassVar[str] = "holder"

    def on_bar(self, data):
        if data.position is not None:
            SEEN.append((data.code, data.now, data.position))
        return super().on_bar(data)
"""


def test_position_view_when_a_stock_is_held_shows_what_the_portfolio_owns(
    tmp_path: Path, market_root: Path
) -> None:
    """Every view equals the position booked from the fills before it (a fill in bar t is booked at the step
    after bar t closes, so a fill stamped ``now`` is not in the view at ``now``)."""
    minute = {"class": user_class(tmp_path, HOLDER, "Holder")}
    result = run_backtest(make_config(market_root, strategies={"minute": minute}), start=START, end=END)
    seen = result.engine.minute.on_bar.__globals__["SEEN"]
    assert len(seen) > 10
    for code, now, view in seen:
        booked = Position(code)
        for fill in result.recorder.fills:
            if fill.code == code and fill.ts < now:
                booked.apply_fill(fill)
        assert (view.quantity, view.cost_basis) == (booked.owned_quantity, booked.cost_basis)
        assert view.average_cost == booked.average_cost == Decimal(view.cost_basis) / view.quantity


def test_position_view_when_built_flat_is_refused() -> None:
    with pytest.raises(ValueError, match="quantity 0: expected 1 or more"):
        PositionView(0, 0, datetime(2025, 12, 1, 9, 1, tzinfo=KST), "rsi_minute")
