"""``maemae paper --replay``: the paper run trades like the backtest, paces itself on the wall clock, and a
paper run killed with SIGKILL resumes against ``maemae sim serve`` (the exchange in its own process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from maemae.backtest.service import run_backtest
from maemae.cli import main
from maemae.config import load_config
from maemae.domain.clock_time import KST
from maemae.engine.pacing import WallPacer
from maemae.errors import ConfigError
from maemae.store.repository import SqlStateStore
from tests.market_config import market_toml
from tests.user_errors import one_error_line

DAY = date(2025, 12, 3)
KEY = "0123456789abcdef0123"


def _config(root: Path, directory: Path) -> Path:
    path = directory / "paper.toml"
    path.write_text(
        market_toml(root)
        + f"""

[risk.stop_loss]
enabled = true
pct = "1.5"

[risk.trailing_stop]
enabled = true
pct = "1"

[execution]
on_timeout = "replace"
unfilled_timeout_s = 120
replace_ticks = 1
max_replaces = 2

[store]
url = "sqlite:///{directory}/state.db"
""",
        encoding="utf-8",
    )
    return path


def _terms(orders: object) -> list[tuple[object, ...]]:
    return sorted(
        (o.order_id, o.code, o.side, o.quantity, o.limit_price, o.state, o.filled_quantity)
        for o in orders  # type: ignore[attr-defined]
    )


def test_paper_when_replayed_in_process_then_same_orders_as_backtest(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = _config(market_root, tmp_path)
    assert main(["paper", "--config", str(config_file), "--replay", DAY.isoformat(), "--speed", "0"]) == 0
    out = capsys.readouterr().out
    assert f"paper {DAY}:" in out
    backtest = run_backtest(load_config(config_file), start=DAY, end=DAY, every_bar=True)
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        assert _terms(store.load(DAY).orders) == _terms(backtest.engine.orders.orders.values())
        assert f"equity at the close {backtest.recorder.days[-1].equity:,} won" in out
    finally:
        store.close()
    # the day is complete in this store: a second run says so (rather than offering to resume it)
    assert main(["paper", "--config", str(config_file), "--replay", DAY.isoformat(), "--speed", "0"]) == 6
    line = one_error_line(capsys.readouterr().err)
    assert f"the replay of {DAY} is complete in this store (`maemae report` shows it)" in line
    assert "give the run a new store (--store URL" in line
    # another day on it: its exchange, with the holdings, lived in that process and is gone
    assert main(["paper", "--config", str(config_file), "--replay", "2025-12-04", "--speed", "0"]) == 6
    line = one_error_line(capsys.readouterr().err)
    assert f"holds the completed replay of {DAY}, and its exchange ran inside that paper process" in line
    assert "replay 2025-12-04 with a new store (--store URL" in line


def test_paper_when_a_liquidation_is_cut_short_then_it_sells_the_rest_as_the_backtest_does(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The portfolio stop liquidates on fills capped at 2 % of a bar's volume: the replay sends the rest
    again at the same moments as both backtest modes, and ends the day holding nothing."""
    config_file = tmp_path / "paper.toml"
    config_file.write_text(
        market_toml(root=market_root)
        + f"""
[risk.portfolio_stop]
day_loss_pct = "0.1"
liquidate = true

[broker.sim]
max_volume_share = "0.02"

[store]
url = "sqlite:///{tmp_path}/state.db"
""",
        encoding="utf-8",
    )
    assert main(["paper", "--config", str(config_file), "--replay", DAY.isoformat(), "--speed", "0"]) == 0
    out = capsys.readouterr().out
    config = load_config(config_file)
    every_bar = run_backtest(config, start=DAY, end=DAY, every_bar=True)
    wake_up = run_backtest(config, start=DAY, end=DAY, every_bar=False)
    assert _terms(every_bar.engine.orders.orders.values()) == _terms(wake_up.engine.orders.orders.values())
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        orders = store.load(DAY).orders
        assert _terms(orders) == _terms(every_bar.engine.orders.orders.values())
        assert any(o.reason == "portfolio_stop: sell the rest" and o.filled_quantity for o in orders)
    finally:
        store.close()
    assert every_bar.recorder.days[-1].prices == {}
    assert f"equity at the close {every_bar.recorder.days[-1].equity:,} won" in out


def test_paper_when_options_are_bad_then_one_line_each(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = str(_config(market_root, tmp_path))
    cases = [
        (["--replay", "2025-13-01"], "--replay '2025-13-01': no such date; expected a date as YYYY-MM-DD"),
        (["--replay", "2025-12-06"], "--replay 2025-12-06: KRX did not trade that day"),  # a Saturday
        (["--replay", "2030-01-02"], "--replay 2030-01-02: outside the trading calendar: expected a date"),
        (["--replay", "2025-09-02"], "--replay 2025-09-02: no stored minute bars for that trading day"),
        (["--replay", "2025-12-03", "--exchange", "localhost"], "--exchange 'localhost': expected HOST:PORT"),
        (["--replay", "2025-12-03", "--speed", "-1"], "--speed -1.0: expected 0 (as fast as possible)"),
        (["--replay", "2025-12-03", "--speed", "nan"], "--speed nan: expected 0 (as fast as possible)"),
        (["--replay", "2025-12-03", "--speed", "inf"], "--speed inf: expected 0 (as fast as possible)"),
    ]
    for args, expected in cases:
        assert main(["paper", "--config", config_file, *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert expected in err[0]
    assert (
        not (tmp_path / "state.db").exists()
        or SqlStateStore(f"sqlite:///{tmp_path}/state.db").order_ids() == []
    )


def test_wall_pacer_when_speed_60_then_a_market_minute_takes_a_second() -> None:
    slept: list[float] = []
    wall = [datetime(2026, 1, 2, 12, 0, tzinfo=KST)]

    class Clock:
        def now(self) -> datetime:
            return wall[0]

    pacer = WallPacer(60, Clock(), slept.append)
    pacer(datetime(2025, 12, 3, 9, 1, tzinfo=KST))  # anchors
    pacer(datetime(2025, 12, 3, 9, 2, tzinfo=KST))
    pacer(datetime(2025, 12, 3, 9, 31, tzinfo=KST))
    assert slept == [1.0, 30.0]
    with pytest.raises(ConfigError):
        WallPacer(-1)


def saved_step(url: str) -> int:
    """The step a paper run's store goes on from (0 while the paper process is still creating it)."""
    try:
        store = SqlStateStore(url, create=False)
        try:
            return int(store.load(None).runtime.get("cursor", {}).get("next_bar", 0))
        finally:
            store.close()
    except Exception:  # not created yet, or not whole yet
        return 0


def _wait_for_cursor(url: str, at_least: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (step := saved_step(url)) >= at_least:
            return step
        time.sleep(0.1)
    raise AssertionError(f"the paper run did not reach step {at_least} in {timeout} s")


@pytest.mark.whole_day
def test_paper_when_an_in_process_replay_was_killed_half_way_then_a_restart_says_it_cannot_resume(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = _config(market_root, tmp_path)
    paper = [sys.executable, "-m", "maemae.cli", "paper", "--config", str(config_file)]
    first = subprocess.Popen([*paper, "--replay", DAY.isoformat(), "--speed", "3000"], stdout=subprocess.PIPE)
    reached = _wait_for_cursor(f"sqlite:///{tmp_path}/state.db", 60, 60)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert main(["paper", "--config", str(config_file), "--replay", DAY.isoformat(), "--speed", "0"]) == 6
    line = one_error_line(capsys.readouterr().err)
    assert f"it holds a replay of {DAY} stopped at step " in line
    assert int(line.split("stopped at step ")[1].split()[0]) >= reached
    assert "is gone, so it cannot be resumed: use a new store (--store URL" in line


def _serve(config_file: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """`maemae sim serve` on a free port; returns the process and its HOST:PORT."""
    server = subprocess.Popen(
        [sys.executable, "-m", "maemae.cli", "sim", "serve", "--config", str(config_file), "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = server.stdout.readline()  # type: ignore[union-attr]
    assert line.startswith("sim exchange listening on 127.0.0.1:")
    return server, line.rsplit(" ", 1)[1].strip()


@pytest.mark.whole_day
def test_paper_when_killed_then_resumes_against_the_exchange_process(
    market_root: Path, tmp_path: Path
) -> None:
    config_file = _config(market_root, tmp_path)
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    maemae = [sys.executable, "-m", "maemae.cli"]
    server, exchange = _serve(config_file, env)
    try:
        paper = [
            *maemae,
            "paper",
            "--config",
            str(config_file),
            "--replay",
            DAY.isoformat(),
            "--exchange",
            exchange,
        ]
        first = subprocess.Popen([*paper, "--speed", "3000"], env=env, stdout=subprocess.PIPE, text=True)
        reached = _wait_for_cursor(f"sqlite:///{tmp_path}/state.db", 120, 60)
        first.send_signal(signal.SIGKILL)
        killed_said = first.communicate(timeout=10)[0]
        assert first.returncode == -signal.SIGKILL
        # the run killed half-way had told how it started, as it started
        assert killed_said.startswith("recovery: 0 orders restored, 0 found at the venue"), killed_said
        second = subprocess.run(
            [*paper, "--speed", "0"], env=env, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 0, second.stderr
        assert "resumed 2025-12-03 at step" in second.stdout
        assert int(second.stdout.split("at step ")[1].split()[0]) >= reached
    finally:
        server.kill()
        server.wait(10)
    backtest = run_backtest(load_config(config_file), start=DAY, end=DAY, every_bar=True)
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        saved = store.load(DAY)
        assert store.verify_audit().ok
        assert not [o for o in saved.orders if o.is_open]
        by_query = [
            line.note for o in saved.orders for line in o.history if line.note.startswith("settled by query")
        ]
        if not by_query:  # killed between steps: the resumed day is the uninterrupted day
            assert _terms(saved.orders) == _terms(backtest.engine.orders.orders.values())
        print(json.dumps({"killed_at_step": reached, "settled_by_query": by_query}))
    finally:
        store.close()


def test_paper_when_data_root_is_missing_names_the_folder_not_the_minute_bars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store's own problems keep their line: a typo in data.root is not "no stored minute bars"."""
    missing = tmp_path / "no-such-market"
    config_file = str(_config(missing, tmp_path))
    assert main(["paper", "--config", config_file, "--replay", "2025-12-03", "--speed", "0"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"data.root = '{missing}': no such folder" in line
