"""``maemae data import``: the forms a real file takes (a spreadsheet's trailing commas, dates and times
written other ways than docs/data.md's), numbers beyond the columns' 64 bits, instrument lists that
contradict themselves, and a ``--dir`` that is not a folder: each refused in one line naming the file, line
and value, with nothing written."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from maemae.cli import main
from maemae.data.bars import Timeframe
from maemae.data.csv_import import import_csv
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.errors import DataError
from maemae.krx.calendar import default_calendar
from tests.user_errors import refused

HEADER = "code,ts,open,high,low,close,volume,value"
ROW = "005930,2025-03-04,70000,70100,69900,70000,1200,84000000"
NEXT_ROW = "005930,2025-03-05,70000,70100,69900,70000,1200,84000000"
INSTRUMENTS = "code,name,market,instrument_type\n005930,삼성전자,kospi,stock\n"


def run(
    tmp_path: Path,
    bars: list[str],
    instruments: str = INSTRUMENTS,
    store: Path | None = None,
    options: tuple[str, ...] = (),
) -> tuple[int, Path, Path]:
    """Import ``bars`` (the lines after none: the header is the caller's) with ``instruments``."""
    csv = tmp_path / "bars.csv"
    csv.write_text("\n".join(bars) + "\n", encoding="utf-8")
    listing = tmp_path / "instruments.csv"
    listing.write_text(instruments, encoding="utf-8")
    target = store or tmp_path / "store"
    args = ["data", "import", "--csv", str(csv), "--dir", str(target), "--instruments", str(listing)]
    return main([*args, *options]), csv, listing


@pytest.mark.parametrize(
    "lines",
    [
        [HEADER, ROW + ",", NEXT_ROW + ","],
        [HEADER + ",", ROW + ",", NEXT_ROW + ","],
        [HEADER + ",", ROW, NEXT_ROW],
        [HEADER, ROW + ",", NEXT_ROW],
    ],
    ids=["rows", "header and rows", "header", "some rows"],
)
def test_import_when_lines_end_with_a_comma_reads_the_columns_as_named(
    tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(tmp_path, lines)
    assert code == 0, capsys.readouterr().err
    bars = BarStore(tmp_path / "store").read_arrays("005930", Timeframe.DAY)
    assert bars.open.tolist() == [70_000, 70_000]
    assert bars.volume.tolist() == [1_200, 1_200]


@pytest.mark.parametrize(
    ("lines", "line"),
    [([HEADER, ROW + ",", NEXT_ROW + ",5"], 3), ([HEADER, ROW + ",7", NEXT_ROW + ","], 2)],
    ids=["later row", "first row"],
)
def test_import_when_a_row_has_a_value_beyond_the_header_refuses_it_at_its_line(
    tmp_path: Path, lines: list[str], line: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code, csv, _ = run(tmp_path, lines)
    message = refused(code, capsys)
    assert message.startswith(f"error: {csv}: line {line}: a value in column 9, which the header does not")
    assert not (tmp_path / "store").exists()


DAY_FORM = "a date as YYYY-MM-DD"
MINUTE_FORM = "a date-time as YYYY-MM-DDTHH:MM:SS[+HH:MM]"
MINUTE_ROW = "005930,2025-03-04T09:00:00,70000,70100,69900,70000,1200,84000000"
# (a good first row, the ts of a second row, what the message says was expected of it)
SLIPS = [
    *(
        (ROW, ts, f"expected {DAY_FORM}, as on line 2 (day bars)")
        for ts in (
            "2025.03.05",
            "20250305",
            "2025/03/05",
            "2025-3-5",
            "2025-03",
            "２０２５-03-05",
            "2025-03-05T00:00:00",
        )
    ),
    *(
        (MINUTE_ROW, ts, f"expected {MINUTE_FORM}, as on line 2 (minute bars)")
        for ts in (
            "2025-03-04T09:01",
            "20250304T090100",
            "2025-03-04T09:01:00.000",
            "2025-03-04T09:01:00+0900",
            "2025-03-04",
        )
    ),
    (ROW, "2025-02-30", f"no such date; expected {DAY_FORM}, as on line 2 (day bars)"),
    (
        MINUTE_ROW,
        "2025-03-04T09:61:00",
        f"no such date-time; expected {MINUTE_FORM}, as on line 2 (minute bars)",
    ),
]


def with_ts(row: str, ts: str) -> str:
    """``row`` with its ts column replaced."""
    code, _, rest = row.split(",", 2)
    return f"{code},{ts},{rest}"


@pytest.mark.parametrize(("first", "ts", "expected"), SLIPS, ids=[slip[1] for slip in SLIPS])
def test_import_when_a_ts_is_not_in_a_documented_form_refuses_it_at_its_line(
    tmp_path: Path, first: str, ts: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """pandas read all of these (2025-03 as 2025-03-01), where every other date maemae reads is YYYY-MM-DD."""
    code, csv, _ = run(tmp_path, [HEADER, first, with_ts(first, ts)])
    assert refused(code, capsys) == f"error: {csv}: line 3: column 'ts' = '{ts}': {expected}"
    assert not (tmp_path / "store").exists()


def test_import_when_the_first_ts_is_bad_the_first_good_one_says_which_form_was_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, csv, _ = run(tmp_path, [HEADER, with_ts(ROW, "20250304"), NEXT_ROW])
    assert refused(code, capsys) == (
        f"error: {csv}: line 2: column 'ts' = '20250304': expected {DAY_FORM}, as on line 3 (day bars)"
    )


def test_import_when_no_ts_has_a_documented_form_names_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, csv, _ = run(tmp_path, [HEADER, with_ts(ROW, "2025.03.04")])
    assert refused(code, capsys) == (
        f"error: {csv}: line 2: column 'ts' = '2025.03.04': expected {DAY_FORM} (day bars) or {MINUTE_FORM} "
        "(minute bars)"
    )


@pytest.mark.parametrize(
    ("timeframe", "row", "expected"),
    [("day", with_ts(MINUTE_ROW, "2025-03-04T00:00:00"), DAY_FORM), ("minute", ROW, MINUTE_FORM)],
    ids=["day", "minute"],
)
def test_import_when_timeframe_is_given_every_ts_must_have_its_form(
    tmp_path: Path, timeframe: str, row: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, csv, _ = run(tmp_path, [HEADER, row], options=("--timeframe", timeframe))
    ts = row.split(",")[1]
    assert refused(code, capsys) == (
        f"error: {csv}: line 2: column 'ts' = '{ts}': expected {expected} (--timeframe {timeframe})"
    )
    assert not (tmp_path / "store").exists()


def test_import_when_minute_ts_have_offsets_or_none_reads_each_row_by_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The documented forms, mixed in one file: rows with different offsets, or one and none, stopped pandas
    with a traceback (Mixed timezones detected)."""
    stamps = [
        "2025-03-04T09:00:00+09:00",
        "2025-03-04T00:01:00Z",
        "2025-03-04T09:02:00",
        "2025-03-03T23:33:00-00:30",
        "2025-03-04 09:04:00",  # a space for the T, as pandas' to_csv writes
    ]
    code, _, _ = run(tmp_path, [HEADER, *(with_ts(MINUTE_ROW, ts) for ts in stamps)])
    assert code == 0, capsys.readouterr().err
    stored = BarStore(tmp_path / "store").read_arrays(StockCode("005930"), Timeframe.MINUTE).ts.tolist()
    assert stored == [pd.Timestamp(f"2025-03-04T09:0{minute}:00+09:00").value for minute in range(5)]


@pytest.mark.parametrize(
    ("row", "column", "value", "lowest"),
    [
        (
            "005930,2025-03-04,70000,70100,69900,70000,18446744073709552816,84000000",
            "volume",
            2**64 + 1200,
            0,
        ),
        ("005930,2025-03-04,9223372036854775808,70100,69900,70000,1200,84000000", "open", 2**63, 1),
        ("005930,2025-03-04,70000,70100,69900,70000,1200,-9223372036854775809", "value", -(2**63) - 1, 0),
    ],
    ids=["volume", "open", "value"],
)
def test_import_when_a_number_does_not_fit_64_bits_says_it_is_out_of_range(
    tmp_path: Path, row: str, column: str, value: int, lowest: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """The range is the column's, from its lowest allowed value: int64's, from -9,223,372,036,854,775,808,
    read as if a negative volume or price were allowed."""
    code, csv, _ = run(tmp_path, [HEADER, row])
    assert refused(code, capsys) == (
        f"error: {csv}: line 2: column '{column}' = '{value}': out of range, expected a whole number from "
        f"{lowest} to 9,223,372,036,854,775,807"
    )


def test_import_when_the_largest_64_bit_number_is_given_it_is_not_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = f"005930,2025-03-04,70000,70100,69900,70000,1200,{2**63 - 1}"
    assert run(tmp_path, [HEADER, row])[0] == 0, capsys.readouterr().err


def test_import_when_close_times_volume_does_not_fit_refuses_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, csv, _ = run(
        tmp_path, ["code,ts,open,high,low,close,volume", f"005930,2025-03-04,70000,70100,69900,70000,{2**60}"]
    )
    assert refused(code, capsys) == (
        f"error: {csv}: line 2: close × volume (the traded value, as the file has no value column) is out of "
        "range"
    )


@pytest.mark.parametrize(
    ("instruments", "expected"),
    [
        (
            INSTRUMENTS + "000660,SK하이닉스,kospi,stock\n005930,삼성전자우,kospi,preferred\n",
            "line 4: stock code '005930' again (first on line 2): expected one line per code",
        ),
        (
            "code,name,market,instrument_type,listed,delisted\n005930,삼성전자,kospi,stock,2021-03-04,2020-01-02\n",
            "line 2: delisted 2020-01-02 is not after listed 2021-03-04: expected the listing day first",
        ),
        (
            "code,name,market,instrument_type\n005930,삼성전자,nyse,stock\n",
            "line 2: column 'market' = 'nyse': expected one of kospi, kosdaq",
        ),
        (
            "code,name,market,instrument_type\n005930,삼성전자,kospi,bond\n",
            "line 2: column 'instrument_type' = 'bond': expected one of stock, etf, etn, preferred, spac",
        ),
        (
            "code,name,market,instrument_type,listed\n005930,삼성전자,kospi,stock,someday\n",
            "line 2: column 'listed' = 'someday': expected a date as YYYY-MM-DD",
        ),
        (
            "code,name,market,instrument_type,listed\n005930,삼성전자,kospi,stock,1975.06.11\n",
            "line 2: column 'listed' = '1975.06.11': expected a date as YYYY-MM-DD",
        ),
        (
            "code,name,market,instrument_type,listed,delisted\n005930,삼성전자,kospi,stock,,20300102\n",
            "line 2: column 'delisted' = '20300102': expected a date as YYYY-MM-DD",
        ),
        (
            "code,name,market,instrument_type,listed\n005930,삼성전자,kospi,stock,1975-02-29\n",
            "line 2: column 'listed' = '1975-02-29': no such date; expected a date as YYYY-MM-DD",
        ),
    ],
    ids=[
        "code twice",
        "delisted before listed",
        "market",
        "type",
        "date",
        "dotted date",
        "no dashes",
        "no such",
    ],
)
def test_import_when_the_instrument_list_is_inconsistent_refuses_it_naming_the_line(
    tmp_path: Path, instruments: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, listing = run(tmp_path, [HEADER, ROW], instruments)
    assert refused(code, capsys) == f"error: {listing}: {expected}"
    assert not (tmp_path / "store").exists()


def test_import_when_dir_is_a_file_refuses_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "README.md"
    target.write_text("readme", encoding="utf-8")
    code, _, _ = run(tmp_path, [HEADER, ROW], store=target)
    expected = f"error: --dir {target}: {target} is a file, expected a folder of the store"
    assert refused(code, capsys) == expected
    assert target.read_text(encoding="utf-8") == "readme"


def test_import_when_a_store_folder_is_a_file_refuses_before_the_instruments_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "day").write_text("", encoding="utf-8")
    code, _, _ = run(tmp_path, [HEADER, ROW], store=store)
    assert f"{store / 'day'} is a file, expected a folder of the store" in refused(code, capsys)
    assert sorted(path.name for path in store.iterdir()) == ["day"]


@pytest.mark.parametrize("text", ["70000.0", "7e4", "+70000"])
def test_import_when_a_price_is_not_written_as_plain_digits_refuses_it_at_its_line(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, csv, _ = run(tmp_path, [HEADER, ROW, NEXT_ROW.replace(",70000,70100", f",{text},70100", 1)])
    assert refused(code, capsys) == f"error: {csv}: line 3: column 'open' = '{text}': expected a whole number"
    assert not (tmp_path / "store").exists()


def test_import_when_a_column_mixes_a_large_volume_and_a_decimal_refuses_the_decimal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    large = "005930,2025-03-04,70000,70100,69900,70000,9007199254740993,84000000"
    code, csv, _ = run(tmp_path, [HEADER, large, NEXT_ROW.replace(",1200,", ",1.0,")])
    assert refused(code, capsys) == f"error: {csv}: line 3: column 'volume' = '1.0': expected a whole number"


@pytest.mark.parametrize("header", [HEADER + ",volume", HEADER.replace("volume", "Volume") + ", volume "])
def test_import_when_the_header_names_a_column_twice_says_so(
    tmp_path: Path, header: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, csv, _ = run(tmp_path, [header, ROW + ",1200"])
    assert refused(code, capsys) == (
        f"error: {csv}: line 1: column 'volume' appears twice (columns 7 and 9): expected each column once"
    )


def test_import_when_csv_is_a_folder_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "import", "--csv", str(tmp_path), "--dir", str(tmp_path / "store")])
    assert refused(code, capsys) == f"error: {tmp_path}: is a folder, expected a CSV file"


def test_import_when_dir_is_a_file_says_so_before_looking_at_the_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "day.csv"
    target.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    code = main(["data", "import", "--csv", str(target), "--dir", str(target)])
    expected = f"error: --dir {target}: {target} is a file, expected a folder of the store"
    assert refused(code, capsys) == expected


@pytest.mark.parametrize(
    ("row", "stamp"),
    [
        ("005930,1999-03-08,70000,70100,69900,70000,1200,84000000", "1999-03-08T00:00:00+09:00"),
        ("005930,2005-12-29T09:00:00,70000,70100,69900,70000,1200,84000000", "2005-12-29T09:00:00+09:00"),
    ],
    ids=["day", "minute"],
)
def test_import_when_a_bar_is_before_the_calendar_names_its_first_day(
    tmp_path: Path, row: str, stamp: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, csv, _ = run(tmp_path, [HEADER, row])
    assert refused(code, capsys) == (
        f"error: {csv}: line 2: ts {stamp}: before the KRX calendar, which starts on 2006-01-02, expected a "
        "date from 2006-01-02 to 2027-12-31 (docs/krx.md)"
    )


def test_import_when_a_bar_is_dated_after_today_in_seoul_refuses_it_and_takes_today(
    tmp_path: Path,
) -> None:
    store = BarStore(tmp_path / "store")
    csv = tmp_path / "bars.csv"
    listing = tmp_path / "instruments.csv"
    listing.write_text(INSTRUMENTS, encoding="utf-8")
    today = date(2025, 3, 4)
    last_today = "005930,2025-03-04T15:30:00,70000,70000,70000,70000,10,700000"
    tomorrow = "005930,2025-03-05T09:00:00,70000,70100,69900,70000,1200,84000000"
    csv.write_text("\n".join([HEADER, MINUTE_ROW, last_today, tomorrow]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as raised:
        import_csv(csv, store, default_calendar(), None, listing, today=today)
    assert str(raised.value) == (
        f"{csv}: line 4: ts 2025-03-05T09:00:00+09:00: after today (2025-03-04 in Asia/Seoul), "
        "expected a day up to today"
    )
    assert not store.root.exists()
    csv.write_text("\n".join([HEADER, MINUTE_ROW, last_today]) + "\n", encoding="utf-8")
    assert import_csv(csv, store, default_calendar(), None, listing, today=today).rows == 2
