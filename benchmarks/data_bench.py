"""Market-data benchmark: loading every minute bar of the default sample market.

Issue 3 asks that loading every minute bar of the default sample takes seconds; the engine's 100-stock,
one-year target (issue 4) includes this load, so it is measured on its own too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import Figures
from maemae.data.bar_cache import MappedBarCache
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.memory import peak_rss_mib


def sample_dir(work: Path) -> Path:
    return work / "market"


def bench_minute_load(work: Path) -> Figures:
    """Wall time to read every minute bar of the sample into columnar arrays (cold page cache not forced):
    from Parquet, then through the mapped cache (a backtest's way), whose copies the first read makes."""
    store = BarStore(sample_dir(work))
    codes = store.codes(Timeframe.MINUTE)
    started = time.perf_counter()
    arrays = store.read_many(codes, Timeframe.MINUTE, None, None)
    seconds = time.perf_counter() - started
    bars = sum(len(series) for series in arrays.values())
    del arrays
    cache = MappedBarCache(store.root, 2**40)
    making = _timed(lambda: (store.read_many(codes, Timeframe.MINUTE, cache=cache), cache.wait()))
    mapping = _timed(lambda: store.read_many(codes, Timeframe.MINUTE, cache=cache))
    return {
        "codes": len(codes),
        "minute bars": bars,
        "wall time from Parquet (s)": seconds,
        "bars per second from Parquet": bars / seconds,
        "first read through the mapped cache, making its copies (s)": making,
        "later reads: mapping the copies (s)": mapping,
        "bars per second mapped": bars / mapping,
        "size of the copies (MiB)": cache.size() / 2**20,
        "peak RSS of the bench process (MiB)": peak_rss_mib(),
    }


def _timed(read: Callable[[], object]) -> float:
    started = time.perf_counter()
    read()
    return time.perf_counter() - started
