"""`maemae data import`: every kind of bad input is refused with one line naming file, line and problem,
exit code 2, and nothing written."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from maemae.cli import main
from maemae.data.bars import PRICE_COLUMNS, Timeframe
from maemae.data.csv_import import read_instruments_csv
from maemae.data.quality import OFF_TICK as OFF_TICK_REASON
from maemae.data.quality import REASON, check_daily
from maemae.data.sources.base import SourceBars
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.krx.calendar import default_calendar

HEADER = "code,ts,open,high,low,close,volume"
INSTRUMENTS = "code,name,market,instrument_type\n005930,삼성전자,kospi,stock\n000660,SK하이닉스,kospi,stock\n"
GOOD_MINUTE = [
    "005930,2025-03-04T09:00:00,70000,70100,69900,70000,100",
    "005930,2025-03-04T09:01:00,70000,70200,70000,70100,50",
    "000660,2025-03-04T09:00:00,180000,180500,179900,180100,10",
]


def run_import(
    tmp_path: Path,
    lines: list[str],
    header: str = HEADER,
    extra: list[str] | None = None,
    instrument_list: str = INSTRUMENTS,
) -> tuple[int, str]:
    csv = tmp_path / "bars.csv"
    csv.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    instruments = tmp_path / "instruments.csv"
    instruments.write_text(instrument_list, encoding="utf-8")
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


OUTSIDE = (
    "outside the session: expected a minute from 09:00 to 15:19 or 15:30 (KRX regular session on 2025-03-04, "
    "docs/data.md)"
)
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
        "outside session: in the gap before the closing auction",
        ["005930,2025-03-04T15:25:00,70000,70100,69900,70000,1"],
        HEADER,
        f"line 2: ts 2025-03-04T15:25:00+09:00: {OUTSIDE}\n",
    ),
    (
        "outside session: the closing auction's minute",
        ["005930,2025-03-04T15:20:00,70000,70100,69900,70000,1"],
        HEADER,
        f"line 2: ts 2025-03-04T15:20:00+09:00: {OUTSIDE}\n",
    ),
    (
        "outside session: before the open",
        ["005930,2025-03-04T08:59:00,70000,70100,69900,70000,1"],
        HEADER,
        f"line 2: ts 2025-03-04T08:59:00+09:00: {OUTSIDE}\n",
    ),
    (
        "seconds in a minute bar's time",
        ["005930,2025-03-04T09:04:30,70000,70100,69900,70000,1"],
        HEADER,
        "line 2: ts 2025-03-04T09:04:30+09:00: seconds 30: expected a whole minute (hh:mm:00)\n",
    ),
    (
        "holiday",
        ["005930,2025-03-03T09:00:00,70000,70100,69900,70000,1"],
        HEADER,
        "line 2: ts 2025-03-03T09:00:00+09:00: 2025-03-03 (Monday) is a KRX holiday, not a trading day: "
        "expected a bar of a trading day\n",
    ),
    (
        "weekend daily bar",
        ["005930,2025-03-08,70000,70100,69900,70000,1"],
        HEADER,
        "line 2: ts 2025-03-08T00:00:00+09:00: 2025-03-08 is a Saturday, not a KRX trading day: expected a "
        "bar of a trading day\n",
    ),
    (
        "bad ts",
        ["005930,yesterday,70000,70100,69900,70000,1"],
        HEADER,
        "line 2: column 'ts' = 'yesterday': expected a date as YYYY-MM-DD (day bars) or a date-time",
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
    assert f"{csv}: the file is empty, expected a header line and bars" in capsys.readouterr().err


def test_import_when_the_instrument_list_is_empty_says_it_expected_instruments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "expected a header line and bars" of an instrument list."""
    empty = tmp_path / "instruments.csv"
    empty.write_text("", encoding="utf-8")
    bars = tmp_path / "bars.csv"
    bars.write_text("code,ts,open,high,low,close,volume\n", encoding="utf-8")
    args = ["data", "import", "--csv", str(bars), "--instruments", str(empty), "--dir", str(tmp_path / "s")]
    assert main(args) == 2
    assert f"{empty}: the file is empty, expected a header line and instruments" in capsys.readouterr().err


def test_import_when_many_problems_reports_first_and_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["005930,2025-03-04T09:00:00,70000,70100,69900,70000,-1", "005930,2025-03-04T09:00:00,0,1,1,1,1"]
    assert run_import(tmp_path, lines)[0] == 2
    err = capsys.readouterr().err
    assert "line 2: volume must not be negative (and" in err


# ----- the tick grid: the rule a fetch quarantines with (quality.off_tick_grid), refusing the file here

TICK_INSTRUMENTS = (
    INSTRUMENTS
    + "247540,에코프로비엠,kosdaq,stock\n069500,KODEX 200,kospi,etf\n068270,셀트리온,kospi,stock\n"
)
# (case, code, day, price): on the grid of the day's table for the code's type and market. The stock table
# changed on 2023-01-25 (KOSPI and KOSDAQ had their own before), the ETF table on 2023-12-08.
ON_TICK = [
    ("kospi stock 2025, tick 10", "005930", "2025-03-04", 12_010),
    ("kosdaq stock 2022, old kosdaq tick 100", "247540", "2022-03-04", 100_100),
    ("etf 2023-06, old etf tick 5", "069500", "2023-06-01", 10_005),
    ("etf 2025, tick 1 below 2000", "069500", "2025-03-04", 1_501),
    # before 2023 a stock that moved between markets traded on its old market's grid (Celltrion in 2017)
    ("kospi stock 2017 on the old kosdaq grid, tick 100", "068270", "2017-03-06", 107_800),
]
# (case, code, day, price, tick): off the grid, with the tick the message names.
OFF_TICK = [
    ("kospi stock 2025, tick 100", "005930", "2025-03-04", 70_050, 100),
    ("kospi stock 2022, old kospi tick 50", "005930", "2022-03-04", 12_010, 50),
    ("kospi stock 2022, off both old grids, kospi tick 500", "005930", "2022-03-04", 100_050, 500),
    ("stock 2025 at an etf's price, tick 10", "005930", "2025-03-04", 10_005, 10),
    ("etf 2023-06, old etf tick 5", "069500", "2023-06-01", 1_501, 5),
    ("etf 2025, tick 5 from 2000", "069500", "2025-03-04", 10_003, 5),
]
KIND = {"005930": "kospi stock", "247540": "kosdaq stock", "069500": "kospi etf", "068270": "kospi stock"}


def daily_row(code: str, day: str, price: int) -> str:
    return f"{code},{day},{price},{price},{price},{price},10"


def run_tick_import(tmp_path: Path, lines: list[str]) -> tuple[int, str]:
    """``run_import`` with an instrument list that has a KOSDAQ stock and an ETF as well."""
    return run_import(tmp_path, lines, instrument_list=TICK_INSTRUMENTS)


@pytest.mark.parametrize(("case", "code", "day", "price"), ON_TICK, ids=[case[0] for case in ON_TICK])
def test_import_when_prices_are_on_the_tick_grid_of_their_day_and_instrument_stores_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, code: str, day: str, price: int
) -> None:
    exit_code, _ = run_tick_import(tmp_path, [daily_row(code, day, price)])
    assert exit_code == 0, (case, capsys.readouterr().err)
    assert "imported 1 day bars for 1 code(s)" in capsys.readouterr().out
    assert BarStore(tmp_path / "store").read_arrays(StockCode(code), Timeframe.DAY).close.tolist() == [price]


@pytest.mark.parametrize(
    ("case", "code", "day", "price", "tick"), OFF_TICK, ids=[case[0] for case in OFF_TICK]
)
def test_import_when_a_price_is_off_the_tick_grid_of_its_day_and_instrument_refuses_the_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    code: str,
    day: str,
    price: int,
    tick: int,
) -> None:
    exit_code, csv = run_tick_import(tmp_path, [daily_row(code, day, price)])
    err = capsys.readouterr().err
    assert exit_code == 2, case
    assert err == (
        f"error: {csv}: line 2: open {price} is off the tick grid: the tick at that price is {tick} won "
        f"for a {KIND[code]} on {day} (1 row(s) off the grid; raw prices, as traded, are on it)\n"
    )
    assert not (tmp_path / "store" / "day").exists()


def test_import_when_a_file_mixes_kinds_of_instrument_checks_each_row_by_its_own_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    on_grid = [daily_row(code, day, price) for _, code, day, price in ON_TICK]
    assert run_tick_import(tmp_path, on_grid)[0] == 0
    assert "imported 5 day bars for 4 code(s)" in capsys.readouterr().out
    # 10,005 is on the ETF's grid (tick 5) and off the stock's (tick 10) on the same day
    mixed = [daily_row("069500", "2025-03-05", 10_005), daily_row("005930", "2025-03-05", 10_005)]
    (tmp_path / "mixed").mkdir()
    exit_code, csv = run_tick_import(tmp_path / "mixed", mixed)
    assert exit_code == 2
    assert capsys.readouterr().err.startswith(
        f"error: {csv}: line 3: open 10005 is off the tick grid: the tick at that price is 10 won for a "
        "kospi stock on 2025-03-05 (1 row(s) off the grid;"
    )


def test_import_when_minute_bars_are_off_the_tick_grid_counts_them_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        "005930,2025-03-04T09:00:00,70050,70100,69900,70000,100",  # the open: the tick at 70,050 is 100
        "005930,2025-03-04T09:01:00,70000,70200,70000,70100,50",
        "000660,2025-03-04T09:00:00,180000,180500,179900,180150,10",  # the close
    ]
    exit_code, csv = run_import(tmp_path, lines)
    err = capsys.readouterr().err
    assert exit_code == 2
    assert err.startswith(f"error: {csv}: line 2: open 70050 is off the tick grid: the tick at that price ")
    assert "(2 row(s) off the grid;" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "store" / "minute").exists()


def test_import_when_an_off_grid_row_comes_before_another_problem_reports_it_and_counts_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        "005930,2025-03-04T09:00:00,70000,70100,69900,70050,100",
        "005930,2025-03-04T09:01:00,70000,70200,70000,70100,-1",
    ]
    assert run_import(tmp_path, lines)[0] == 2
    err = capsys.readouterr().err
    assert "line 2: close 70050 is off the tick grid" in err
    assert err.endswith("(and 1 more problem(s))\n")


@pytest.mark.parametrize(
    ("code", "day", "price"),
    [case[1:4] for case in ON_TICK + OFF_TICK],
    ids=[case[0] for case in ON_TICK + OFF_TICK],
)
def test_import_when_a_fetch_would_quarantine_a_price_as_off_the_grid_refuses_it_and_only_then(
    tmp_path: Path, code: str, day: str, price: int
) -> None:
    (tmp_path / "list.csv").write_text(TICK_INSTRUMENTS, encoding="utf-8")
    instrument = {item.code: item for item in read_instruments_csv(tmp_path / "list.csv")}[StockCode(code)]
    prices = {name: [price] for name in PRICE_COLUMNS}
    frame = pd.DataFrame({"ts": [pd.Timestamp(day, tz="Asia/Seoul")], **prices, "volume": [10]})
    bars = SourceBars(StockCode(code), frame.assign(value=frame["close"] * frame["volume"]))
    session = date.fromisoformat(day)
    fetched = check_daily(bars, instrument, None, default_calendar(), session, session)
    reasons = fetched.quarantined[REASON].tolist()
    assert reasons in ([], [OFF_TICK_REASON])
    exit_code, _ = run_tick_import(tmp_path, [daily_row(code, day, price)])
    assert (exit_code == 2) == bool(reasons)
