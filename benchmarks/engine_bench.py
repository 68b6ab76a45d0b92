"""Engine benchmarks (issue 4): the full portfolio engine (shared cash, risk gate, order manager, KRX fill
model) with the built-in SMADaily + RSIMinute pair, on sample markets of three sizes:

(a) 1 stock x 250 days of minute bars, (b) 20 stocks x 60 days, (c) 100 stocks x 1 year (250 days).

Wall time includes loading the bars from Parquet. Bars/s counts every minute bar of every traded stock-day,
the unit a bar-by-bar engine would visit.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.report import Figures
from maemae.backtest.service import WARMUP_SESSIONS, run_backtest
from maemae.config import parse_config
from maemae.data.sample import generate_sample_market
from maemae.memory import peak_rss_mib

CASES = {"a": (1, 250), "b": (20, 60), "c": (100, 250)}


def bench_engine_case(work: Path, case: str) -> Figures:
    stocks, days = CASES[case]
    root = work / f"engine-{case}"
    generate_sample_market(root, stocks=stocks, days=days + WARMUP_SESSIONS, seed=11)
    config = parse_config(
        {
            "data": {"root": str(root)},
            "universe": {"max_stocks": min(stocks, 100), "safe_asset_code": "357870"},
        }
    )
    started = time.perf_counter()
    result = run_backtest(config)
    seconds = time.perf_counter() - started
    traded_days = len(result.recorder.days)
    codes = stocks + 1  # the safe-asset ETF is in every universe
    bars = codes * traded_days * 381
    return {
        "stocks (+ safe-asset ETF)": f"{stocks} (+1)",
        "traded sessions": traded_days,
        "minute bars in range": bars,
        "wall time incl. loading (s)": seconds,
        "bars per second": bars / seconds,
        "executed orders": result.metrics.n_trades,
        "fills": result.metrics.n_fills,
        "denied intents": sum(result.metrics.denied_orders.values()),
        "wall time per decision (ms)": seconds
        * 1000
        / max(1, result.metrics.n_trades + sum(result.metrics.denied_orders.values())),
        "peak RSS of the bench process (MiB)": peak_rss_mib(),
    }


def bench_engine_a(work: Path) -> Figures:
    return bench_engine_case(work, "a")


def bench_engine_b(work: Path) -> Figures:
    return bench_engine_case(work, "b")


def bench_engine_c(work: Path) -> Figures:
    return bench_engine_case(work, "c")


# ----- where the time of case (c) goes (issue 4 asks for the profile when a target is missed)
_PHASES = {
    "per-day preparation: universe, bars on the grid, daily signals, wake-up masks": (
        "maemae.backtest.runner",
        "BacktestRunner",
        "_prepare",
    ),
    "the exchange trading working orders": ("maemae.backtest.runner", "BacktestRunner", "_trade_bar"),
    "kernel decisions: exits, the minute strategy, risk gate, order submission": (
        "maemae.engine.kernel",
        "TradingKernel",
        "on_bar",
    ),
    "of which the risk gate and order submission": ("maemae.engine.kernel", "TradingKernel", "_decide"),
    "portfolio-stop and exit scans after fills": ("maemae.backtest.runner", "BacktestRunner", "_stop_bar"),
}


def bench_engine_c_profile(work: Path) -> Figures:
    """Case (c) again with a timer around each phase of the driver and the kernel."""
    import importlib
    from collections.abc import Callable
    from typing import Any

    spent: dict[str, float] = dict.fromkeys(_PHASES, 0.0)
    calls: dict[str, int] = dict.fromkeys(_PHASES, 0)
    originals: list[tuple[type, str, Callable[..., Any]]] = []

    def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started
                calls[label] += 1

        return wrapper

    for label, (module, owner, name) in _PHASES.items():
        cls = getattr(importlib.import_module(module), owner)
        originals.append((cls, name, getattr(cls, name)))
        setattr(cls, name, timed(label, getattr(cls, name)))
    steps = [0]
    from maemae.backtest.runner import BacktestRunner

    step = BacktestRunner._step

    def counted(self: BacktestRunner, *args: Any) -> None:
        steps[0] += 1
        step(self, *args)

    originals.append((BacktestRunner, "_step", step))
    BacktestRunner._step = counted  # type: ignore[method-assign]
    try:
        figures = bench_engine_case(work, "c")
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)
    total = float(figures["wall time incl. loading (s)"])
    profile: Figures = {"wall time incl. loading, timers on (s)": total}
    for label in _PHASES:
        profile[f"{label} (s)"] = spent[label]
        profile[f"{label}: calls"] = calls[label]
    profile["steps (bars of the shared grid where something can happen; the rest are skipped)"] = steps[0]
    profile["executed orders"] = figures["executed orders"]
    return profile
