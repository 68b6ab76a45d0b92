"""``generate_sample_market``: a deterministic synthetic KRX market, written into a ``BarStore``.

Days are generated in order (each day's limits come from the day before's close) with all stocks at once, so
the default set (101 instruments × 245 sessions × 381 minute bars) takes seconds, not minutes. The same seed
gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from maemae.data.bars import BarArrays, Timeframe
from maemae.data.sample.catalogue import SAFE_ASSET_CODE, Behaviour, SampleStock, build_catalogue
from maemae.data.sample.day_paths import DayBars, DayInputs, generate_day
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType
from maemae.errors import DataError
from maemae.krx.calendar import TradingCalendar, default_calendar
from maemae.krx.limits import price_limits
from maemae.krx.sessions import session_schedule

DEFAULT_END = date(2025, 12, 30)
MEAN_REVERSION = 0.08


@dataclass(frozen=True, slots=True)
class SampleSummary:
    root: Path
    instruments: int
    sessions: int
    first_day: date
    last_day: date
    minute_bars: int
    daily_bars: int
    limit_up_days: int
    limit_down_days: int
    safe_asset: StockCode

    def __str__(self) -> str:
        return (
            f"{self.instruments} instruments (safe asset {self.safe_asset}), {self.sessions} sessions "
            f"{self.first_day}..{self.last_day}, {self.minute_bars:,} minute bars, "
            f"{self.limit_up_days} limit-up and {self.limit_down_days} limit-down days, in {self.root}"
        )


def _pick_limit_days(rng: np.random.Generator, n_stocks: int, n_days: int, count: int) -> np.ndarray:
    """(stock, day) cells forced to close locked at a limit: ``count`` up and ``count`` down, distinct."""
    cells = rng.choice(
        n_stocks * max(n_days - 1, 1), size=min(2 * count, n_stocks * max(n_days - 1, 1)), replace=False
    )
    marks = np.zeros((n_stocks, n_days), dtype=np.int8)
    for position, cell in enumerate(cells):
        stock, day = divmod(int(cell), max(n_days - 1, 1))
        marks[stock, day + 1 if n_days > 1 else 0] = 1 if position % 2 == 0 else -1
    return marks


def _daily_returns(rng: np.random.Generator, stocks: list[SampleStock], log_price: np.ndarray) -> np.ndarray:
    drift = np.array([stock.drift for stock in stocks])
    volatility = np.array([stock.volatility for stock in stocks])
    anchor = np.log(np.array([stock.start_price for stock in stocks], dtype=np.float64))
    reverting = np.array([stock.behaviour is Behaviour.MEAN_REVERTING for stock in stocks])
    pull = np.where(reverting, -MEAN_REVERSION * (log_price - anchor), 0.0)
    returns: np.ndarray = drift + pull + volatility * rng.standard_normal(len(stocks))
    return returns


def _aggregate_daily(day_ns: int, bars: DayBars) -> np.ndarray:
    """One daily bar per stock from its minute bars: rows ts, open, high, low, close, volume, value."""
    value = (bars.close * bars.volume).sum(axis=1)
    n = bars.open.shape[0]
    return np.stack(
        [
            np.full(n, day_ns, dtype=np.int64),
            bars.open[:, 0],
            bars.high.max(axis=1),
            bars.low.min(axis=1),
            bars.close[:, -1],
            bars.volume.sum(axis=1),
            value,
        ]
    )


def generate_sample_market(
    root: Path,
    *,
    stocks: int = 100,
    days: int = 245,
    end: date = DEFAULT_END,
    seed: int = 7,
    calendar: TradingCalendar | None = None,
    limit_events: int = 4,
) -> SampleSummary:
    """Generate and store the sample market; see docs/data.md for what it contains."""
    if not 1 <= stocks <= 3_000:
        raise DataError(f"--stocks {stocks}: expected 1..3000")
    if not 2 <= days <= 2_000:
        raise DataError(f"--days {days}: expected 2..2000")
    calendar = calendar or default_calendar()
    sessions = calendar.sessions(date(2006, 1, 2), end)[-days:]
    rng = np.random.default_rng(seed)
    catalogue = build_catalogue(rng, stocks)
    n = len(catalogue)
    is_etf = np.array([s.instrument.instrument_type is InstrumentType.ETF for s in catalogue])
    volatility = np.array([s.volatility for s in catalogue])
    volume = np.array([s.daily_volume for s in catalogue], dtype=np.float64)
    marks = _pick_limit_days(rng, stocks, len(sessions), limit_events)
    marks = np.vstack([marks, np.zeros((1, len(sessions)), dtype=np.int8)])  # the ETF never locks

    close = np.array([s.start_price for s in catalogue], dtype=np.int64)
    minute_parts: list[list[np.ndarray]] = [[] for _ in range(n)]
    daily_rows: list[np.ndarray] = []
    for index, day in enumerate(sessions):
        schedule = session_schedule(day, calendar)
        assert schedule is not None  # ``sessions`` holds trading days only
        starts = schedule.minute_bar_starts()
        limits = [
            price_limits(int(c), day, s.instrument.instrument_type)
            for c, s in zip(close, catalogue, strict=True)
        ]
        inputs = DayInputs(
            day=day,
            base=close,
            upper=np.array([limit.upper for limit in limits], dtype=np.int64),
            lower=np.array([limit.lower for limit in limits], dtype=np.int64),
            log_return=_daily_returns(rng, catalogue, np.log(close.astype(np.float64))),
            gap=volatility * 0.4 * rng.standard_normal(n),
            volatility=volatility,
            volume=volume * np.exp(rng.normal(0.0, 0.25, size=n)),
            lock_up=marks[:, index] == 1,
            lock_down=marks[:, index] == -1,
            is_etf=is_etf,
        )
        bars = generate_day(rng, inputs, len(starts) - 1)
        ts = pd.DatetimeIndex(starts).as_unit("ns").asi8
        for row in range(n):
            minute_parts[row].append(
                np.stack(
                    [
                        ts,
                        bars.open[row],
                        bars.high[row],
                        bars.low[row],
                        bars.close[row],
                        bars.volume[row],
                        bars.close[row] * bars.volume[row],
                    ]
                )
            )
        daily_rows.append(_aggregate_daily(int(pd.Timestamp(day.isoformat(), tz="Asia/Seoul").value), bars))
        close = bars.close[:, -1].copy()

    store = BarStore(root)
    store.write_instruments([stock.instrument for stock in catalogue])
    minute_bars = 0
    for row, stock in enumerate(catalogue):
        minutes = np.concatenate(minute_parts[row], axis=1)
        minute_bars += minutes.shape[1]
        store.write_arrays(stock.instrument.code, Timeframe.MINUTE, BarArrays(*np.ascontiguousarray(minutes)))
        daily = np.ascontiguousarray(np.stack([part[:, row] for part in daily_rows], axis=1))
        store.write_arrays(stock.instrument.code, Timeframe.DAY, BarArrays(*daily))
    return SampleSummary(
        root=Path(root),
        instruments=n,
        sessions=len(sessions),
        first_day=sessions[0],
        last_day=sessions[-1],
        minute_bars=minute_bars,
        daily_bars=n * len(sessions),
        limit_up_days=int((marks == 1).sum()),
        limit_down_days=int((marks == -1).sum()),
        safe_asset=SAFE_ASSET_CODE,
    )
