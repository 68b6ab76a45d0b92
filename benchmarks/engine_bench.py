"""Engine benchmarks (issue 4): the full portfolio engine (shared cash, risk gate, order manager, KRX fill
model) with the built-in SMADaily + RSIMinute pair, on sample markets of three sizes:

(a) 1 stock x 250 days of minute bars, (b) 20 stocks x 60 days, (c) 100 stocks x 1 year (250 days).

Each case runs in a fresh process of its own, so its peak RSS is its own and not what earlier benchmarks
left behind. The process runs the backtest once cold (imports done, compiled-code caches not yet loaded),
then ``WARM_RUNS`` times more; the wall time is the best warm run, with the median and the cold run beside
it (this machine's speed wanders by tens of percent within minutes, and the best run is the one least
disturbed). Wall time includes loading the bars: mapping the memory-mapped copies of their Parquet files
(:mod:`maemae.data.bar_cache`). The copies are made by the first backtest after the bars were written (it
reads Parquet, and another thread writes them meanwhile); that run is made first, in a process of its own,
and reported apart. Bars/s counts every minute bar of every
traded stock-day, the unit a bar-by-bar engine would visit.

The first run's time is given with the CPU time it spent in the process and in the kernel. On this machine
(a virtual machine) memory that another process has just freed costs a first touch in the kernel: right
after the sample market is written, the first run of case (c) has been measured spending 3.5 s there,
against 0.4-0.6 s in a warm run, for the same number of page faults.
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing
import os
import resource
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.report import Figures
from maemae import compiled
from maemae.backtest.minute_feed import StoredMinutes
from maemae.backtest.service import WARMUP_SESSIONS, BacktestResult, load_market, run_backtest
from maemae.config import MaemaeConfig, parse_config
from maemae.data.bar_cache import CACHE_DIRECTORY, SUFFIX
from maemae.data.sample import generate_sample_market
from maemae.memory import peak_rss_mib

CASES = {"a": (1, 250), "b": (20, 60), "c": (100, 250)}
WARM_RUNS = 3


def engine_config(root: Path, stocks: int) -> MaemaeConfig:
    return parse_config(
        {
            "data": {"root": str(root)},
            "universe": {"max_stocks": min(stocks, 100), "safe_asset_code": "357870"},
        }
    )


def bench_engine_case(work: Path, case: str) -> Figures:
    stocks, days = CASES[case]
    root = work / f"engine-{case}"
    generate_sample_market(root, stocks=stocks, days=days + WARMUP_SESSIONS, seed=11)
    copying = _in_fresh_process(_first_run_after_writing, root, stocks)
    return {**_in_fresh_process(_measure, root, stocks), **copying}


def _in_fresh_process(
    measure: Callable[[Path, int], Figures], root: Path, stocks: int, *, pure_python: bool = False
) -> Figures:
    """``measure(root, stocks)`` in a new interpreter: its memory and caches are its own. ``pure_python``:
    the engine's `.py` files run there, not its compiled build (`maemae.compiled`)."""
    before = os.environ.get(compiled.PURE_ENV)
    if pure_python:  # the new interpreter reads it when it imports maemae
        os.environ[compiled.PURE_ENV] = "1"
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            return pool.submit(measure, root, stocks).result()
    finally:
        if before is None:
            os.environ.pop(compiled.PURE_ENV, None)
        else:
            os.environ[compiled.PURE_ENV] = before


def _timed_run(config: MaemaeConfig) -> tuple[float, BacktestResult]:
    """One backtest's wall time; the garbage of the run before is collected first, outside the timer (the
    collector's first full collection in the run would otherwise walk it: a cost of running them in a row,
    not of the run)."""
    gc.collect()
    started = time.perf_counter()
    result = run_backtest(config)
    return time.perf_counter() - started, result


def _first_run_after_writing(root: Path, stocks: int) -> Figures:
    """The first backtest on freshly written bars: it reads Parquet, and the memory-mapped copies of the bar
    files are written by another thread meanwhile; then how long that thread goes on after the run."""
    config = engine_config(root, stocks)
    gc.collect()
    started = time.perf_counter()
    loaded = load_market(config, None, None, backtest=True)
    run_backtest(config, loaded=loaded)
    seconds = time.perf_counter() - started
    source = loaded[0].minute.source
    assert isinstance(source, StoredMinutes)
    assert source.cache is not None, "the copies must be made"
    source.cache.wait()
    copies = list((root / CACHE_DIRECTORY).rglob(f"*{SUFFIX}"))
    return {
        "first run after the bars were written, the mapped copies written alongside (s)": seconds,
        "the copies finished writing after the run (s)": time.perf_counter() - started - seconds,
        "mapped copies made (files)": len(copies),
        "mapped copies on disk (MiB)": sum(path.stat().st_size for path in copies) / 2**20,
    }


def _measure(root: Path, stocks: int) -> Figures:
    """In the fresh process: one cold run, then the warm runs."""
    config = engine_config(root, stocks)
    before = resource.getrusage(resource.RUSAGE_SELF)
    cold, result = _timed_run(config)
    after = resource.getrusage(resource.RUSAGE_SELF)
    peak_after_one = peak_rss_mib()
    warm = [_timed_run(config)[0] for _ in range(WARM_RUNS)]
    best = min(warm)
    decisions = result.metrics.n_trades + sum(result.metrics.denied_orders.values())
    bars = (stocks + 1) * len(result.recorder.days) * 381  # the safe-asset ETF is in every universe
    return {
        "stocks (+ safe-asset ETF)": f"{stocks} (+1)",
        "traded sessions": len(result.recorder.days),
        "minute bars in range": bars,
        f"wall time incl. loading, best of {WARM_RUNS} warm runs (s)": best,
        f"wall time incl. loading, median of {WARM_RUNS} warm runs (s)": statistics.median(warm),
        "wall time of the first run in a fresh process (s)": cold,
        "first run: CPU time in the process, all threads (s)": after.ru_utime - before.ru_utime,
        "first run: CPU time in the kernel for it (s)": after.ru_stime - before.ru_stime,
        "bars per second (best run)": bars / best,
        "executed orders": result.metrics.n_trades,
        "fills": result.metrics.n_fills,
        "denied intents": sum(result.metrics.denied_orders.values()),
        "final equity (won)": result.metrics.final_equity,
        "wall time per decision, best run (ms)": best * 1000 / max(1, decisions),
        "peak RSS of the process after one run (MiB)": peak_after_one,
        f"peak RSS of the process after {1 + WARM_RUNS} runs (MiB)": peak_rss_mib(),
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
    "fills and order updates applied by the order manager": (
        "maemae.execution.order_manager",
        "OrderManager",
        "process_events",
    ),
    "portfolio-stop and exit scans after fills": ("maemae.backtest.runner", "BacktestRunner", "_stop_bar"),
}


def bench_engine_c_profile(work: Path) -> Figures:
    """Case (c) again (its market is the one ``bench_engine_c`` wrote), warm, with a timer around each
    phase of the driver and the kernel, in a fresh process. The timers wrap methods, which compiled code
    calls directly, so this run is of the `.py` files: it tells the shares, the cases above the time."""
    stocks, _ = CASES["c"]
    return _in_fresh_process(_profile, work / "engine-c", stocks, pure_python=True)


def _profile(root: Path, stocks: int) -> Figures:
    config = engine_config(root, stocks)
    run_backtest(config)  # cold: caches loaded, so the timed run below is a warm one
    spent: dict[str, float] = dict.fromkeys(_PHASES, 0.0)
    calls: dict[str, int] = dict.fromkeys(_PHASES, 0)

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
        setattr(cls, name, timed(label, getattr(cls, name)))
    steps = [0]
    from maemae.backtest.runner import BacktestRunner

    step = BacktestRunner._step

    def counted(self: BacktestRunner, *args: Any) -> None:
        steps[0] += 1
        step(self, *args)

    BacktestRunner._step = counted  # type: ignore[method-assign]
    total, result = _timed_run(config)
    profile: Figures = {"wall time incl. loading, timers on (s)": total}
    for label in _PHASES:
        profile[f"{label} (s)"] = spent[label]
        profile[f"{label}: calls"] = calls[label]
    profile["steps (bars of the shared grid where something can happen; the rest are skipped)"] = steps[0]
    profile["executed orders"] = result.metrics.n_trades
    return profile
