"""The end-of-day report names each stock of its trades and positions beside its code, in HTML (Korean and
English, escaped) and in ``--json``; a code the instrument list lacks, or a missing or broken list, leaves the
name blank and the report is written all the same."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from maemae.cli import main
from maemae.config import load_config
from maemae.service.report import DayReport, day_report, render_html, write_day_report
from maemae.store.repository import SqlStateStore
from tests.support.named_book import DAY, NAMES, save_book, write_names

NAMED = {str(code): name for code, name in NAMES.items()}


def _saved_day(tmp_path: Path) -> SqlStateStore:
    """The store ``state.db`` under ``tmp_path`` with the closed day of ``named_book`` saved, open."""
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    save_book(store)
    return store


def _config(tmp_path: Path, data_root: Path) -> Path:
    """A closed day saved in ``state.db``, its stocks named by the instrument list under ``data_root``."""
    _saved_day(tmp_path).close()
    config = tmp_path / "maemae.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/state.db"\n\n[data]\nroot = "{data_root}"\n\n'
        f'[report]\ndir = "{tmp_path}/reports"\ncompare_backtest = false\n',
        encoding="utf-8",
    )
    return config


def _report(tmp_path: Path) -> DayReport:
    store = _saved_day(tmp_path)
    try:
        return day_report(store, date.fromisoformat(DAY), NAMED)
    finally:
        store.close()


def test_report_html_when_the_list_names_the_stocks_then_code_and_name_side_by_side(tmp_path: Path) -> None:
    report = _report(tmp_path)
    korean = render_html(report, "ko")
    assert korean.count("<th>종목코드</th><th>종목명</th>") == 2  # the trades and the positions
    assert "<td>09:01:30</td><td>005930</td><td>삼성전자</td><td>매수</td>" in korean
    assert "<td>09:03:30</td><td>0088M0</td><td></td><td>매도</td>" in korean  # not in the list: blank
    assert "<td>005930</td><td>삼성전자</td><td>10</td><td>10</td><td>0</td>" in korean
    # a name is text from a file anyone may write: escaped, never markup
    assert "<td>000660</td><td>&lt;b&gt;하이닉스&lt;/b&gt; &amp; [/b]</td><td>0</td><td>5</td>" in korean
    assert "<b>" not in korean
    english = render_html(report, "en")
    assert english.count("<th>Code</th><th>Name</th>") == 2
    assert "<td>09:01:30</td><td>005930</td><td>삼성전자</td><td>buy</td>" in english


def test_report_json_when_the_list_names_the_stocks_then_each_trade_and_position_has_its_name(
    tmp_path: Path,
) -> None:
    data = json.loads(json.dumps(_report(tmp_path).as_dict()))
    assert list(data["trades"][0])[:4] == ["time", "code", "name", "side"]
    assert [(t["code"], t["name"]) for t in data["trades"]] == [("005930", "삼성전자"), ("0088M0", "")]
    assert list(data["positions"][0])[:3] == ["code", "name", "owned_quantity"]
    assert [(p["code"], p["name"]) for p in data["positions"]] == [
        ("000660", "<b>하이닉스</b> & [/b]"),
        ("005930", "삼성전자"),
    ]


def test_report_command_when_the_list_names_the_stocks_then_written_with_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_names(tmp_path / "market")
    config = _config(tmp_path, tmp_path / "market")
    assert main(["report", "--config", str(config), DAY, "--json"]) == 0
    captured = capsys.readouterr()
    assert [t["name"] for t in json.loads(captured.out)["trades"]] == ["삼성전자", ""]
    assert captured.err == ""
    page = (tmp_path / "reports" / f"{DAY}.html").read_text(encoding="utf-8")
    assert "<td>005930</td><td>삼성전자</td>" in page


def test_report_command_when_there_is_no_instrument_list_then_blank_names_and_nothing_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, tmp_path / "no-market")
    assert main(["report", "--config", str(config), DAY, "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert [t["name"] for t in data["trades"]] == ["", ""]
    assert [p["name"] for p in data["positions"]] == ["", ""]
    assert captured.err == ""
    assert not (tmp_path / "no-market").exists()
    page = (tmp_path / "reports" / f"{DAY}.html").read_text(encoding="utf-8")
    assert "<td>005930</td><td></td>" in page


def test_day_report_at_the_close_when_the_list_is_broken_then_logged_and_written_without_names(
    tmp_path: Path,
) -> None:
    """The run writes the report after the close: a broken instrument list must not cost the day its
    report (exit 1), only the names."""
    broken = tmp_path / "market" / "instruments.parquet"
    broken.parent.mkdir()
    broken.write_bytes(b"half a file")
    config = load_config(_config(tmp_path, broken.parent))
    store = SqlStateStore(config.store.url)
    try:
        with capture_logs() as logs:
            written, error = write_day_report(config, store, date.fromisoformat(DAY))
    finally:
        store.close()
    assert error is None
    assert written == tmp_path / "reports" / f"{DAY}.html"
    assert "<td>005930</td><td></td>" in written.read_text(encoding="utf-8")
    (logged,) = logs
    assert (logged["event"], logged["log_level"]) == ("stock_names_unread", "warning")
    assert f"{broken}: not a readable Parquet file" in logged["problem"]
