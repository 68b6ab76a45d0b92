"""A small sample market shared read-only by the sample tests, and helpers that split series into days."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maemae.data.bars import BAR_COLUMNS, BarArrays
from maemae.data.sample import SampleSummary, generate_sample_market


@pytest.fixture(scope="session")
def sample_market(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    """5 stocks + the ETF over the 12 sessions ending 2025-12-30, with 3 forced limit-up and -down days."""
    root = tmp_path_factory.mktemp("sample_market")
    summary = generate_sample_market(root, stocks=5, days=12, seed=5, limit_events=3)
    return root, summary


def kst_dates(ts: np.ndarray) -> np.ndarray:
    """The KST calendar date of each nanosecond timestamp."""
    return np.asarray(pd.to_datetime(ts, utc=True).tz_convert("Asia/Seoul").date)


def split_days(bars: BarArrays) -> Iterator[tuple[date, BarArrays]]:
    """A minute series as (session date, that day's bars), in order."""
    days = kst_dates(bars.ts)
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    stops = np.r_[starts[1:], len(days)]
    for start, stop in zip(starts, stops, strict=True):
        yield days[start], BarArrays(*(getattr(bars, name)[start:stop] for name in BAR_COLUMNS))
