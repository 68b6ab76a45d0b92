"""Runs every benchmark and rewrites docs/benchmarks.md with the figures and the machine they ran on.

Each benchmark is a function returning rows of figures; a failing benchmark is reported in the document
instead of stopping the others, so one broken part never hides the figures of the rest.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks.machine import describe_machine
from benchmarks.report import Figures, render_markdown

OUTPUT = Path("docs/benchmarks.md")

Benchmark = Callable[[Path], Figures]


def benchmarks() -> list[tuple[str, str]]:
    """The benchmarks in the order they run, as ``module.function`` in ``benchmarks``; later ones reuse
    the sample market the first one writes. Named, not imported here: a benchmark run in a fresh process
    (``spawn``) imports this module again, and should carry only what its own run needs (a first run's
    figure includes the collector's walk over every object the process holds)."""
    return [
        ("Sample market generation (default set)", "sample_bench.bench_sample_generation"),
        ("Loading all minute bars of the default sample", "data_bench.bench_minute_load"),
        (
            "Engine (a): 1 stock x 250 days, SMADaily + RSIMinute, full portfolio",
            "engine_bench.bench_engine_a",
        ),
        (
            "backtesting.py on case (a): same stock, bars and signal logic",
            "frameworks_bench.bench_backtesting_py",
        ),
        ("backtrader on case (a): same stock, bars and signal logic", "frameworks_bench.bench_backtrader"),
        ("Engine (b): 20 stocks x 60 days", "engine_bench.bench_engine_b"),
        (
            "Engine (c): 100 stocks x 250 days (target <= 3 s incl. loading, RSS <= 2 GB)",
            "engine_bench.bench_engine_c",
        ),
        (
            "Engine (c), where the time goes: the run as Python, a timer per phase",
            "engine_bench.bench_engine_c_profile",
        ),
        ("State store: durable changes per second, SQLite and PostgreSQL", "store_bench.bench_store_commits"),
        ("Persisted replay vs in-memory backtest: one day, 20 stocks", "store_bench.bench_persisted_replay"),
        (
            "Paper cycle: one step for 100 stocks, persisted (target <= 200 ms CPU)",
            "store_bench.bench_replay_cycle_100",
        ),
        (
            "Live loop: the 10-second cycle for 100 stocks (target <= 200 ms CPU)",
            "live_bench.bench_live_cycle_100",
        ),
        (
            "Real-data import: 2,500 stocks x 10 years of daily bars from recorded replies",
            "sources_bench.bench_import_daily_history",
        ),
        ("Parameter sweep: local processes and a Dask cluster", "sweep_bench.bench_sweep"),
        (
            "All-market sweep: 2,500 stocks x 1 year of daily bars, 2 workers",
            "allmarket_bench.bench_all_market_daily",
        ),
        (
            "All-market sweep: 500 stocks x 1 year of minute bars, 2 workers",
            "allmarket_bench.bench_all_market_minute",
        ),
    ]


def _benchmark(name: str) -> Benchmark:
    module, function = name.rsplit(".", 1)
    bench: Benchmark = getattr(importlib.import_module(f"benchmarks.{module}"), function)
    return bench


def main() -> int:
    machine = describe_machine()  # before the runs, while nothing of ours loads the machine
    results: list[tuple[str, Figures | str]] = []
    with tempfile.TemporaryDirectory(prefix="maemae-bench-") as work:
        for title, name in benchmarks():
            print(f"bench: {title} ...", flush=True)
            try:
                figures = _benchmark(name)(Path(work))
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
