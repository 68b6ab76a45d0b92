"""Runs every benchmark and rewrites docs/benchmarks.md with the figures and the machine they ran on.

Each benchmark is a function returning rows of figures; a failing benchmark is reported in the document
instead of stopping the others, so one broken part never hides the figures of the rest.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks.allmarket_bench import bench_all_market_daily, bench_all_market_minute
from benchmarks.data_bench import bench_minute_load
from benchmarks.engine_bench import bench_engine_a, bench_engine_b, bench_engine_c, bench_engine_c_profile
from benchmarks.frameworks_bench import bench_backtesting_py, bench_backtrader
from benchmarks.live_bench import bench_live_cycle_100
from benchmarks.machine import describe_machine
from benchmarks.report import Figures, render_markdown
from benchmarks.sample_bench import bench_sample_generation
from benchmarks.sources_bench import bench_import_daily_history
from benchmarks.store_bench import bench_persisted_replay, bench_replay_cycle_100, bench_store_commits
from benchmarks.sweep_bench import bench_sweep

OUTPUT = Path("docs/benchmarks.md")

Benchmark = Callable[[Path], Figures]


def benchmarks() -> list[tuple[str, Benchmark]]:
    """The benchmarks in the order they run; later ones reuse the sample market the first one writes."""
    return [
        ("Sample market generation (default set)", bench_sample_generation),
        ("Loading all minute bars of the default sample", bench_minute_load),
        ("Engine (a): 1 stock x 250 days, SMADaily + RSIMinute, full portfolio", bench_engine_a),
        ("backtesting.py on case (a): same stock, bars and signal logic", bench_backtesting_py),
        ("backtrader on case (a): same stock, bars and signal logic", bench_backtrader),
        ("Engine (b): 20 stocks x 60 days", bench_engine_b),
        ("Engine (c): 100 stocks x 250 days (target <= 3 s incl. loading, RSS <= 2 GB)", bench_engine_c),
        ("Engine (c), where the time goes: the run as Python, a timer per phase", bench_engine_c_profile),
        ("State store: durable changes per second, SQLite and PostgreSQL", bench_store_commits),
        ("Persisted replay vs in-memory backtest: one day, 20 stocks", bench_persisted_replay),
        ("Paper cycle: one step for 100 stocks, persisted (target <= 200 ms CPU)", bench_replay_cycle_100),
        ("Live loop: the 10-second cycle for 100 stocks (target <= 200 ms CPU)", bench_live_cycle_100),
        (
            "Real-data import: 2,500 stocks x 10 years of daily bars from recorded replies",
            bench_import_daily_history,
        ),
        ("Parameter sweep: local processes and a Dask cluster", bench_sweep),
        ("All-market sweep: 2,500 stocks x 1 year of daily bars, 2 workers", bench_all_market_daily),
        ("All-market sweep: 500 stocks x 1 year of minute bars, 2 workers", bench_all_market_minute),
    ]


def main() -> int:
    machine = describe_machine()  # before the runs, while nothing of ours loads the machine
    results: list[tuple[str, Figures | str]] = []
    with tempfile.TemporaryDirectory(prefix="maemae-bench-") as work:
        for title, bench in benchmarks():
            print(f"bench: {title} ...", flush=True)
            try:
                figures = bench(Path(work))
            except Exception:  # a broken benchmark is reported, the others still run
                results.append((title, traceback.format_exc(limit=3)))
                print(f"bench: {title} FAILED", file=sys.stderr)
                continue
            results.append((title, figures))
            print(f"bench: {title}: {figures}", flush=True)
    OUTPUT.write_text(render_markdown(machine, results), encoding="utf-8")
    print(f"bench: wrote {OUTPUT}")
    return 1 if any(isinstance(outcome, str) for _, outcome in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
