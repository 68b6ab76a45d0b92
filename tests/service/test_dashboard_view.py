"""The dashboard's read model after a replayed paper day: the minute equity curve, the alert feed, the log
tail and the parameters in force, from the same store ``maemae status`` reads."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.config import load_config
from maemae.engine.composition import open_state_store
from maemae.service import dashboard
from maemae.service.dashboard import dashboard_view, feed_row, flatten, log_tail
from tests.web.conftest import DAY, write_config


def test_view_when_a_paper_day_was_replayed_then_every_panel_has_it(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "RECENT_DENIED", 2)  # the day denies a few intents; show two of them
    config_file = write_config(market_root, tmp_path, [])
    with config_file.open("a", encoding="utf-8") as more:  # a second trade of a stock is denied
        more.write("\n[risk.daily_caps]\nenabled = true\nmax_trades_per_stock = 1\n")
    assert main(["run", "--config", str(config_file), "--replay", DAY]) == 0
    out = capsys.readouterr().out
    config = load_config(config_file)
    store = open_state_store(config)
    try:
        view = dashboard_view(store, date.fromisoformat(DAY), config, {})
        start = next(e for e in store.audit_entries() if e.kind == "recovery")
    finally:
        store.close()
    # one snapshot a minute from the open to the close, the last one valued at the close
    minutes = [point.at[11:16] for point in view.equity_today]
    assert len(minutes) == len(set(minutes)) > 380
    assert minutes[0] == "09:00"
    assert minutes[-1] >= "15:30"
    close_equity = int(out.split("equity at the close ")[1].split(" won")[0].replace(",", ""))
    assert view.equity_today[-1].equity == view.equity_days[-1].equity == close_equity
    assert view.feed[0].kind == "report"  # newest first: the day's closing alert
    fills = [row for row in view.feed if row.kind == "fill"]
    assert fills
    assert all("filled" in row.text for row in fills)
    # every order sent, however many intents were denied; the denied ones cut at the newest, and counted
    denied = [o for o in view.orders if o.state == "denied"]
    assert len(view.orders) - len(denied) == view.status.orders_today > 0
    assert len(denied) == min(2, view.status.denied_today)
    assert view.denied_left_out == view.status.denied_today - len(denied)
    assert view.denied_left_out > 0, "the replayed day denies more intents than are shown"
    assert view.orders == sorted(view.orders, key=lambda o: o.created_at, reverse=True)
    assert any(" alert " in line and "kind=fill" in line for line in view.log)  # the run wrote its log
    assert view.parameters["risk.stop_loss.enabled"] is True
    # the start's recovery record (the day's fills pushed it out of the feed) reads as the run's recovery
    # line, not as its JSON
    recovery = next(line for line in out.splitlines() if line.startswith("recovery:"))
    assert feed_row(start.at.isoformat(), start.kind, start.subject, start.data).text == recovery


def test_flatten_when_nested_then_dotted_keys_and_lists_stay_values() -> None:
    tree = {"risk": {"stop_loss": {"pct": 3}, "empty": {}}, "execution": {"codes": ["005930"]}}
    assert flatten(tree) == {"risk.stop_loss.pct": 3, "risk.empty": {}, "execution.codes": ["005930"]}


def test_log_tail_when_lines_are_not_json_then_shown_as_they_are(tmp_path: Path) -> None:
    assert log_tail(tmp_path, 5) == []
    (tmp_path / "maemae-2025-12-02.jsonl").write_text('{"event": "old"}\n', encoding="utf-8")
    (tmp_path / "maemae-2025-12-03.jsonl").write_text(
        '{"ts": "2025-12-03T09:00:01.000+09:00", "level": "info", "event": "fill", "code": "005930"}\n'
        "half a line\n[1, 2]\n",
        encoding="utf-8",
    )
    assert log_tail(tmp_path, 5) == ["09:00:01 info    fill code=005930", "half a line", "[1, 2]"]
