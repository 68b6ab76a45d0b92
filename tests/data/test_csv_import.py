"""`maemae data import`: every kind of bad input is refused with one line naming file, line and problem,
exit code 2, and nothing written."""

from pathlib import Path

import pytest

from maemae.cli import main
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore

HEADER = "code,ts,open,high,low,close,volume"
INSTRUMENTS = "code,name,market,instrument_type\n005930,삼성전자,kospi,stock\n000660,SK하이닉스,kospi,stock\n"
GOOD_MINUTE = [
    "005930,2025-03-04T09:00:00,70000,70100,69900,70000,100",
    "005930,2025-03-04T09:01:00,70000,70200,70000,70100,50",
    "000660,2025-03-04T09:00:00,180000,180500,179900,180100,10",
]


def run_import(
    tmp_path: Path, lines: list[str], header: str = HEADER, extra: list[str] | None = None
) -> tuple[int, str]:
    csv = tmp_path / "bars.csv"
    csv.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    instruments = tmp_path / "instruments.csv"
    instruments.write_text(INSTRUMENTS, encoding="utf-8")
    args = [
        "data",
        "import",
        "--csv",
        str(csv),
        "--dir",
        str(tmp_path / "store"),
        "--instruments",
        str(instruments),
    ]
    return main(args + (extra or [])), str(csv)


def test_import_when_file_is_good_stores_bars_per_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_import(tmp_path, GOOD_MINUTE)
    assert code == 0
    assert "imported 3 minute bars for 2 code(s)" in capsys.readouterr().out
    store = BarStore(tmp_path / "store")
    bars = store.read_arrays("005930", Timeframe.MINUTE)
    assert bars.close.tolist() == [70_000, 70_100]
    assert bars.value.tolist() == [7_000_000, 3_505_000]


def test_import_when_daily_file_infers_day_timeframe(tmp_path: Path) -> None:
    code, _ = run_import(
        tmp_path, ["005930,2025-03-04,70000,71000,69000,70500,1000,70500000"], HEADER + ",value"
    )
    assert code == 0
    assert BarStore(tmp_path / "store").read_arrays("005930", Timeframe.DAY).value.tolist() == [70_500_000]


BAD_CASES = [
    (
        "missing column",
        ["005930,2025-03-04T09:00:00,1,1,1,1"],
        "code,ts,open,high,low,close",
        "missing column(s) volume; expected columns: code, ts, open, high, low, close, volume [, value]",
    ),
    ("extra column", ["005930,2025-03-04T09:00:00,1,1,1,1,1,x"], HEADER + ",note", "unknown column(s) note"),
    (
        "non-numeric",
        [GOOD_MINUTE[0], "005930,2025-03-04T09:01:00,70000,abc,70000,70100,50"],
        HEADER,
        "line 3: column 'high' = 'abc': expected a whole number",
    ),
    (
        "fraction",
        ["005930,2025-03-04T09:00:00,70000.5,70100,69900,70000,100"],
        HEADER,
        "line 2: column 'open' = '70000.5': expected a whole number",
    ),
    (
        "zero price",
        [GOOD_MINUTE[0], "005930,2025-03-04T09:01:00,0,70200,0,70100,50"],
        HEADER,
        "line 3: open must be a positive price in won",
    ),
    (
        "negative volume",
        ["005930,2025-03-04T09:00:00,70000,70100,69900,70000,-1"],
        HEADER,
        "line 2: volume must not be negative",
    ),
    (
        "high below low",
        ["005930,2025-03-04T09:00:00,70000,69000,71000,70000,1"],
        HEADER,
        "line 2: high is below low",
    ),
    ("duplicate ts", [GOOD_MINUTE[0], GOOD_MINUTE[0]], HEADER, "line 3: duplicate timestamp for this stock"),
    (
        "unsorted",
        [GOOD_MINUTE[1], GOOD_MINUTE[0]],
        HEADER,
        "line 3: timestamp earlier than the row before it for this stock (unsorted)",
    ),
    (
        "outside session",
        ["005930,2025-03-04T15:25:00,70000,70100,69900,70000,1"],
        HEADER,
        "line 2: ts 2025-03-04T15:25:00+09:00: outside the session",
    ),
    (
        "holiday",
        ["005930,2025-03-03T09:00:00,70000,70100,69900,70000,1"],
        HEADER,
        "line 2: ts 2025-03-03T09:00:00+09:00: not a KRX trading day",
    ),
    (
        "bad ts",
        ["005930,yesterday,70000,70100,69900,70000,1"],
        HEADER,
        "line 2: ts 'yesterday': expected an ISO date or date-time",
    ),
    (
        "invalid code",
        ["5930,2025-03-04T09:00:00,70000,70100,69900,70000,1"],
        HEADER,
        "line 2: stock code '5930': expected 6 characters",
    ),
    (
        "unknown code",
        ["123450,2025-03-04T09:00:00,70000,70100,69900,70000,1"],
        HEADER,
        "line 2: stock code '123450' is unknown",
    ),
]


@pytest.mark.parametrize(
    ("case", "lines", "header", "message"), BAD_CASES, ids=[case[0] for case in BAD_CASES]
)
def test_import_when_input_is_bad_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, lines: list[str], header: str, message: str
) -> None:
    code, csv = run_import(tmp_path, lines, header)
    err = capsys.readouterr().err
    assert code == 2, case
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {csv}: ")
    assert message in err
    assert not (tmp_path / "store" / "minute").exists()
    assert not (tmp_path / "store" / "day").exists()


def test_import_when_file_is_empty_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "empty.csv"
    csv.write_text("", encoding="utf-8")
    assert main(["data", "import", "--csv", str(csv), "--dir", str(tmp_path)]) == 2
    assert "the file is empty" in capsys.readouterr().err


def test_import_when_many_problems_reports_first_and_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["005930,2025-03-04T09:00:00,70000,70100,69900,70000,-1", "005930,2025-03-04T09:00:00,0,1,1,1,1"]
    assert run_import(tmp_path, lines)[0] == 2
    err = capsys.readouterr().err
    assert "line 2: volume must not be negative (and" in err
