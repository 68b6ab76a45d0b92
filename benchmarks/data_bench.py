"""Market-data benchmark: loading every minute bar of the default sample market.

Issue 3 asks that loading every minute bar of the default sample takes seconds; the engine's 100-stock,
one-year target (issue 4) includes this load, so it is measured on its own too.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.report import Figures
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.memory import peak_rss_mib


def sample_dir(work: Path) -> Path:
    return work / "market"


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
        "peak RSS of the bench process (MiB)": peak_rss_mib(),
    }
