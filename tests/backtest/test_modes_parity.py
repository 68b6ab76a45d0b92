"""DESIGN 1b: the wake-up engine must trade exactly like the every-bar engine, for every built-in strategy and
risk rule. A missed wake-up shows up here as a missing or different order."""

from bisect import bisect_left
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from maemae.backtest.runner import BacktestRunner, Cursor, _Day
from maemae.backtest.service import load_market, run_backtest
from maemae.engine.composition import build_backtest_engine
from tests.backtest.conftest import make_config

START, END = date(2025, 11, 17), date(2025, 12, 5)

CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "all_risk_rules": {
        "risk": {
            "cooldown": {"enabled": True, "minutes": 15},
            "reentry": {
                "enabled": True,
                "min_breakout_pct": "0.5",
                "min_volume_ratio": "1.2",
                "min_rise_above_exit_pct": "0.5",
            },
            "daily_caps": {"enabled": True, "max_trades_per_stock": 3, "max_trades_per_account": 12},
            "take_profit": {
                "enabled": True,
                "trigger_pct": "1.5",
                "sell_fraction_pct": 50,
                "rebuy_rise_pct": "1",
            },
            "stop_loss": {"enabled": True, "pct": "1.5"},
            "trailing_stop": {"enabled": True, "pct": "1"},
            "portfolio_stop": {"enabled": True, "day_loss_pct": "0.5", "liquidate": True},
            "time_cut": {"enabled": True, "max_days_held": 2},
        },
        "execution": {
            "on_timeout": "replace",
            "unfilled_timeout_s": 120,
            "replace_ticks": 1,
            "max_replaces": 2,
        },
    },
    # the book is often full: flat stocks are not asked for entries until a sell fill frees a slot
    "full_book": {"risk": {"sizing": {"max_positions": 2}}},
    # liquidations cut short by capped fills and sent again; buys working for 30 minutes when the stop trips,
    # their fills moving equity to the stop's level on their own bar
    "capped_liquidation": {
        "risk": {
            "portfolio_stop": {"enabled": True, "day_loss_pct": "0.3", "liquidate": True},
            "stop_loss": {"enabled": False},
        },
        "execution": {"unfilled_timeout_s": 1800},
        "broker": {"sim": {"max_volume_share": "0.02"}},
    },
    "one_trade_a_day_market_orders": {
        "risk": {
            "one_trade_a_day": {"enabled": True},
            "sizing": {"method": "fixed_amount", "fixed_amount": 3_000_000},
        },
        "strategies": {"minute": {"class": "rsi_minute", "params": {"order_type": "market", "oversold": 35}}},
        "broker": {"sim": {"slippage_ticks": 1, "max_volume_share": "0.02"}},
    },
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_backtest_when_every_bar_or_wake_up_mode_gives_identical_orders_and_fills(
    market_root: Path, name: str
) -> None:
    config = make_config(market_root, **CONFIGS[name])
    fast = run_backtest(config, start=START, end=END, every_bar=False)
    slow = run_backtest(config, start=START, end=END, every_bar=True)

    def orders(result: Any) -> list[tuple[Any, ...]]:
        return [
            (
                o.order_id,
                o.code,
                o.side,
                o.quantity,
                o.limit_price,
                o.state,
                o.filled_quantity,
                o.filled_amount,
                o.source,
                o.created_at,
            )
            for o in result.engine.orders.orders.values()
        ]

    assert orders(fast) == orders(slow)
    assert [(f.fill_id, f.code, f.side, f.quantity, f.price, f.ts) for f in fast.recorder.fills] == [
        (f.fill_id, f.code, f.side, f.quantity, f.price, f.ts) for f in slow.recorder.fills
    ]
    assert fast.metrics == slow.metrics
    assert len(fast.recorder.fills) > 10, "the scenario must actually trade"


def test_backtest_when_safe_asset_time_cut_and_portfolio_stop_fire_modes_still_agree(
    market_root: Path,
) -> None:
    from maemae.data.bars import Timeframe
    from maemae.data.store import BarStore

    stocks = [c for c in BarStore(market_root).codes(Timeframe.DAY) if c != "357870"]
    falling = [stocks[1], stocks[5]]  # the sample rotates behaviours: index 1 and 5 trend down
    config = make_config(
        market_root,
        universe={"selector": "fixed", "codes": falling},
        risk={
            "time_cut": {"enabled": True, "max_days_held": 1},
            "portfolio_stop": {"enabled": True, "day_loss_pct": "0.2", "liquidate": True},
            "stop_loss": {"enabled": False},
        },
    )
    with capture_logs() as logs:
        fast = run_backtest(config, start=START, end=END, every_bar=False)
    slow = run_backtest(config, start=START, end=END, every_bar=True)
    sources = {o.source.value for o in fast.engine.orders.orders.values() if o.filled_quantity}
    assert {"safe_asset", "time_cut", "portfolio_stop"} <= sources
    # the warning says when the stop fired in the run's time (its record's ts is the wall clock's): the
    # moment its liquidation orders were decided (those selling a remainder come later: "sell the rest")
    fired = {entry["at"] for entry in logs if entry["event"] == "portfolio_stop"}
    liquidations = [o for o in fast.engine.orders.orders.values() if o.source.value == "portfolio_stop"]
    assert fired == {o.created_at.isoformat() for o in liquidations if o.reason == "portfolio stop"}
    assert [(f.fill_id, f.quantity, f.price) for f in fast.recorder.fills] == [
        (f.fill_id, f.quantity, f.price) for f in slow.recorder.fills
    ]
    assert fast.metrics == slow.metrics


def _first_flat_wake(day: _Day, k: int) -> int | None:
    """The first bar from ``k`` that wakes a flat code, read from the day's sparse flat mask."""
    return next((bar for bar in day.flat_bars[bisect_left(day.flat_bars, k) :] if day.flat_count[bar]), None)


def _fills(runner: BacktestRunner) -> list[tuple[object, ...]]:
    return [(f.code, f.side, f.quantity, f.price, f.ts) for f in runner.recorder.fills]


def test_wake_up_run_when_the_book_is_full_skips_bars_that_would_wake_only_flat_stocks(
    market_root: Path,
) -> None:
    """With no order working and no room in the book, a flat stock's wake-up leads nowhere: the runner does
    not stop there, and its trades are those of the run that visits every bar. Watched through the steps'
    own hook, with nothing patched, so it runs compiled too."""
    config = make_config(market_root, **CONFIGS["full_book"])
    market, days = load_market(config, START, END, backtest=True)
    every_bar = BacktestRunner(
        build_backtest_engine(config, market.calendar, market.instruments, days[0]), market, every_bar=True
    )
    every_bar.run(days)
    engine = build_backtest_engine(config, market.calendar, market.instruments, days[0])
    runner = BacktestRunner(engine, market)
    skipped: list[tuple[date, int, int]] = []  # (day, the flat wake-up passed over, the bar stepped instead)
    waiting: list[tuple[date, int]] = []  # after a step with the book full and no order working

    def watch(cursor: Cursor) -> None:
        stepped = cursor.next_bar - 1
        skipped.extend((day, bar, stepped) for day, bar in waiting if day == cursor.day and bar < stepped)
        waiting.clear()
        day = runner._day
        if day is None or engine.orders.has_open_orders() or engine.kernel.accepts_entries():
            return
        flat = _first_flat_wake(day, cursor.next_bar)
        if flat is not None and flat <= day.last:
            waiting.append((cursor.day, flat))

    runner.run(days, on_step=watch)
    assert len(skipped) > 5, "the scenario must fill the book while flat stocks wake"
    assert _fills(runner) == _fills(every_bar)
    assert len(_fills(runner)) > 5
