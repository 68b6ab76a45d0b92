"""``maemae status``, ``positions`` and ``orders`` read what a paper run saved."""

from __future__ import annotations

import json
import socket
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maemae.backtest.runner import Cursor
from maemae.cli import main
from maemae.engine.replay import replay_moment
from maemae.krx.calendar import default_calendar
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import DAY, _config
from tests.engine.test_run import _config as run_config


def test_status_positions_orders_when_a_paper_day_ran_then_they_show_its_saved_state(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(_config(market_root, tmp_path))
    assert main(["paper", "--config", config, "--replay", DAY.isoformat(), "--speed", "0"]) == 0
    capsys.readouterr()
    assert main(["halt", "--config", config, "--reducing"]) == 0
    capsys.readouterr()

    assert main(["status", "--config", config, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        saved = store.load(DAY)
    finally:
        store.close()
    assert saved.account is not None
    assert status["trading_state"] == "reducing"
    assert status["day"] == DAY.isoformat()
    assert status["replay_step"] == 382  # the day is closed
    assert status["cash"] == saved.account.account.cash
    assert status["open_orders"] == 0
    assert status["orders_today"] + status["denied_today"] == len(saved.orders)
    # dated when the replay started in the day's time, ten minutes before the open (it read midnight)
    assert status["last_recovery"]["at"] == f"{DAY.isoformat()}T08:50:00+09:00"
    assert status["last_recovery"]["restored_orders"] == 0
    assert status["realised_today"] == saved.account.realised_pnl  # the first closed day
    assert status["last_error"] is None

    assert main(["positions", "--config", config, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["code"]: r["owned_quantity"] for r in rows} == {
        str(p.code): p.owned_quantity for p in saved.positions
    }

    assert main(["orders", "--config", config, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(saved.orders)
    assert main(["orders", "--config", config, "--open", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["orders", "--config", config]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 + len(saved.orders)  # title, header, rule, then one line per order
    for order in saved.orders:
        (line,) = [line for line in lines if order.order_id in line]
        words = line.split()
        assert words[2:5] == [order.code, order.side.value, f"{order.quantity:,}"]
        assert order.state.value in words


def test_status_when_no_database_then_one_line(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(market_root, tmp_path))
    assert main(["status", "--config", config]) == 6
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "does not exist" in err[0]
    assert not (tmp_path / "state.db").exists()


@pytest.mark.whole_day
def test_status_when_a_run_lost_its_broker_then_the_error_is_saved_and_shown(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(market_root, tmp_path))
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["paper", "--config", config, "--replay", DAY.isoformat(), "--speed", "0", "--broker", "kis-mock"]
    assert main([*args, "--exchange", f"http://127.0.0.1:{port}"]) == 7
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        f"error: kis-mock http://127.0.0.1:{port}: cannot connect ([Errno 111] Connection refused): "
        "is `maemae kis-mock` running?; the state is saved: the same command goes on from it (--supervise "
        "restarts it by itself)"
    )
    assert main(["status", "--config", config, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["last_error"].startswith(f"{DAY.isoformat()}T08:50:00+09:00 BrokerConnectionLost: kis-mock")
    assert "a run started after it" not in status["last_error"]
    # a later run on the same store: the error is said to be from before it, not the state of this one
    assert main(["paper", "--config", config, "--replay", DAY.isoformat(), "--speed", "0"]) == 0
    capsys.readouterr()
    assert main(["status", "--config", config, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["last_error"].startswith(f"{DAY.isoformat()}T08:50:00+09:00 BrokerConnectionLost: kis-mock")
    assert status["last_error"].endswith(f" (a run started after it, at {DAY.isoformat()}T08:50:00+09:00)")


def test_replay_moment_is_where_the_replay_stands_in_the_days_time() -> None:
    """A resumed replay's recovery, or an error a start stops on, is dated where the replay (re)starts:
    before the open, at the next bar to step, or after the close (they all read midnight)."""
    calendar, kst = default_calendar(), ZoneInfo("Asia/Seoul")
    assert replay_moment(calendar, DAY, None) == datetime(2025, 12, 3, 8, 50, tzinfo=kst)
    assert replay_moment(calendar, DAY, Cursor(DAY, 266)) == datetime(2025, 12, 3, 13, 26, tzinfo=kst)
    assert replay_moment(calendar, DAY, Cursor(DAY, 382)) == datetime(2025, 12, 3, 15, 30, 1, tzinfo=kst)


def test_status_when_run_cannot_reach_its_broker_at_the_start_then_the_error_is_saved_and_alerted(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`maemae run` printed its line and exited 7 with nothing saved or alerted (`paper` did both): a
    scheduled run that cannot reach its broker ended silent."""
    config = str(run_config(market_root, tmp_path, f'[logging]\ndir = "{tmp_path}/log"\nconsole = false\n'))
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["run", "--config", config, "--replay", DAY.isoformat(), "--speed", "0", "--broker", "kis-mock"]
    assert main([*args, "--exchange", f"http://127.0.0.1:{port}"]) == 7
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .startswith(f"error: kis-mock http://127.0.0.1:{port}")
    )
    assert main(["status", "--config", config, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert " BrokerConnectionLost: kis-mock " in status["last_error"]
    log = "".join(p.read_text(encoding="utf-8") for p in sorted((tmp_path / "log").glob("*.jsonl")))
    alerts = [json.loads(line) for line in log.splitlines() if '"alert"' in line]
    assert any(a.get("kind") == "error" and "cannot connect" in str(a.get("text")) for a in alerts), alerts


@pytest.mark.whole_day
def test_status_day_when_the_store_has_no_such_day_then_one_line_and_when_closed_then_its_own_result(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``status --day`` of a day the store never traded showed the instance's day and realised P&L beside
    that day's counts of nothing, with exit 0."""
    config = str(_config(market_root, tmp_path))
    assert main(["paper", "--config", config, "--replay", DAY.isoformat(), "--speed", "0"]) == 0
    capsys.readouterr()
    assert main(["status", "--config", config, "--day", "2025-12-06"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: --day 2025-12-06: no day of this store (it is on {DAY}; days closed: {DAY} to {DAY})"
    ]
    assert main(["status", "--config", config, "--day", DAY.isoformat(), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["day"] == DAY.isoformat()
    assert shown["orders_today"] + shown["denied_today"] > 0
