"""``generate_sample_market``: a deterministic synthetic KRX market, written into a ``BarStore``.

Days are generated in order (each day's limits come from the day before's close) with all stocks at once, so
the default set (101 instruments × 245 sessions × 381 minute bars) takes seconds, not minutes. The same seed
gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from maemae.data.bars import BarArrays, Timeframe
from maemae.data.sample.catalogue import SAFE_ASSET_CODE, Behaviour, SampleStock, build_catalogue
from maemae.data.sample.day_paths import (
    DayBars,
    DayInputs,
    Floats,
    Matrix,
    day_limits,
    generate_day,
    round_to_tick,
    tick_groups,
)
from maemae.data.sample.target import check_target, staged_store, swap_in
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.errors import DataError, DomainError
from maemae.krx.calendar import TradingCalendar, default_calendar
from maemae.krx.exceptions import CALENDAR_START
from maemae.krx.sessions import session_schedule

DEFAULT_END = date(2025, 12, 30)
MEAN_REVERSION = 0.08
DAILY_ONLY_STEPS = 4  # a daily-only day is drawn as a four-step path: enough for its high and low
Int8Matrix = npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class SampleSummary:
    """What ``generate_sample_market`` wrote, for the CLI's one-line report and for tests and benchmarks;
    the limit days are counted from the generated closes, not from the forced ones."""

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


def _pick_limit_days(rng: np.random.Generator, n_stocks: int, n_days: int, count: int) -> Int8Matrix:
    """(stock, day) cells forced to close locked at a limit: ``count`` up (+1) and ``count`` down (-1), all
    distinct and never on the first day, whose limits have no previous close to come from."""
    later_cells = n_stocks * (n_days - 1)
    cells = rng.choice(later_cells, size=min(2 * count, later_cells), replace=False)
    marks = np.zeros((n_stocks, n_days), dtype=np.int8)
    for position, cell in enumerate(cells):
        stock, day = divmod(int(cell), n_days - 1)
        marks[stock, day + 1] = 1 if position % 2 == 0 else -1
    return marks


def _daily_returns(rng: np.random.Generator, stocks: list[SampleStock], log_price: Floats) -> Floats:
    """Each stock's target log return for the day: its drift, plus for mean-reverting stocks a pull back
    towards the starting level (so they oscillate instead of wandering off), plus noise."""
    drift = np.array([stock.drift for stock in stocks])
    volatility = np.array([stock.volatility for stock in stocks])
    anchor = np.log(np.array([stock.start_price for stock in stocks], dtype=np.float64))
    reverting = np.array([stock.behaviour is Behaviour.MEAN_REVERTING for stock in stocks])
    pull = np.where(reverting, -MEAN_REVERSION * (log_price - anchor), 0.0)
    returns: Floats = drift + pull + volatility * rng.standard_normal(len(stocks))
    return returns


def _aggregate_daily(day_ns: int, bars: DayBars) -> Matrix:
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


def _sessions(calendar: TradingCalendar, end: date, days: int) -> list[date]:
    """The ``days`` sessions ending on (or just before) ``end``; an error if the calendar holds fewer."""
    start = max(CALENDAR_START, end - timedelta(days=2 * days + 30))  # 245 sessions take ~365 days
    try:
        sessions = calendar.sessions(start, end)[-days:]
    except DomainError as error:
        raise DataError(f"--end {end.isoformat()}: {error}") from error
    if len(sessions) < days:
        raise DataError(
            f"--days {days}: the trading calendar has only {len(sessions)} sessions up to {end.isoformat()}"
        )
    return sessions


def _write_market(
    store: BarStore, catalogue: list[SampleStock], minute_parts: list[list[Matrix]], daily_rows: list[Matrix]
) -> int:
    """Write the generated market into ``store`` (the staging folder); the number of minute bars."""
    store.write_instruments([stock.instrument for stock in catalogue])
    minute_bars = 0
    for row, stock in enumerate(catalogue):
        if minute_parts[row]:
            matrix = np.concatenate(minute_parts[row], axis=1)
            minute_bars += matrix.shape[1]
            store.write_arrays(
                stock.instrument.code, Timeframe.MINUTE, BarArrays(*np.ascontiguousarray(matrix))
            )
        daily = np.ascontiguousarray(np.stack([part[:, row] for part in daily_rows], axis=1))
        store.write_arrays(stock.instrument.code, Timeframe.DAY, BarArrays(*daily))
    return minute_bars


def _check_sizes(stocks: int, days: int, seed: int, limit_events: int) -> None:
    """Refuse a size or seed out of range in one line, before anything is generated."""
    if not 1 <= stocks <= 3_000:
        raise DataError(f"--stocks {stocks}: expected 1..3000")
    if not 2 <= days <= 2_000:
        raise DataError(f"--days {days}: expected 2..2000")
    if seed < 0:  # numpy's generator takes no negative seed, and said so in a traceback
        raise DataError(f"--seed {seed}: expected 0 or more")
    if limit_events < 0:
        raise DataError(f"limit_events {limit_events}: expected 0 or more")


def generate_sample_market(
    root: Path,
    *,
    stocks: int = 100,
    days: int = 245,
    end: date = DEFAULT_END,
    seed: int = 7,
    calendar: TradingCalendar | None = None,
    limit_events: int = 4,
    minutes: bool = True,
    replace: bool = False,
) -> SampleSummary:
    """Generate and store the sample market; see docs/data.md for what it contains.

    ``minutes=False`` stores daily bars only (each day drawn as a four-step path, so a
    2,500-stock market takes seconds): the shape of a pykrx import, for ``backtest.bars = "day"``. It is a
    different market from the minute one of the same seed.

    ``limit_events`` is how many stock-days are forced to close locked at the upper limit, and as many at
    the lower one (never on the first day, which has no previous close to set its limits).

    A ``root`` that holds a store is refused, unless ``replace``: then that store is replaced as a whole
    (``sample.target``): the new market is written into a staging folder and swapped in once complete, so
    an error or a Ctrl-C before then leaves ``root`` as it was.
    """
    _check_sizes(stocks, days, seed, limit_events)
    check_target(Path(root), replace=replace)
    calendar = calendar or default_calendar()
    sessions = _sessions(calendar, end, days)
    rng = np.random.default_rng(seed)
    catalogue = build_catalogue(rng, stocks)
    n = len(catalogue)
    groups = tick_groups(
        [s.instrument.instrument_type for s in catalogue], [s.instrument.market for s in catalogue]
    )
    volatility = np.array([s.volatility for s in catalogue])
    volume = np.array([s.daily_volume for s in catalogue], dtype=np.float64)
    marks = _pick_limit_days(rng, stocks, len(sessions), limit_events)
    marks = np.vstack([marks, np.zeros((1, len(sessions)), dtype=np.int8)])  # the ETF never locks

    start = np.array([s.start_price for s in catalogue], dtype=np.float64)
    close = round_to_tick(start, sessions[0], groups, "nearest")
    minute_parts: list[list[Matrix]] = [[] for _ in range(n)]
    daily_rows: list[Matrix] = []
    limit_up_days = limit_down_days = 0
    for index, day in enumerate(sessions):
        schedule = session_schedule(day, calendar)
        if schedule is None:  # cannot happen: ``sessions`` comes from the same calendar
            raise DataError(f"session {day.isoformat()}: the calendar has no timetable for it")
        starts = schedule.minute_bar_starts()
        upper, lower = day_limits(close, day, groups)
        inputs = DayInputs(
            day=day,
            base=close,
            upper=upper,
            lower=lower,
            log_return=_daily_returns(rng, catalogue, np.log(close.astype(np.float64))),
            gap=volatility * 0.4 * rng.standard_normal(n),
            volatility=volatility,
            volume=volume * np.exp(rng.normal(0.0, 0.25, size=n)),
            lock_up=marks[:, index] == 1,
            lock_down=marks[:, index] == -1,
            groups=groups,
        )
        bars = generate_day(rng, inputs, len(starts) - 1 if minutes else DAILY_ONLY_STEPS)
        if minutes:
            ts = pd.DatetimeIndex(starts).as_unit("ns").asi8
            value = bars.close * bars.volume
            for row in range(n):
                minute_parts[row].append(
                    np.stack([ts, bars.open[row], bars.high[row], bars.low[row], bars.close[row],
                              bars.volume[row], value[row]])
                )  # fmt: skip
        daily_rows.append(_aggregate_daily(int(pd.Timestamp(day.isoformat(), tz=KST).value), bars))
        close = bars.close[:, -1].copy()
        if index > 0:
            limit_up_days += int((close == upper).sum())
            limit_down_days += int((close == lower).sum())

    with staged_store(Path(root)) as staging:
        minute_bars = _write_market(BarStore(staging), catalogue, minute_parts, daily_rows)
        swap_in(staging, Path(root))
    return SampleSummary(
        root=Path(root),
        instruments=n,
        sessions=len(sessions),
        first_day=sessions[0],
        last_day=sessions[-1],
        minute_bars=minute_bars,
        daily_bars=n * len(sessions),
        limit_up_days=limit_up_days,
        limit_down_days=limit_down_days,
        safe_asset=SAFE_ASSET_CODE,
    )
