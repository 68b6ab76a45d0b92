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
