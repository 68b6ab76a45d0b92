"""All-market sweeps (issue 10): wall time and peak memory per worker on a generated 2,500-stock x 1-year
daily-bar market and a 500-stock x 1-year minute-bar market, each trial a full engine backtest run by the
local backend's two worker processes. The minute market is run twice: streamed (its bars are over the
memory budget, the default) and with every bar in memory, to show what streaming bounds.

The markets are generated in a child process, so the generator's own memory is not counted anywhere.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.report import Figures
from maemae.backtest.minute_feed import BARS_PER_SESSION, BYTES_PER_BAR
from maemae.backtest.service import WARMUP_SESSIONS
from maemae.backtest.sweep import SweepSpec, sweep
from maemae.backtest.sweep_backends import LocalBackend
from maemae.config import parse_config
from maemae.data.sample import generate_sample_market

YEAR = 250
WORKERS = 2


def _generate(root: Path, stocks: int, minutes: bool) -> float:
    """Generate the market in a child process; returns its wall time."""
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1) as pool:
        pool.submit(
            generate_sample_market, root, stocks=stocks, days=YEAR + WARMUP_SESSIONS, seed=17, minutes=minutes
        ).result()
    return time.perf_counter() - started


def _sweep(work: Path, root: Path, grid: dict[str, list[Any]], **sections: Any) -> tuple[pd.DataFrame, float]:
    config = parse_config(
        {
            "data": {"root": str(root)},
            "universe": {"max_stocks": 100, "safe_asset_code": "357870"},
            "logging": {"dir": str(work / "log"), "console": False},
            **sections,
        }
    )
    started = time.perf_counter()
    result = sweep(config, SweepSpec(grid, metric="total_return"), LocalBackend(WORKERS))
    return result.table, time.perf_counter() - started


def _per_worker(table: pd.DataFrame) -> dict[str, Any]:
    peaks = table.groupby("worker_pid")["worker_peak_rss_mib"].max()
    return {
        "trials": len(table),
        "worker processes": len(peaks),
        "wall time per trial, mean (s)": float(table["seconds"].mean()),
        "wall time per trial, max (s)": float(table["seconds"].max()),
        "peak RSS per worker, max (MiB)": float(peaks.max()),
        "peak RSS per worker, min (MiB)": float(peaks.min()),
    }


def bench_all_market_daily(work: Path) -> Figures:
    root = work / "market-2500-daily"
    generated = _generate(root, 2_500, minutes=False)
    table, seconds = _sweep(
        work,
        root,
        {"strategies.daily.params.short": [3, 5], "strategies.daily.params.long": [20, 30]},
        backtest={"bars": "day"},
        strategies={"minute": {"class": "follow_daily"}},
    )
    return {
        "market": f"2,500 stocks x {YEAR} sessions of daily bars (backtest.bars = day), universe top 100",
        "generation wall time (s)": generated,
        **_per_worker(table),
        "sweep wall time, 2 workers (s)": seconds,
        "trades per trial, mean": float(table["n_trades"].mean()),
    }


def bench_all_market_minute(work: Path) -> Figures:
    stocks = 500
    root = work / "market-500-minute"
    generated = _generate(root, stocks, minutes=True)
    grid = {"strategies.daily.params.short": [3, 5]}
    streamed, streamed_seconds = _sweep(work, root, grid)
    in_memory, memory_seconds = _sweep(work, root, grid, backtest={"minute_memory_mib": 16_384})
    assert list(streamed.sort_values("trial")["final_equity"]) == list(
        in_memory.sort_values("trial")["final_equity"]
    ), "streamed and in-memory runs must agree"
    run_bytes = (stocks + 1) * (YEAR + 1) * BARS_PER_SESSION * BYTES_PER_BAR
    window_bytes = 101 * 20 * BARS_PER_SESSION * BYTES_PER_BAR
    return {
        "market": f"{stocks} stocks x {YEAR} sessions of minute bars, universe top 100",
        "minute bars in the run (estimate, MiB)": run_bytes / 2**20,
        "bound on minute bars held when streamed, 101 codes x 20 sessions (MiB)": window_bytes / 2**20,
        "generation wall time (s)": generated,
        **{f"streamed: {key}": value for key, value in _per_worker(streamed).items()},
        "streamed: sweep wall time, 2 workers (s)": streamed_seconds,
        **{
            f"all in memory: {key}": value
            for key, value in _per_worker(in_memory).items()
            if key.startswith(("wall", "peak"))
        },
        "all in memory: sweep wall time, 2 workers (s)": memory_seconds,
        "trades per trial, mean": float(streamed["n_trades"].mean()),
        "streamed and in-memory final equity identical": "yes",
    }
