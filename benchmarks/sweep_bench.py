"""Parameter sweeps (issue 10): trials per minute on 1 and 2 local processes, and on a Dask cluster of two
worker processes on this machine, with the per-trial overhead of the cluster over the local pool. Each trial
is a full engine backtest of 20 stocks x 40 sessions. Worker processes start clean (a fork server or a
Dask worker): each loads the market and its compiled indicators once, a cost the 24 trials amortise."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.report import Figures
from maemae.backtest.service import WARMUP_SESSIONS
from maemae.backtest.sweep import SweepSpec, sweep
from maemae.backtest.sweep_backends import DaskBackend, LocalBackend
from maemae.config import parse_config
from maemae.data.sample import generate_sample_market

SPEC = SweepSpec(
    {
        "strategies.daily.params.short": [3, 5, 8],
        "strategies.daily.params.long": [10, 20],
        "risk.stop_loss.pct": [2, 3, 5, 8],
    },
    metric="sharpe",
)


def bench_sweep(work: Path) -> Figures:
    from distributed import LocalCluster

    root = work / "sweep-market"
    generate_sample_market(root, stocks=20, days=40 + WARMUP_SESSIONS, seed=5)
    config = parse_config(
        {
            "data": {"root": str(root)},
            "universe": {"max_stocks": 20, "safe_asset_code": "357870"},
            "logging": {"dir": str(work / "log"), "console": False},
        }
    )
    trials = len(SPEC.parameter_sets())
    timings: dict[str, float] = {}
    for name, backend in (("1 process", LocalBackend(1)), ("2 processes", LocalBackend(2))):
        started = time.perf_counter()
        sweep(config, SPEC, backend)
        timings[name] = time.perf_counter() - started
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:  # type: ignore[no-untyped-call]
        started = time.perf_counter()
        sweep(config, SPEC, DaskBackend(cluster.scheduler_address))
        timings["cluster"] = time.perf_counter() - started
    return {
        "trials (full backtests, 20 stocks x 40 sessions)": trials,
        "1 local process: trials per minute": trials * 60 / timings["1 process"],
        "2 local processes: trials per minute": trials * 60 / timings["2 processes"],
        "speed-up from 1 to 2 processes": timings["1 process"] / timings["2 processes"],
        "Dask cluster, 2 worker processes: trials per minute": trials * 60 / timings["cluster"],
        "cluster overhead per trial over the local pool (s)": (timings["cluster"] - timings["2 processes"])
        / trials,
    }
