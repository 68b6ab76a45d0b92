"""``maemae data import``: the forms a real file takes (a spreadsheet's trailing commas), numbers beyond the
columns' 64 bits, instrument lists that contradict themselves, and a ``--dir`` that is not a folder: each
refused in one line naming the file, line and value, with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.cli import main
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from tests.user_errors import refused

HEADER = "code,ts,open,high,low,close,volume,value"
ROW = "005930,2025-03-04,70000,70100,69900,70000,1200,84000000"
NEXT_ROW = "005930,2025-03-05,70000,70100,69900,70000,1200,84000000"
INSTRUMENTS = "code,name,market,instrument_type\n005930,삼성전자,kospi,stock\n"


def run(
    tmp_path: Path, bars: list[str], instruments: str = INSTRUMENTS, store: Path | None = None
) -> tuple[int, Path, Path]:
    """Import ``bars`` (the lines after none: the header is the caller's) with ``instruments``."""
    csv = tmp_path / "bars.csv"
    csv.write_text("\n".join(bars) + "\n", encoding="utf-8")
    listing = tmp_path / "instruments.csv"
    listing.write_text(instruments, encoding="utf-8")
    target = store or tmp_path / "store"
    args = ["data", "import", "--csv", str(csv), "--dir", str(target), "--instruments", str(listing)]
    return main(args), csv, listing


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


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        ("005930,2025-03-04,70000,70100,69900,70000,18446744073709552816,84000000", "volume", 2**64 + 1200),
        ("005930,2025-03-04,9223372036854775808,70100,69900,70000,1200,84000000", "open", 2**63),
        ("005930,2025-03-04,70000,70100,69900,70000,1200,-9223372036854775809", "value", -(2**63) - 1),
    ],
    ids=["volume", "open", "value"],
)
def test_import_when_a_number_does_not_fit_64_bits_says_it_is_out_of_range(
    tmp_path: Path, row: str, column: str, value: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code, csv, _ = run(tmp_path, [HEADER, row])
    message = refused(code, capsys)
    assert message.startswith(f"error: {csv}: line 2: column '{column}' = '{value}': out of range")
    assert "9,223,372,036,854,775,807" in message


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
    ],
    ids=["code twice", "delisted before listed", "market", "type", "date"],
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
