"""Market-data benchmarks: generating the default sample market and loading all its minute bars.

Issue 3 asks that loading every minute bar of the default sample takes seconds; the engine's 100-stock,
one-year target (issue 4) includes this load, so it is measured on its own too.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from maemae.data.bars import Timeframe
from maemae.data.sample import generate_sample_market
from maemae.data.store import BarStore

from benchmarks.report import Figures


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_dir(work: Path) -> Path:
    return work / "market"


def bench_sample_generation(work: Path) -> Figures:
    """Wall time to generate the default sample (100 stocks + ETF, 245 sessions, daily and minute bars)."""
    started = time.perf_counter()
    summary = generate_sample_market(sample_dir(work))
    seconds = time.perf_counter() - started
    store = BarStore(sample_dir(work))
    minute_bars = sum(info.n_bars for info in store.info() if info.timeframe == Timeframe.MINUTE)
    size = sum(path.stat().st_size for path in sample_dir(work).rglob("*") if path.is_file())
    return {
        "codes": len(store.codes(Timeframe.DAY)),
        "minute bars": minute_bars,
        "wall time (s)": seconds,
        "target (s)": "<= 60",
        "size on disk (MiB)": size / 2**20,
        "limit-up / limit-down days": f"{summary.limit_up_days} / {summary.limit_down_days}",
    }


def bench_minute_load(work: Path) -> Figures:
    """Wall time to read every minute bar of the sample into columnar arrays (cold page cache not forced)."""
    store = BarStore(sample_dir(work))
    codes = store.codes(Timeframe.MINUTE)
    started = time.perf_counter()
    arrays = store.read_many(codes, Timeframe.MINUTE, None, None)
    seconds = time.perf_counter() - started
    bars = sum(len(series) for series in arrays.values())
    return {
        "codes": len(arrays),
        "minute bars": bars,
        "wall time (s)": seconds,
        "bars per second": bars / seconds,
        "peak RSS of the bench process (MiB)": _peak_rss_mib(),
    }
