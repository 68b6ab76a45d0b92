"""Importing real-data-shaped history (issue 11): 2,500 stocks x 10 years of daily bars answered by a stand-in
of pykrx in its documented format (no network), through the whole import (the source adapter, the quality
checks, the store with its adjustment factors), then read back for a backtest."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.report import Figures
from maemae.data.bars import Timeframe
from maemae.data.sources.pykrx_source import PykrxSource
from maemae.data.store import BarStore
from maemae.data.update import Fetcher
from maemae.domain.codes import StockCode
from maemae.krx.calendar import default_calendar
from maemae.memory import peak_rss_mib

STOCKS = 2_500
FIRST, LAST = date(2015, 12, 1), date(2025, 11, 28)


def _recorded_history() -> pd.DataFrame:
    """Ten years of one stock's raw daily bars as pykrx returns them (prices on the 100-won tick)."""
    sessions = default_calendar().sessions(FIRST, LAST)
    rng = np.random.default_rng(11)
    close = (60_000 + np.cumsum(rng.integers(-5, 6, len(sessions))) * 100).clip(min=20_000)
    frame = pd.DataFrame(
        {
            "시가": close,
            "고가": close + 200,
            "저가": close - 200,
            "종가": close,
            "거래량": rng.integers(1_000, 100_000, len(sessions)),
        },
        index=pd.DatetimeIndex(pd.to_datetime(sessions), name="날짜"),
    )
    frame["거래대금"] = frame["종가"] * frame["거래량"]
    return frame


class _Library:
    def __init__(self, history: pd.DataFrame) -> None:
        self.history = history
        self.stock = SimpleNamespace(get_market_ohlcv=self.ohlcv)

    def ohlcv(self, fromdate: str, todate: str, ticker: str, adjusted: bool = True, **_: Any) -> pd.DataFrame:
        frame = self.history.loc[pd.Timestamp(fromdate) : pd.Timestamp(todate)]
        return frame.drop(columns=["거래대금"]) if adjusted else frame


def bench_import_daily_history(work: Path) -> Figures:
    root = work / "imported"
    store = BarStore(root)
    source = PykrxSource(_Library(_recorded_history()))
    source.requests_per_second = 0.0  # the stand-in has no rate limit: the figure is maemae's own cost
    codes = [StockCode(f"{100_000 + i * 10:06d}") for i in range(STOCKS)]
    fetcher = Fetcher(store, source, default_calendar(), sleep=lambda seconds: None)
    started = time.perf_counter()
    report = fetcher.run({code: (FIRST, LAST) for code in codes})
    imported = time.perf_counter() - started
    bars = sum(result.stored for result in report.results)
    started = time.perf_counter()
    loaded = store.read_many(codes, Timeframe.DAY)
    read = time.perf_counter() - started
    return {
        "stocks": STOCKS,
        "sessions per stock": bars // STOCKS,
        "daily bars imported": bars,
        "import wall time, checks and adjustment factors included (s)": imported,
        "bars imported per second": bars / imported,
        "quarantined rows": sum(result.quarantined for result in report.results),
        "read back for a backtest (s)": read,
        "bars read per second": sum(len(a) for a in loaded.values()) / read,
        "peak RSS of the bench process (MiB)": peak_rss_mib(),
    }
