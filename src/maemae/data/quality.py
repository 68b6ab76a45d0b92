"""Quality checks on every import from a data source: rows that break a rule are quarantined with the reason,
never fixed; what is odd but possible (a gap, a day without trades, a jump an adjustment explains) is
reported. The CSV import's checks refuse a whole file instead (a person wrote it; a source is fixed upstream),
but its tick rule is this module's ``off_tick_grid``, so a price one importer takes the other takes too. It
has no daily-limit rule: a CSV carries no adjustment factors to tell a split from a bad row (docs/data.md
lists which importer applies which check).

Rules, per code, vectorised over its rows (docs/data.md):

==================================  ============  ============================================================
check                               outcome       why
==================================  ============  ============================================================
positive prices, high >= the rest   quarantined   a broken row
one row per day                     quarantined   the later duplicates
on a KRX trading day                quarantined   KRX did not trade
prices on the tick grid             quarantined   raw prices are always on a tick (as traded)
close within the daily limit        quarantined   unless the adjustment factor changes that day (a split or a
                                                  bonus issue moves the base price): then reported
zero volume                         reported      a trading halt keeps the day with no trades
sessions missing in the range       reported      a gap (a halt, a late listing, or data the source lacks)
==================================  ============  ============================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from maemae.data.bars import BAR_COLUMNS, PRICE_COLUMNS
from maemae.data.instruments import Instrument, listing
from maemae.data.sources.base import FACTOR_COLUMN, SourceBars
from maemae.domain.enums import InstrumentType, Market
from maemae.krx.calendar import TradingCalendar
from maemae.krx.limits import LIMIT_RATE_HISTORY
from maemae.krx.sessions import session_schedule
from maemae.krx.ticks import STOCK_TABLE_REFORM, tick_size_by_day

REASON = "reason"
OFF_TICK = "a price is off the tick grid"
JUMP_SLACK = 0.005  # a close may sit a tick or so beyond the exact limit after rounding


@dataclass(slots=True)
class CodeQuality:
    """One code's import: the rows kept, the rows quarantined (with ``reason``) and what was noticed."""

    kept: pd.DataFrame
    quarantined: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def check_daily(
    bars: SourceBars,
    instrument: Instrument | None,
    previous_close: int | None,
    calendar: TradingCalendar,
    start: date,
    end: date,
) -> CodeQuality:
    """Apply the rules above to one code's daily bars from a source."""
    frame = bars.frame.sort_values("ts", kind="stable").reset_index(drop=True)
    day64 = kst_days(frame["ts"])
    reasons = _row_rules(frame, day64, instrument)
    if len(day64):
        sessions = calendar.session_days(day64.min().astype(date), day64.max().astype(date))
        _flag(reasons, ~np.isin(day64, sessions), "not a KRX trading day")
    notes: list[str] = []
    _limits(frame, reasons, previous_close, day64, notes)
    volume = frame["volume"].to_numpy(np.int64)
    zero = (volume == 0) & (reasons.to_numpy() == "")
    if zero.any():
        notes.append(f"{int(zero.sum())} day(s) without trades (a halt?), first {day64[np.argmax(zero)]}")
    kept = frame[reasons == ""].reset_index(drop=True)
    quarantined = frame[reasons != ""].assign(**{REASON: reasons[reasons != ""]}).reset_index(drop=True)
    _gaps(kept, instrument, calendar, start, end, notes)
    return CodeQuality(
        kept[[*BAR_COLUMNS, *([FACTOR_COLUMN] if bars.has_factors else [])]], quarantined, notes
    )


def check_minutes(
    bars: SourceBars, instrument: Instrument | None, calendar: TradingCalendar, day: date
) -> CodeQuality:
    """One day's minute bars: the row rules, and every bar on the session's minute grid of ``day``."""
    frame = bars.frame.sort_values("ts", kind="stable").reset_index(drop=True)
    reasons = _row_rules(frame, kst_days(frame["ts"]), instrument)
    schedule = session_schedule(day, calendar) if calendar.is_session(day) else None
    grid = schedule.minute_bar_starts_ns() if schedule else np.empty(0, dtype=np.int64)
    stamps = frame["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    on_grid = np.isin(stamps.view(np.int64), grid)
    _flag(reasons, ~on_grid, f"not a minute of the session of {day}")
    kept = frame[reasons == ""].reset_index(drop=True)
    quarantined = frame[reasons != ""].assign(**{REASON: reasons[reasons != ""]}).reset_index(drop=True)
    return CodeQuality(kept[list(BAR_COLUMNS)], quarantined, [])


def kst_days(ts: pd.Series) -> np.ndarray:
    """The KST day of each timestamp, as ``datetime64[D]``."""
    local = ts.dt.tz_convert("Asia/Seoul").dt.tz_localize(None)
    days: np.ndarray = local.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    return days


def _row_rules(frame: pd.DataFrame, day64: np.ndarray, instrument: Instrument | None) -> pd.Series:
    """The rules every bar obeys, daily or minute; the reason of each broken row ("" when none)."""
    reasons = pd.Series("", index=frame.index, dtype=object)
    prices = {name: frame[name].to_numpy(np.int64) for name in ("open", "high", "low", "close")}
    o, h, low, c = prices["open"], prices["high"], prices["low"], prices["close"]
    _flag(reasons, (o <= 0) | (h <= 0) | (low <= 0) | (c <= 0), "a price is not positive")
    _flag(
        reasons,
        (h < low) | (h < o) | (h < c) | (low > o) | (low > c),
        "high/low do not bracket open and close",
    )
    _flag(reasons, frame["volume"].to_numpy(np.int64) < 0, "negative volume")
    _flag(reasons, frame["ts"].duplicated().to_numpy(), "a second row for the same time")
    off = np.logical_or.reduce(list(off_tick_grid(prices, day64, instrument).values()))
    _flag(reasons, off, OFF_TICK)
    return reasons


def off_tick_grid(
    prices: Mapping[str, npt.NDArray[np.int64]], day64: np.ndarray, instrument: Instrument | None
) -> dict[str, npt.NDArray[np.bool_]]:
    """Per price column (``open, high, low, close``), the rows whose price is off the tick grid of its day.

    The one tick rule of every importer (a source's rows here, ``maemae data import``'s in ``csv_import``), so
    the two cannot disagree on a price: the band table is ``krx.ticks``' for the instrument's type and market
    on each row's day (the tables changed in 2023). A row with a price that is not positive is left to the
    rule that refuses it (it has no tick); an unknown instrument is taken for a KOSPI stock.

    Before the 2023 stock reform KOSPI and KOSDAQ had tables of their own, and a stock that moved between
    them (Celltrion, KOSDAQ to KOSPI in 2018) traded on its old market's grid, while the instrument list
    knows only its market now. A stock's price before the reform is therefore on the grid when it is on
    either market's: a KOSPI price of 107,800 in 2017 (KOSDAQ's 100-won tick) passes, where KOSPI's grid
    alone (500 won) would have refused a true price.
    """
    kind, market = listing(instrument)
    other = Market.KOSDAQ if market is Market.KOSPI else Market.KOSPI
    old_stock_grid = kind is InstrumentType.STOCK and day64 < np.datetime64(STOCK_TABLE_REFORM, "D")
    positive = np.logical_and.reduce([prices[name] > 0 for name in PRICE_COLUMNS])
    off: dict[str, npt.NDArray[np.bool_]] = {}
    for name in PRICE_COLUMNS:
        values = np.where(positive, prices[name], 1)
        off[name] = positive & (values % tick_size_by_day(values, day64, kind, market) != 0)
        if np.any(off[name] & old_stock_grid):
            off[name] &= ~old_stock_grid | (values % tick_size_by_day(values, day64, kind, other) != 0)
    return off


def _flag(reasons: pd.Series, mask: np.ndarray, reason: str) -> None:
    """Give ``reason`` to the rows in ``mask`` that have none yet (the first broken rule is the one told)."""
    reasons[np.asarray(mask, dtype=bool) & (reasons.to_numpy() == "")] = reason


def _limits(
    frame: pd.DataFrame,
    reasons: pd.Series,
    previous_close: int | None,
    days: np.ndarray,
    notes: list[str],
) -> None:
    """A close beyond the daily limit of the day before's close: explained by an adjustment or quarantined."""
    close = frame["close"].to_numpy(np.float64)
    usable = (reasons.to_numpy() == "") & (close > 0)
    # each row against the last usable close before it (a quarantined row is no base)
    last_usable = pd.Series(np.where(usable, close, np.nan)).ffill().to_numpy()
    before = np.concatenate([[previous_close or np.nan], last_usable[:-1]])
    if previous_close:
        before = pd.Series(before).fillna(previous_close).to_numpy()
    rate = np.full(len(close), float(LIMIT_RATE_HISTORY[0][1]))
    for start, value in LIMIT_RATE_HISTORY:
        rate[days >= np.datetime64(start, "D")] = float(value)
    move = np.abs(close / before - 1)
    beyond = usable & np.isfinite(move) & (move > rate + JUMP_SLACK)
    if not beyond.any():
        return
    adjusted = np.zeros(len(close), dtype=bool)
    if FACTOR_COLUMN in frame.columns:
        factor = frame[FACTOR_COLUMN].to_numpy(np.float64)
        adjusted[1:] = ~np.isclose(factor[1:], factor[:-1], rtol=1e-6)
    for at in np.flatnonzero(beyond & adjusted):
        notes.append(
            f"{days[at]}: close moved {move[at]:.0%}, explained by an adjustment (split or bonus issue)"
        )
    reasons[beyond & ~adjusted] = (
        "the close is beyond the daily limit of the day before's close (an unmarked split?)"
    )


def _gaps(
    kept: pd.DataFrame,
    instrument: Instrument | None,
    calendar: TradingCalendar,
    start: date,
    end: date,
    notes: list[str],
) -> None:
    first = max(start, instrument.listed) if instrument and instrument.listed else start
    last = min(end, instrument.delisted) if instrument and instrument.delisted else end
    if first > last:
        return
    have = kst_days(kept["ts"])
    if not len(have):
        return
    sessions = calendar.session_days(max(first, have.min().astype(date)), last)
    missing = sessions[~np.isin(sessions, have)]
    if len(missing):
        notes.append(f"{len(missing)} trading day(s) missing, first {missing[0]}")
