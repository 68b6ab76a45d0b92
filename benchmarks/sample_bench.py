"""Benchmark of the sample market generator at its default size (issue 3: <= 60 s on a 2-core machine).

Besides the wall time it reports what the default set contains (price levels, markets, limit days), and it
generates the set a second time to confirm, at full size, that the same seed gives identical arrays.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.report import Figures
from maemae.data.bars import BAR_COLUMNS, Timeframe
from maemae.data.sample import generate_sample_market
from maemae.data.store import BarStore
from maemae.domain.enums import InstrumentType, Market
from maemae.memory import peak_rss_mib

TARGET_SECONDS = 60.0


def _array_digest(root: Path) -> str:
    """SHA-256 over every stored array, in code order, so two runs compare without trusting file bytes."""
    store = BarStore(root)
    digest = hashlib.sha256()
    for timeframe in (Timeframe.DAY, Timeframe.MINUTE):
        for code in store.codes(timeframe):
            bars = store.read_arrays(code, timeframe)
            digest.update(f"{timeframe}/{code}".encode())
            for name in BAR_COLUMNS:
                digest.update(np.ascontiguousarray(getattr(bars, name)).tobytes())
    return digest.hexdigest()


def _contents(root: Path) -> Figures:
    store = BarStore(root)
    instruments = store.read_instruments()
    stocks = [code for code, item in instruments.items() if item.instrument_type is InstrumentType.STOCK]
    last = np.array([int(store.read_arrays(code, Timeframe.DAY).close[-1]) for code in stocks])
    kosdaq = sum(instruments[code].market is Market.KOSDAQ for code in stocks)
    return {
        "last close < 2,000 / 5,000-100,000 / > 500,000 (stocks)": (
            f"{np.count_nonzero(last < 2_000)} / {np.count_nonzero((last >= 5_000) & (last <= 100_000))}"
            f" / {np.count_nonzero(last > 500_000)}"
        ),
        "KOSPI / KOSDAQ stocks": f"{len(stocks) - kosdaq} / {kosdaq}",
    }


def bench_sample_generation(work: Path | None = None, *, check_determinism: bool = True) -> Figures:
    """Generate the default sample market into ``work``/market (a temporary directory when None) and time it.

    The market is left in ``work``/market so a later benchmark can load it.
    """
    with tempfile.TemporaryDirectory(prefix="maemae-sample-bench-") as scratch:
        base = Path(work) if work is not None else Path(scratch)
        root = base / "market"
        started = time.perf_counter()
        summary = generate_sample_market(root)
        seconds = time.perf_counter() - started
        size = sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
        figures: Figures = {
            "instruments (stocks + safe-asset ETF)": summary.instruments,
            "sessions": f"{summary.sessions} ({summary.first_day}..{summary.last_day})",
            "minute bars": summary.minute_bars,
            "daily bars": summary.daily_bars,
            "wall time (s)": seconds,
            "target (s)": f"<= {TARGET_SECONDS:.0f}",
            "minute bars per second": summary.minute_bars / seconds,
            "size on disk (MiB)": size / 2**20,
            "peak RSS of the bench process (MiB)": peak_rss_mib(),
            "limit-up / limit-down days": f"{summary.limit_up_days} / {summary.limit_down_days}",
            **_contents(root),
        }
        if check_determinism:
            again = Path(scratch) / "again"
            generate_sample_market(again)
            same = _array_digest(root) == _array_digest(again)
            shutil.rmtree(again)
            figures["same seed, identical arrays (second run)"] = "yes" if same else "NO"
        return figures


if __name__ == "__main__":
    for name, value in bench_sample_generation().items():
        print(f"{name}: {value}")
