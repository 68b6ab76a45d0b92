"""All-market runs (issue 10): minute bars streamed a window at a time trade exactly like bars held in memory,
and the bars held stay within the stated bound."""

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from maemae.backtest.minute_feed import BARS_PER_SESSION
from maemae.backtest.service import load_market, run_backtest
from maemae.data.bars import BAR_COLUMNS, BarArrays, Timeframe
from maemae.data.store import BarStore
from tests.backtest.conftest import make_config

START, END = date(2025, 11, 17), date(2025, 12, 5)
WINDOW = 3


def fills(result: Any) -> list[tuple[Any, ...]]:
    return [(f.fill_id, f.code, f.side, f.quantity, f.price, f.ts) for f in result.recorder.fills]


@pytest.mark.parametrize("mapped_cache_mib", [0, 4096], ids=["parquet", "mapped"])
def test_streamed_minute_bars_when_run_trade_exactly_like_bars_in_memory(
    market_root: Path, mapped_cache_mib: int
) -> None:
    in_memory = make_config(market_root, backtest={"mapped_cache_mib": 4096 - mapped_cache_mib})
    streamed = make_config(
        market_root,
        backtest={"minute_memory_mib": 0, "stream_sessions": WINDOW, "mapped_cache_mib": mapped_cache_mib},
    )
    loaded = load_market(streamed, START, END)
    market, days = loaded
    assert market.minute.streaming
    assert not load_market(in_memory, START, END)[0].minute.streaming

    fast = run_backtest(streamed, start=START, end=END, loaded=loaded)
    reference = run_backtest(in_memory, start=START, end=END)

    assert fills(fast) == fills(reference)
    assert fast.metrics == reference.metrics
    assert len(fills(reference)) > 10, "the scenario must actually trade"
    assert market.minute.windows_read >= len(days) // WINDOW
    codes = len(market.minute.codes)
    bound = codes * WINDOW * BARS_PER_SESSION
    assert 0 < market.minute.peak_bars <= bound
    everything = sum(
        len(BarStore(market_root).read_arrays(c, Timeframe.MINUTE, days[0], days[-1]))
        for c in market.minute.codes
    )
    assert market.minute.peak_bars < everything / 2  # a window, not the run


def test_streamed_feed_when_a_day_before_the_window_is_asked_moves_back(market_root: Path) -> None:
    config = make_config(market_root, backtest={"minute_memory_mib": 0, "stream_sessions": WINDOW})
    market, days = load_market(config, START, END)
    code = market.minute.codes[0]
    late = market.minute_day(code, days[-1])
    early = market.minute_day(code, days[0])
    stored = BarStore(market_root).read_arrays(code, Timeframe.MINUTE, days[0], days[0])
    assert np.array_equal(early.close, stored.close)
    assert len(early) == BARS_PER_SESSION
    assert len(late) == BARS_PER_SESSION
    assert late.ts[0] > early.ts[-1]


@pytest.mark.parametrize(("first", "last"), [(0, 0), (3, 17), (20, 39), (0, 39)])
def test_store_range_read_when_files_have_monthly_row_groups_equals_slicing_a_full_read(
    market_root: Path, first: int, last: int
) -> None:
    store = BarStore(market_root)
    code = store.codes(Timeframe.MINUTE)[1]
    everything = store.read_arrays(code, Timeframe.MINUTE)
    days = sorted({int(t) for t in (everything.ts + 9 * 3600 * 10**9) // (86400 * 10**9)})
    start, end = (date.fromordinal(date(1970, 1, 1).toordinal() + days[i]) for i in (first, last))
    part = store.read_arrays(code, Timeframe.MINUTE, start, end)
    kst_day = (everything.ts + 9 * 3600 * 10**9) // (86400 * 10**9)
    mask = (kst_day >= days[first]) & (kst_day <= days[last])
    expected = BarArrays(
        *(getattr(everything, n)[mask] for n in ("ts", "open", "high", "low", "close", "volume", "value"))
    )
    assert len(part) == int(mask.sum()) > 0
    assert all(
        np.array_equal(getattr(part, n), getattr(expected, n)) for n in ("ts", "open", "close", "volume")
    )


def test_streamed_minute_bars_when_stocks_missed_minutes_trade_exactly_like_bars_in_memory(
    market_root: Path, tmp_path: Path
) -> None:
    """With minutes missing (an illiquid stock, a session that opened without a trade), a streamed window's
    first day joins the session before by copying, and the in-memory run reads it as a view: the same bars,
    so the same trades."""
    root = tmp_path / "gappy"
    shutil.copytree(market_root, root)
    store = BarStore(root)
    rng = np.random.default_rng(5)
    for code in store.codes(Timeframe.MINUTE):
        bars = store.read_arrays(code, Timeframe.MINUTE)
        minute_of_day = (bars.ts // 60_000_000_000) % 1440
        opening = minute_of_day == minute_of_day.min()  # some sessions open without a trade
        keep = (rng.random(len(bars)) > 0.3) & ~(opening & (rng.random(len(bars)) < 0.5))
        store.write_arrays(code, Timeframe.MINUTE, BarArrays(*(getattr(bars, n)[keep] for n in BAR_COLUMNS)))
    in_memory = make_config(root)
    streamed = make_config(root, backtest={"minute_memory_mib": 0, "stream_sessions": WINDOW})
    assert load_market(streamed, START, END)[0].minute.streaming

    fast = run_backtest(streamed, start=START, end=END)
    reference = run_backtest(in_memory, start=START, end=END)

    assert fills(fast) == fills(reference)
    assert fast.metrics == reference.metrics
    assert len(fills(reference)) > 10, "the scenario must actually trade"
