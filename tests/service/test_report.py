"""The end-of-day report: written after a paper day closes, from the state database, in Korean and English,
with the backtest of the same day (which a replayed paper day matches exactly)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.config import load_config
from maemae.data.bars import Timeframe, day_ns
from maemae.data.store import BarStore
from maemae.ports.state import DAY_DOCUMENT_PREFIX, StateChange
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import _config
from tests.user_errors import one_error_line

DAY = date(2025, 12, 3)


@pytest.fixture
def paper_day(market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    config = _config(market_root, tmp_path)
    assert main(["paper", "--config", str(config), "--replay", DAY.isoformat(), "--speed", "0"]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path}/reports/state/{DAY}.html" in out
    return config


def test_report_when_a_paper_day_closed_then_written_and_equal_to_the_saved_day(
    paper_day: Path, tmp_path: Path
) -> None:
    html = (tmp_path / "reports" / "state" / f"{DAY}.html").read_text(encoding="utf-8")
    text = (tmp_path / "reports" / "state" / f"{DAY}.txt").read_text(encoding="utf-8")
    assert '<html lang="ko">' in html
    assert "일일 보고서" in html
    assert "같은 날의 백테스트" in html
    # why a day can differ from it: not for a flat paper replay, which matches it (below)
    assert "무포지션에서 시작한 모의 매매 재생(paper --replay)은 백테스트와 정확히 같습니다" in html
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        (result,) = store.daily_results()
        fills = store.fills(DAY)
    finally:
        store.close()
    assert f"평가금액 {result.equity:,}" in text
    assert f"주문 {result.orders}, 체결 {result.fills}" in text
    assert html.count("<tr>") >= len(fills)
    # a replayed paper day is the backtest of that day: the comparison shows the same figures
    assert (
        f"같은 날의 백테스트: 평가금액 {result.equity:,}, 주문 {result.orders}, 체결 {result.fills}" in text
    )


def test_report_command_when_asked_in_english_or_json_then_prints_it(
    paper_day: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "en"
    args = ["report", "--config", str(paper_day), DAY.isoformat(), "--lang", "en", "--out", str(out_dir)]
    assert main([*args, "--no-backtest"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"End-of-day report {DAY}\nEquity ")
    # the paper store's first closed day: its change counts from the cash it started with, as the close
    # alert's does (it was "-": no day before it)
    change = int(out.splitlines()[1].split("(Change on the day ")[1].rstrip(")").replace(",", ""))
    equity = int(out.splitlines()[1].split()[1].replace(",", ""))
    assert change == equity - load_config(paper_day).backtest.initial_cash
    assert change != 0
    assert "Backtest of the same day" not in out
    assert '<html lang="en">' in (out_dir / f"{DAY}.en.html").read_text(encoding="utf-8")
    assert out.endswith(f"written: {out_dir / f'{DAY}.en.html'}\n")
    # in the report folder too, the close's Korean report (the one the dashboard shows) is left as it was
    closed = tmp_path / "reports" / "state"
    before = {name: (closed / name).read_bytes() for name in (f"{DAY}.html", f"{DAY}.txt")}
    assert main(["report", "--config", str(paper_day), DAY.isoformat(), "--lang", "en"]) == 0
    assert '<html lang="en">' in (closed / f"{DAY}.en.html").read_text(encoding="utf-8")
    assert (closed / f"{DAY}.en.txt").read_text(encoding="utf-8").startswith(f"End-of-day report {DAY}")
    assert {name: (closed / name).read_bytes() for name in before} == before
    capsys.readouterr()
    assert main(["report", "--config", str(paper_day), "--json", "--no-backtest"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["day"] == DAY.isoformat()
    assert data["change"] == change
    assert data["notes"] == []
    config = load_config(paper_day)
    store = SqlStateStore(config.store.url)
    try:
        assert len(data["trades"]) == len(store.fills(DAY))
    finally:
        store.close()


def test_report_when_the_day_or_options_are_wrong_then_one_line(
    paper_day: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        (["2025-12-04"], 2, "report 2025-12-04: the state database has no closed day 2025-12-04"),
        (["2025-13-01"], 2, "day '2025-13-01': no such date; expected a date as YYYY-MM-DD"),
        (["--lang", "fr"], 2, "--lang 'fr': expected ko or en"),
    ]
    for args, code, expected in cases:
        assert main(["report", "--config", str(paper_day), "--no-backtest", *args]) == code
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert expected in err[0]


def test_report_command_when_the_folder_cannot_take_the_files_then_one_line_and_nothing_printed(
    paper_day: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It wrote the HTML before printing, and an unusable folder ended it in a traceback (with --json too,
    whose JSON was then never printed). Now it is one line and an empty stdout: a script must not take a
    report whose files were not written for done."""
    (tmp_path / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    folder = tmp_path / "afile" / "reports"
    assert main(["report", "--config", str(paper_day), "--no-backtest", "--out", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_error_line(captured.err) == (
        f"error: --out '{folder}': '{tmp_path / 'afile'}' is a file; expected a folder"
    )
    config = paper_day.read_text(encoding="utf-8") + f'\n[report]\ndir = "{folder}"\n'
    paper_day.write_text(config, encoding="utf-8")
    assert main(["report", "--config", str(paper_day), "--no-backtest", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_error_line(captured.err) == (
        f"error: report.dir '{folder}': '{tmp_path / 'afile'}' is a file; expected a folder"
    )


def test_paper_when_the_report_cannot_be_written_at_the_close_then_one_line_after_the_book(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The folder passed the check at the start, but the report's file cannot go there at the close: the day
    is saved, the book check is told, the report's failure is one line (exit 1), and `maemae report` writes
    the report once the folder is fixed."""
    config = _config(market_root, tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + "\n[logging]\nconsole = false\n", encoding="utf-8")
    blocking = tmp_path / "reports" / "state" / f"{DAY}.html"
    blocking.mkdir(parents=True)
    assert main(["paper", "--config", str(config), "--replay", DAY.isoformat(), "--speed", "0"]) == 1
    captured = capsys.readouterr()
    assert "book: maemae's orders, holdings and cash equal the venue's" in captured.out
    assert one_error_line(captured.err) == (
        f"error: report.dir '{blocking.parent}': {DAY}.html there is a folder; expected a file; the day is "
        f"saved: `maemae report --config F {DAY}` writes its report again"
    )
    blocking.rmdir()
    assert main(["report", "--config", str(config), "--no-backtest", DAY.isoformat()]) == 0
    assert f"written: {blocking}" in capsys.readouterr().out
    assert sorted(path.name for path in blocking.parent.iterdir()) == [f"{DAY}.html", f"{DAY}.txt"]


def test_report_of_a_closed_day_when_written_after_later_trades_shows_that_days_positions_at_its_closes(
    paper_day: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report's positions were the ones saved now, so a report written for a past day showed today's
    book, unvalued. Each close saves its book (``day/DATE/close_book``): the day's positions at its closes."""
    config = load_config(paper_day)
    store = SqlStateStore(config.store.url)
    try:
        held = [p for p in store.load(None).positions if p.owned_quantity]
        assert held, "the sample day must end with a position for this test to judge"
        assert not any(name.startswith(DAY_DOCUMENT_PREFIX) for name in store.load(None).runtime)
        # a later day sells everything the day closed with
        store.commit(StateChange(closed_positions=[p.code for p in held]))
    finally:
        store.close()
    capsys.readouterr()
    assert main(["report", "--config", str(paper_day), DAY.isoformat(), "--json", "--no-backtest"]) == 0
    rows = {row["code"]: row for row in json.loads(capsys.readouterr().out)["positions"]}
    bars = BarStore(market_root)
    for position in held:
        row = rows[str(position.code)]
        daily = bars.read_arrays(position.code, Timeframe.DAY)
        close = int(daily.close[list(daily.ts).index(day_ns(DAY))])
        assert (row["owned_quantity"], row["cost_basis"], row["price"]) == (
            position.owned_quantity,
            position.cost_basis,
            close,
        )
        assert row["market_value"] == position.owned_quantity * close
        assert row["unrealised_pnl"] == row["market_value"] - position.cost_basis
        assert str(row["marked_at"]).startswith(f"{DAY}T15:")
    html = (paper_day.parent / "reports" / "state" / f"{DAY}.html").read_text(encoding="utf-8")
    assert "종가 평가액" in html
    assert f"<td>{held[0].owned_quantity * rows[str(held[0].code)]['price']:,}</td>" in html


def test_report_command_when_out_is_empty_then_refused_and_nothing_written_in_the_current_folder(
    paper_day: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty ``--out`` was the current folder: the report landed among whatever was there (backtest,
    compare and sweep refuse it)."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["report", "--config", str(paper_day), DAY.isoformat(), "--no-backtest", "--out", ""]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_error_line(captured.err) == "error: --out '': expected a folder path, not an empty value"
    assert list(here.iterdir()) == []
