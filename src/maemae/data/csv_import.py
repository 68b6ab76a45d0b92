"""``maemae data import``: bars from a CSV file into the store, all or nothing.

Columns (docs/data.md): ``code, ts, open, high, low, close, volume`` and optionally ``value`` (traded value in
won; close × volume when absent). Every row is checked before anything is written; the first problem found is
reported as one line naming the file, the line and the rule, and the store is left exactly as it was. A fetch
quarantines a source's bad rows instead, but the tick rule is the same function (``quality.off_tick_grid``):
a price off the grid of its day and instrument is refused here as it is quarantined there.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from maemae.data.bars import BAR_COLUMNS, PRICE_COLUMNS, BarArrays, Timeframe
from maemae.data.instruments import Instrument, listing
from maemae.data.quality import kst_days, off_tick_grid
from maemae.data.staging import StagedFiles
from maemae.data.store import BarStore, check_store_layout
from maemae.data.validation import (
    HEADER_LINES,
    Problem,
    check_bar_values,
    check_not_future,
    check_numbers,
    check_order,
    check_sessions,
    first_line,
)
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.errors import DataError, InvalidStockCode
from maemae.krx.calendar import TradingCalendar
from maemae.krx.ticks import tick_size
from maemae.text_files import read_utf8

REQUIRED = ("code", "ts", "open", "high", "low", "close", "volume")
OPTIONAL = ("value",)
INSTRUMENT_COLUMNS = ("code", "name", "market", "instrument_type")
INSTRUMENT_OPTIONAL = ("listed", "delisted")
Choice = TypeVar("Choice", Market, InstrumentType)
SPARE = "\x00spare"  # the name of the column a trailing comma fills: no header can name it
DAY_FORM = "[0-9]{4}-[0-9]{2}-[0-9]{2}"  # [0-9], not \d, which also takes other scripts' digits (２０２５)
OFFSET_FORM = "(?:Z|[+-][0-9]{2}:[0-9]{2})"
# the forms of ``ts`` docs/data.md documents, per timeframe: the pattern and how a message names it
TS_FORMS = {
    Timeframe.DAY: (DAY_FORM, "a date as YYYY-MM-DD"),
    Timeframe.MINUTE: (
        # a space for the T too: ISO 8601's profile RFC 3339 allows it, and pandas' to_csv writes it
        f"{DAY_FORM}[T ][0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}{OFFSET_FORM}?",
        "a date-time as YYYY-MM-DDTHH:MM:SS[+HH:MM]",
    ),
}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    path: Path
    timeframe: Timeframe
    rows: int
    codes: tuple[StockCode, ...]


def _read_csv(path: Path, rows: str = "bars") -> pd.DataFrame:
    """Every cell of ``path`` as text, the header's names lower-cased.

    A spreadsheet export often ends every row with a comma: one field more than the header names. Read
    plainly, pandas took the first column for the index and shifted every value one column left (codes read
    as dates), so the rows are read with a spare column at the end. An unnamed column (that spare one, or an
    empty name after a trailing comma in the header) with no values is dropped; one with a value is refused
    at its line. ``rows``: what the file's lines hold, for an empty file's message. The text is checked to be
    UTF-8 first, so a CP949 file from Korean Excel is refused at the line of its first such byte, not with
    the codec's words.
    """
    if path.is_dir():
        raise DataError(f"{path}: is a folder, expected a CSV file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        read_utf8(path, DataError)  # the text is not kept: pandas parses from the path faster than from a str
        _check_header_once(path)
        frame = _read_cells(path)
    except OSError as error:  # no read permission, a disk error: the file's problem, in one line
        raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty, expected a header line and {rows}") from None
    except (pd.errors.ParserError, csv.Error) as error:
        raise DataError(f"{path}: not a readable CSV file ({str(error).splitlines()[0]})") from None
    frame = _without_unnamed(path, frame)
    frame.columns = [str(name).strip().lower() for name in frame.columns]
    return frame


def _check_header_once(path: Path) -> None:
    """Refuse a header that names a column twice, read from the file itself: pandas renames the second
    ``volume`` to ``volume.1``, and the user was told of an unknown column they never wrote. Names compare
    as the columns are matched, blanks trimmed and in any case; unnamed columns (trailing commas) may
    repeat."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        header = next(csv.reader(file, skipinitialspace=True), [])
    first_at: dict[str, int] = {}
    for number, name in enumerate((cell.strip().lower() for cell in header), start=1):
        if name and name in first_at:
            raise DataError(
                f"{path}: line 1: column '{name}' appears twice (columns {first_at[name]} and {number}): "
                "expected each column once"
            )
        first_at.setdefault(name, number)


def _read_cells(path: Path) -> pd.DataFrame:
    """The cells, with a spare last column when the first row has one field more than the header (pandas
    fixes the width from the first rows, and refuses a spare column no row fills: then none is asked)."""
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False, "skipinitialspace": True}
    header = list(pd.read_csv(path, nrows=0, **options).columns)
    frame: pd.DataFrame
    try:
        frame = pd.read_csv(path, header=0, names=[*header, SPARE], index_col=False, **options)
    except pd.errors.ParserError as error:
        if not str(error).startswith("Too many columns specified"):
            raise
        frame = pd.read_csv(path, index_col=False, **options)
    return frame


def _without_unnamed(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without its blank unnamed columns; a value in an unnamed one is refused at its line."""
    named = [name for name in frame.columns if not _unnamed(name)]
    for position, name in enumerate(frame.columns):
        if not _unnamed(name):
            continue
        filled = frame[name].str.strip() != ""
        line = first_line(filled, frame.index)
        if line is not None:
            raise DataError(
                f"{path}: line {line}: a value in column {position + 1}, which the header does not name "
                f"(it names {len(named)} columns: {', '.join(map(str, named))})"
            )
    return frame[named]


def _unnamed(name: object) -> bool:
    return name == SPARE or str(name).startswith("Unnamed: ")


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
    """The ``ts`` column in KST and the timeframe (given, or inferred), or the problem of the first bad line.

    Only the forms docs/data.md documents are read, as every other date maemae reads is YYYY-MM-DD: parsed
    as it came, ``2025.03.05``, ``20250306`` or ``2025-03`` (taken for 2025-03-01) were stored, each a slip
    or a guess at what the user meant. So the text is matched first, all rows at once, then parsed; a
    value of the right form that the calendar lacks (``2025-02-30``) is said to be no such date.
    """
    raw = frame["ts"].str.strip()
    forms = {name: raw.str.fullmatch(pattern).to_numpy(dtype=bool) for name, (pattern, _) in TS_FORMS.items()}
    chosen, reason = _ts_timeframe(forms, frame.index, timeframe)
    if chosen is None:
        either = " or ".join(f"{text} ({name.value} bars)" for name, (_, text) in TS_FORMS.items())
        unread = np.ones(len(raw), dtype=bool)  # no row has a documented form: the first is named
        return None, Timeframe.DAY, [_ts_problem(raw, unread, frame.index, f"expected {either}")]
    expected = f"expected {TS_FORMS[chosen][1]}{reason}"
    if not forms[chosen].all():
        return None, chosen, [_ts_problem(raw, ~forms[chosen], frame.index, expected)]
    parsed = _in_kst(raw)
    if parsed.isna().any():
        kind = "date" if chosen is Timeframe.DAY else "date-time"
        return None, chosen, [_ts_problem(raw, parsed.isna(), frame.index, f"no such {kind}; {expected}")]
    return parsed, chosen, []


def _ts_timeframe(
    forms: dict[Timeframe, np.ndarray], index: pd.Index, given: Timeframe | None
) -> tuple[Timeframe | None, str]:
    """The timeframe whose form every ``ts`` must have, and why (the end of a bad line's message).

    ``--timeframe`` decides. Without it, the first value in either form does, so a daily file with one slip
    is told that a date was expected, not a date-time. None: no value has either form.
    """
    if given is not None:
        return given, f" (--timeframe {given.value})"
    either = forms[Timeframe.DAY] | forms[Timeframe.MINUTE]
    if not either.any():
        return None, ""
    chosen = Timeframe.DAY if forms[Timeframe.DAY][np.flatnonzero(either)[0]] else Timeframe.MINUTE
    return chosen, f", as on line {first_line(either, index)} ({chosen.value} bars)"


def _ts_problem(raw: pd.Series, bad: pd.Series | np.ndarray, index: pd.Index, rule: str) -> Problem:
    """The first ``bad`` row as a problem naming the column and its value."""
    position = int(np.flatnonzero(np.asarray(bad, dtype=bool))[0])
    return Problem(first_line(bad, index) or 0, f"column 'ts' = {raw.iloc[position]!r}: {rule}")


def _in_kst(raw: pd.Series) -> pd.Series:
    """Text of a documented form as KST times (NaT where there is no such date or time).

    A value without an offset is KST; one with an offset is converted, each row by its own. Parsed in one
    call, a file whose rows mixed offsets (or an offset and none) stopped pandas with a traceback. A local
    time that Korea's summer time of 1987-88 skipped or repeated is no single KST time either.
    """
    offset = raw.str.contains(f"{OFFSET_FORM}$").to_numpy(dtype=bool)
    local = pd.to_datetime(raw.where(~offset), format="ISO8601", errors="coerce")
    local = local.dt.tz_localize("Asia/Seoul", ambiguous="NaT", nonexistent="NaT")
    aware = pd.to_datetime(raw.where(offset), format="ISO8601", errors="coerce", utc=True)
    return local.where(~offset, aware.dt.tz_convert("Asia/Seoul"))


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


def _value_in_range(numbers: dict[str, pd.Series], index: pd.Index) -> list[Problem]:
    """A file without ``value`` gets close × volume, which must fit in int64 as the column does (a wrapped
    product would be stored as a negative traded value)."""
    if "value" in numbers or "close" not in numbers or "volume" not in numbers:
        return []
    product = numbers["close"].to_numpy(np.float64) * numbers["volume"].to_numpy(np.float64)
    line = first_line(np.abs(product) >= 2.0**63, index)
    if line is None:
        return []
    return [
        Problem(line, "close × volume (the traded value, as the file has no value column) is out of range")
    ]


def parse_bars(
    path: Path,
    frame: pd.DataFrame,
    timeframe: Timeframe | None,
    calendar: TradingCalendar,
    known: Mapping[StockCode, Instrument] | None,
    today: date,
) -> tuple[dict[StockCode, BarArrays], Timeframe]:
    """Validate a bar table and split it into arrays per code; raises DataError naming the first bad line.

    ``known`` is the instrument list: a code outside it is refused, and its instrument type and market choose
    the tick table (None: any code, ticks of a KOSPI stock, as a fetch assumes for a code it does not know).
    ``today`` is the date in Asia/Seoul: a bar of a later day is refused.
    """
    _check_columns(path, frame, REQUIRED, OPTIONAL)
    codes, problems = _parse_codes(frame, known)
    ts, timeframe, ts_problems = _parse_ts(frame, timeframe)
    problems += ts_problems
    numeric = tuple(name for name in BAR_COLUMNS[1:] if name in frame.columns)
    numbers, number_problems = check_numbers(frame, numeric)
    problems += (
        number_problems + check_bar_values(numbers, frame.index) + _value_in_range(numbers, frame.index)
    )
    if ts is not None:
        ts_ns = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
        problems += check_order(frame["code"], ts_ns, frame.index)
        problems += check_not_future(ts, today, frame.index)  # before the sessions: it wins a tie
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
    """An instrument list: code, name, market, instrument_type [, listed, delisted] (docs/data.md). A code
    on two lines is refused: which of them was meant is the user's to say, not the last one's."""
    frame = _read_csv(path, "instruments")
    _check_columns(path, frame, INSTRUMENT_COLUMNS, INSTRUMENT_OPTIONAL)
    instruments: list[Instrument] = []
    first_seen: dict[StockCode, int] = {}
    for position, row in zip(frame.index, frame.to_dict("records"), strict=True):
        line = int(position) + HEADER_LINES + 1
        item = _instrument(f"{path}: line {line}", row)
        if item.code in first_seen:
            raise DataError(
                f"{path}: line {line}: stock code '{item.code}' again (first on line "
                f"{first_seen[item.code]}): expected one line per code"
            )
        first_seen[item.code] = line
        instruments.append(item)
    return instruments


def _instrument(where: str, row: Mapping[Hashable, Any]) -> Instrument:
    """One row of an instrument list; ``where`` (file and line) starts the error of a bad field."""
    try:
        code = StockCode(row["code"])
    except (InvalidStockCode, ValueError) as error:
        raise DataError(f"{where}: {str(error).splitlines()[0]}") from None
    listed, delisted = _date_field(where, row, "listed"), _date_field(where, row, "delisted")
    if listed is not None and delisted is not None and delisted <= listed:
        raise DataError(
            f"{where}: delisted {delisted} is not after listed {listed}: expected the listing day first"
        )
    name = row["name"].strip()
    if not name:
        raise DataError(f"{where}: column 'name' is empty: expected the instrument's name")
    return Instrument(
        code=code,
        name=name,
        market=_choice(where, row, "market", Market),
        instrument_type=_choice(where, row, "instrument_type", InstrumentType),
        listed=listed,
        delisted=delisted,
    )


def _choice(where: str, row: Mapping[Hashable, Any], column: str, kind: type[Choice]) -> Choice:
    """The member of ``kind`` a column names (any case), or an error listing the allowed names."""
    text = row[column].strip().lower()
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise DataError(f"{where}: column '{column}' = {row[column]!r}: expected one of {allowed}") from None


def _date_field(where: str, row: Mapping[Hashable, Any], column: str) -> date | None:
    """An optional date column: empty is None. YYYY-MM-DD only, as for ``ts``: ``pd.Timestamp`` also read
    ``2021.03.04`` and ``20210304``."""
    text = (row.get(column) or "").strip()
    if not text:
        return None
    expected = "expected a date as YYYY-MM-DD"
    if not re.fullmatch(DAY_FORM, text):
        raise DataError(f"{where}: column '{column}' = {text!r}: {expected}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DataError(f"{where}: column '{column}' = {text!r}: no such date; {expected}") from None


def _check_kept_listing(
    path: Path, new: list[Instrument], stored: Mapping[StockCode, Instrument], store: BarStore
) -> None:
    """Refuse a new market or instrument type for a code that has bars stored: its bars passed the tick grid
    of its stored market and type, and a changed instrument list let a KOSPI stock become a KOSDAQ ETF under
    bars never checked against that grid. The name and the listing dates may change."""
    for position, item in enumerate(new):
        old = stored.get(item.code)
        if old is None or (old.market, old.instrument_type) == (item.market, item.instrument_type):
            continue
        if not store.bar_files(item.code):
            continue
        line = position + HEADER_LINES + 1
        raise DataError(
            f"{path}: line {line}: stock code '{item.code}' is stored as a {old.market.value} "
            f"{old.instrument_type.value} with bars, this line makes it a {item.market.value} "
            f"{item.instrument_type.value}: expected its stored market and type (the bars were checked "
            "against their tick grid); to change them, remove the code's bars from the store, then import "
            "the instrument list and the bars again"
        )


def _check_target(root: Path, timeframe: Timeframe, codes: list[StockCode]) -> None:
    """Refuse a store whose layout has a file where the import writes a folder, before anything is written
    (the instrument list goes first, so a failure at the bars would leave it changed alone)."""
    if timeframe is Timeframe.DAY:
        folders = [root / "day"]
    else:
        folders = [root / "minute" / str(code) for code in codes]
    check_store_layout(root, folders, " of the store")


def import_csv(
    path: Path,
    store: BarStore,
    calendar: TradingCalendar,
    timeframe: Timeframe | None = None,
    instruments_path: Path | None = None,
    today: date | None = None,
) -> ImportSummary:
    """Validate the whole file, then merge it into the store: every new file is written beside its place,
    then all are renamed into place together, so an error or a Ctrl-C before that leaves the store as it was.

    ``today`` (default: the date in Asia/Seoul now) is the last day a bar may have. A ``--dir`` that is a
    file is refused first: the store's instrument list read from it is empty, and the user was told the
    file's codes were unknown rather than where the mistake was."""
    check_store_layout(store.root, [], " of the store")
    new_instruments = read_instruments_csv(instruments_path) if instruments_path else []
    known_instruments = store.read_instruments()
    if instruments_path is not None:
        _check_kept_listing(instruments_path, new_instruments, known_instruments, store)
    known_instruments.update({item.code: item for item in new_instruments})
    frame = _read_csv(path)
    today = today or datetime.now(KST).date()
    per_code, timeframe = parse_bars(path, frame, timeframe, calendar, known_instruments, today)
    _check_target(store.root, timeframe, list(per_code))
    with StagedFiles() as staged:  # every file written first, then all put in place: all or nothing
        if new_instruments:
            store.write_instruments(list(known_instruments.values()), staged)
        for code, bars in per_code.items():
            store.merge(code, timeframe, bars, staged)
        staged.commit()
    return ImportSummary(path=path, timeframe=timeframe, rows=len(frame), codes=tuple(per_code))
