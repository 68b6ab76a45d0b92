"""Backtests on daily bars alone (``backtest.bars = "day"``): data from pykrx or FinanceDataReader has no
minute bars, and the engine must still trade it, the same way in every mode, without look-ahead."""

import shutil
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from maemae.backtest.service import run_backtest
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.enums import Side
from maemae.errors import ConfigError
from tests.backtest.conftest import make_config

START, END = date(2025, 11, 3), date(2025, 12, 5)
SHORT, LONG = 3, 8


def daily_config(root: Path, **sections: Any) -> Any:
    return make_config(
        root,
        backtest={"bars": "day"},
        strategies={
            "daily": {"class": "sma_daily", "params": {"short": SHORT, "long": LONG}},
            "minute": {"class": "follow_daily"},
        },
        broker={"sim": {"max_volume_share": "1"}},
        **sections,
    )


@pytest.fixture(scope="module")
def daily_only_root(market_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test market without its minute bars: what a pykrx import gives."""
    root = tmp_path_factory.mktemp("daily-only")
    shutil.copytree(market_root, root, dirs_exist_ok=True)
    shutil.rmtree(root / "minute")
    return root


def expected_trades(root: Path, code: str) -> list[tuple[date, Side, int]]:
    """A plain re-implementation: at each open, SMA(short) vs SMA(long) with the open as today's close;
    flat and above: buy; held and below: sell; the order fills at that day's close."""
    bars = BarStore(root).read_frame(code, Timeframe.DAY)
    bars["day"] = bars["ts"].dt.date
    trades: list[tuple[date, Side, int]] = []
    held = False
    for i in range(len(bars)):
        day = bars["day"].iloc[i]
        if not START <= day <= END or i < LONG - 1:
            continue
        closes = [int(c) for c in bars["close"].iloc[i - (LONG - 1) : i]]
        today = int(bars["open"].iloc[i])
        short = (sum(closes[-(SHORT - 1) :]) + today) * LONG
        long = (sum(closes) + today) * SHORT
        if not held and short > long:
            trades.append((day, Side.BUY, int(bars["close"].iloc[i])))
            held = True
        elif held and short < long:
            trades.append((day, Side.SELL, int(bars["close"].iloc[i])))
            held = False
    return trades


def test_daily_bars_when_run_trade_at_the_close_on_the_signal_seen_at_the_open(
    daily_only_root: Path,
) -> None:
    code = sorted(c for c in BarStore(daily_only_root).codes(Timeframe.DAY) if c != "357870")[2]
    config = daily_config(
        daily_only_root,
        universe={"selector": "fixed", "codes": [code], "safe_asset_code": None},
        risk={"stop_loss": {"enabled": False}, "trailing_stop": {"enabled": False}},
    )
    result = run_backtest(config, start=START, end=END)
    fills = [(f.ts.date(), f.side, f.price) for f in result.recorder.fills]
    assert fills == expected_trades(daily_only_root, code)
    assert len(fills) >= 2, "the scenario must actually trade"
    for fill in result.recorder.fills:
        assert fill.ts == datetime.combine(fill.ts.date(), time(15, 30), tzinfo=KST)
    for order in result.engine.orders.orders.values():  # decided after the opening print, never at the close
        assert order.created_at.time() == time(9, 1)


def test_daily_bars_when_every_bar_or_wake_up_mode_gives_identical_orders(daily_only_root: Path) -> None:
    config = daily_config(daily_only_root)
    fast = run_backtest(config, start=START, end=END, every_bar=False)
    slow = run_backtest(config, start=START, end=END, every_bar=True)
    assert [(f.fill_id, f.code, f.quantity, f.price) for f in fast.recorder.fills] == [
        (f.fill_id, f.code, f.quantity, f.price) for f in slow.recorder.fills
    ]
    assert fast.metrics == slow.metrics
    assert fast.metrics.n_trades > 5


def test_daily_bars_when_the_store_also_has_minutes_ignores_them(
    market_root: Path, daily_only_root: Path
) -> None:
    with_minutes = run_backtest(daily_config(market_root), start=START, end=END)
    without = run_backtest(daily_config(daily_only_root), start=START, end=END)
    assert with_minutes.metrics == without.metrics


def test_daily_bars_with_the_rsi_minute_strategy_is_refused_in_one_line(market_root: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^config: backtest.bars = 'day': .*'rsi_minute' needs minute bars"
    ):
        make_config(market_root, backtest={"bars": "day"})
