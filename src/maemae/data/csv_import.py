"""``maemae data import``: bars from a CSV file into the store, all or nothing.

Columns (docs/data.md): ``code, ts, open, high, low, close, volume`` and optionally ``value`` (traded value in
won; close × volume when absent). Every row is checked before anything is written; the first problem found is
reported as one line naming the file, the line and the rule, and the store is left exactly as it was. A fetch
quarantines a source's bad rows instead, but the tick rule is the same function (``quality.off_tick_grid``):
a price off the grid of its day and instrument is refused here as it is quarantined there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from maemae.data.bars import BAR_COLUMNS, PRICE_COLUMNS, BarArrays, Timeframe
from maemae.data.instruments import Instrument, listing
from maemae.data.quality import kst_days, off_tick_grid
from maemae.data.store import BarStore
from maemae.data.validation import (
    Problem,
    check_bar_values,
    check_numbers,
    check_order,
    check_sessions,
    first_line,
)
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.errors import DataError, InvalidStockCode
from maemae.krx.calendar import TradingCalendar
from maemae.krx.ticks import tick_size

REQUIRED = ("code", "ts", "open", "high", "low", "close", "volume")
OPTIONAL = ("value",)
INSTRUMENT_COLUMNS = ("code", "name", "market", "instrument_type")
INSTRUMENT_OPTIONAL = ("listed", "delisted")


@dataclass(frozen=True, slots=True)
class ImportSummary:
    path: Path
    timeframe: Timeframe
    rows: int
    codes: tuple[StockCode, ...]


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty, expected a header line and bars") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV file ({str(error).splitlines()[0]})") from None
    frame.columns = [str(name).strip().lower() for name in frame.columns]
    return frame


def _check_columns(
    path: Path, frame: pd.DataFrame, required: tuple[str, ...], optional: tuple[str, ...]
) -> None:
    missing = [name for name in required if name not in frame.columns]
    extra = [name for name in frame.columns if name not in required + optional]
    expected = ", ".join(required) + (f" [, {', '.join(optional)}]" if optional else "")
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected columns: {expected}")
    if extra:
        raise DataError(f"{path}: unknown column(s) {', '.join(extra)}; expected columns: {expected}")
    if frame.empty:
        raise DataError(f"{path}: no data rows after the header")


def _parse_codes(
    frame: pd.DataFrame, known: Mapping[StockCode, Instrument] | None
) -> tuple[pd.Series, list[Problem]]:
    normalised: dict[str, StockCode] = {}
    problems: list[Problem] = []
    for raw in frame["code"].unique():
        try:
            code = StockCode(raw)
        except InvalidStockCode as error:
            problems.append(Problem(first_line(frame["code"] == raw, frame.index) or 0, str(error)))
            continue
        if known is not None and code not in known:
            line = first_line(frame["code"] == raw, frame.index) or 0
            problems.append(
                Problem(
                    line,
                    f"stock code '{code}' is unknown: add it to the instrument list (--instruments FILE)",
                )
            )
        normalised[raw] = code
    return frame["code"].map(normalised), problems


def _parse_ts(
    frame: pd.DataFrame, timeframe: Timeframe | None
) -> tuple[pd.Series | None, Timeframe, list[Problem]]:
    raw = frame["ts"].str.strip()
    parsed = pd.to_datetime(raw, errors="coerce", format="ISO8601")
    line = first_line(parsed.isna(), frame.index)
    if line is not None:
        bad = raw.iloc[int(np.flatnonzero(parsed.isna().to_numpy())[0])]
        return (
            None,
            timeframe or Timeframe.DAY,
            [Problem(line, f"ts {bad!r}: expected an ISO date or date-time")],
        )
    if timeframe is None:
        timeframe = Timeframe.DAY if (raw.str.len() <= 10).all() else Timeframe.MINUTE
    if parsed.dt.tz is None:
        parsed = parsed.dt.tz_localize("Asia/Seoul")
    else:
        parsed = parsed.dt.tz_convert("Asia/Seoul")
    return parsed, timeframe, []


def _check_ticks(
    codes: pd.Series,
    ts: pd.Series,
    numbers: dict[str, pd.Series],
    known: Mapping[StockCode, Instrument] | None,
    index: pd.Index,
) -> list[Problem]:
    """Prices on the tick grid of their day and instrument, by the rule a fetch quarantines with.

    The rows go through ``quality.off_tick_grid`` with their code's instrument, whose type and market pick the
    band table (a table of 2022 is not one of 2024). Codes of one type and market share a table, so their rows
    go in together: a file of the whole market makes a few calls, not one per code. The message counts every
    row off the grid, so the user knows whether one typo or the whole file (adjusted prices, say) is wrong.
    """
    days = kst_days(ts)
    labels, uniques = pd.factorize(codes)  # an invalid code (NaN, refused already) gets -1: not checked
    instruments = [known.get(code) if known is not None else None for code in uniques]
    groups = [(item.instrument_type, item.market) if item else None for item in instruments]
    distinct = list(dict.fromkeys(groups))
    group_of_row = np.array([distinct.index(group) for group in groups] + [-1], dtype=np.int64)[labels]
    off = {name: np.zeros(len(index), dtype=bool) for name in PRICE_COLUMNS}
    for number, group in enumerate(distinct):
        positions = np.flatnonzero(group_of_row == number)
        prices = {name: numbers[name].to_numpy(np.int64)[positions] for name in PRICE_COLUMNS}
        instrument = instruments[groups.index(group)]  # any code of the group: they share type and market
        for name, mask in off_tick_grid(prices, days[positions], instrument).items():
            off[name][positions] = mask
    any_off = np.logical_or.reduce(list(off.values()))
    line = first_line(any_off, index)
    if line is None:
        return []
    position = int(np.flatnonzero(any_off)[0])
    name = next(name for name in PRICE_COLUMNS if off[name][position])
    instrument = instruments[labels[position]]
    kind, market = listing(instrument)
    price, day = int(numbers[name].iloc[position]), days[position].astype(date)
    tick = tick_size(price, day, kind, market)
    return [
        Problem(
            line,
            f"{name} {price} is off the tick grid: the tick at that price is {tick} won for a {market} "
            f"{kind} on {day} ({int(any_off.sum())} row(s) off the grid; raw prices, as traded, are on it)",
        )
    ]


def parse_bars(
    path: Path,
    frame: pd.DataFrame,
    timeframe: Timeframe | None,
    calendar: TradingCalendar,
    known: Mapping[StockCode, Instrument] | None,
) -> tuple[dict[StockCode, BarArrays], Timeframe]:
    """Validate a bar table and split it into arrays per code; raises DataError naming the first bad line.

    ``known`` is the instrument list: a code outside it is refused, and its instrument type and market choose
    the tick table (None: any code, ticks of a KOSPI stock, as a fetch assumes for a code it does not know).
    """
    _check_columns(path, frame, REQUIRED, OPTIONAL)
    codes, problems = _parse_codes(frame, known)
    ts, timeframe, ts_problems = _parse_ts(frame, timeframe)
    problems += ts_problems
    numeric = tuple(name for name in BAR_COLUMNS[1:] if name in frame.columns)
    numbers, number_problems = check_numbers(frame, numeric)
    problems += number_problems + check_bar_values(numbers, frame.index)
    if ts is not None:
        ts_ns = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
        problems += check_order(frame["code"], ts_ns, frame.index)
        problems += check_sessions(ts, timeframe, calendar, frame.index)
        if all(name in numbers for name in PRICE_COLUMNS):
            problems += _check_ticks(codes, ts, numbers, known, frame.index)
    if problems:
        first = min(problems, key=lambda problem: problem.line)  # ties: the order the checks ran
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise DataError(f"{path}: line {first.line}: {first.message}{more}")
    assert ts is not None  # no problems means the timestamps parsed
    if "value" not in numbers:
        numbers["value"] = numbers["close"] * numbers["volume"]
    table = pd.DataFrame({"code": codes, "ts": ts, **numbers})
    result: dict[StockCode, BarArrays] = {}
    for code, rows in table.groupby("code", sort=True):
        result[StockCode(code)] = BarArrays.from_frame(rows[list(BAR_COLUMNS)])
    return result, timeframe


def read_instruments_csv(path: Path) -> list[Instrument]:
    """An instrument list: code, name, market, instrument_type [, listed, delisted] (docs/data.md)."""
    frame = _read_csv(path)
    _check_columns(path, frame, INSTRUMENT_COLUMNS, INSTRUMENT_OPTIONAL)
    instruments = []
    for position, row in enumerate(frame.to_dict("records")):
        line = position + 2
        try:
            instruments.append(
                Instrument(
                    code=StockCode(row["code"]),
                    name=row["name"],
                    market=Market(row["market"].strip().lower()),
                    instrument_type=InstrumentType(row["instrument_type"].strip().lower()),
                    listed=pd.Timestamp(row["listed"]).date() if row.get("listed") else None,
                    delisted=pd.Timestamp(row["delisted"]).date() if row.get("delisted") else None,
                )
            )
        except (ValueError, InvalidStockCode) as error:
            raise DataError(f"{path}: line {line}: {str(error).splitlines()[0]}") from None
    return instruments


def import_csv(
    path: Path,
    store: BarStore,
    calendar: TradingCalendar,
    timeframe: Timeframe | None = None,
    instruments_path: Path | None = None,
) -> ImportSummary:
    """Validate the whole file, then merge it into the store (each code's file replaced atomically)."""
    new_instruments = read_instruments_csv(instruments_path) if instruments_path else []
    known_instruments = store.read_instruments()
    known_instruments.update({item.code: item for item in new_instruments})
    frame = _read_csv(path)
    per_code, timeframe = parse_bars(path, frame, timeframe, calendar, known_instruments)
    if new_instruments:
        store.write_instruments(list(known_instruments.values()))
    for code, bars in per_code.items():
        store.merge(code, timeframe, bars)
    return ImportSummary(path=path, timeframe=timeframe, rows=len(frame), codes=tuple(per_code))
