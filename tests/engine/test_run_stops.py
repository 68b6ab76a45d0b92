"""``maemae run --replay`` on a store of another day is refused (its in-process exchange would start empty and
recovery would wipe the holdings); a run stopped by Ctrl-C or SIGTERM before the close is not judged by the
book check, and a restart finishes the day with the book equal."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from datetime import date, time
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.config import load_config
from maemae.engine.composition import open_state_store
from maemae.engine.runtime import RunOptions, going_on
from maemae.engine.stop_signals import stopped_line
from maemae.engine.venues import VenueChoice
from maemae.ports.state import StateChange
from tests.engine.test_paper import KEY, _serve
from tests.engine.test_run import _closed_days, _config, _live_cursor_at
from tests.support.stopping import stopped_when
from tests.user_errors import one_error_line

# one timer a minute: a replayed day in a few seconds
CADENCES = "price_refresh_s = 60\nminute_eval_s = 60\ndaily_eval_s = 60\nreconcile_s = 300"


def _settings(root: Path, directory: Path) -> Path:
    """test_run's config, its log beside its store."""
    return _config(root, directory, f'{CADENCES}\n[logging]\ndir = "{directory}/logs"')


def _store_rows(directory: Path) -> tuple[list[tuple[object, ...]], int, list[tuple[object, ...]]]:
    """Positions, the audit log's length and the account, as the database holds them."""
    with sqlite3.connect(directory / "state.db") as db:
        positions = list(db.execute("select code, owned_quantity, account_quantity from positions"))
        audit = db.execute("select count(*) from audit_log").fetchone()[0]
        account = list(db.execute("select * from account"))
    return sorted(positions), int(audit), account


def _orders_saved(directory: Path) -> int:
    with sqlite3.connect(directory / "state.db") as db:
        return int(db.execute("select count(*) from orders").fetchone()[0])


@pytest.mark.whole_day
@pytest.mark.parametrize(
    ("held", "asked"), [(date(2025, 12, 3), date(2025, 12, 4)), (date(2025, 12, 4), date(2025, 12, 3))]
)
def test_run_replay_when_the_store_holds_another_day_then_refused_and_the_holdings_kept(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], held: date, asked: date
) -> None:
    config = str(_settings(market_root, tmp_path))
    assert main(["run", "--config", config, "--replay", held.isoformat()]) == 0
    capsys.readouterr()
    before = _store_rows(tmp_path)
    assert before[0], "the first day must end holding stock, or there is nothing to wipe"
    assert main(["run", "--config", config, "--replay", asked.isoformat()]) == 6
    line = one_error_line(capsys.readouterr().err)
    assert f"holds the replayed day {held}, whose exchange ran inside that run and is gone" in line
    assert f"replay {asked} with a new store (--store URL" in line
    assert _store_rows(tmp_path) == before  # no holding cut, no reconciliation record, cash as it was
    assert _closed_days(tmp_path) == [held.isoformat()]


def test_run_replay_when_the_store_has_traded_a_later_day_then_refused_with_an_exchange_of_its_own(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an exchange in a process of its own (which outlives a run), an earlier day than the store's is
    refused before the exchange is asked anything: the book is that of a later day."""
    monkeypatch.setenv("MAEMAE_SIM_AUTHKEY", KEY)
    config = _settings(market_root, tmp_path)
    store = open_state_store(load_config(config))
    try:
        cursor = {"driver": "live", "day": "2025-12-04", "at": "2025-12-04T15:31:00+09:00"}
        store.commit(StateChange(runtime={"cursor": cursor}))
    finally:
        store.close()
    before = _store_rows(tmp_path)
    # no exchange listens on port 9: a run that got as far as asking it would end otherwise
    args = ["run", "--config", str(config), "--replay", "2025-12-03", "--exchange", "127.0.0.1:9"]
    assert main(args) == 6
    line = one_error_line(capsys.readouterr().err)
    assert "has traded up to 2025-12-04, a later day than 2025-12-03, and a run cannot go back" in line
    assert _store_rows(tmp_path) == before


def stopped_at(
    args: list[str], url: str, at: time, how: signal.Signals, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """``maemae run`` stopped by ``how`` once its saved cycle has reached ``at`` (market time); its exit code,
    stdout and stderr."""

    def reached() -> bool:
        cursor = _live_cursor_at(url)
        return cursor is not None and cursor.time() >= at

    return stopped_when(args, reached, f"the run's {at}", how, env)


@pytest.mark.whole_day
def test_run_when_ctrl_c_before_the_close_then_exit_130_without_a_book_check_and_a_restart_closes_the_day(
    market_root: Path, tmp_path: Path
) -> None:
    config = _settings(market_root, tmp_path)
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    server, exchange = _serve(config, env)
    url = f"sqlite:///{tmp_path}/state.db"
    args = [sys.executable, "-m", "maemae.cli", "run", "--config", str(config), "--replay", "2025-12-03"]
    args += ["--exchange", exchange]
    try:
        # an accelerated wall clock: the day runs on asyncio, which turns Ctrl-C into a stop
        code, out, err = stopped_at([*args, "--speed", "1500"], url, time(10, 30), signal.SIGINT, env)
        assert code == 130, err
        assert "book difference" not in err
        assert "Traceback" not in err
        stopped = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(stopped) == 1, err
        stop = re.search(
            r"2025-12-03: stopped before the close by SIGINT after (\d+) orders? and (\d+) fills?; ",
            stopped[0],
        )
        assert stop is not None, stopped[0]
        assert (int(stop[1]) > 0) == (_orders_saved(tmp_path) > 0)  # what happened, not 0 for a stopped day
        assert stopped[0].endswith(
            "the state is saved and the book is checked at the close: start the same command again to go on"
        )
        assert "the day is closed" not in out
        assert _closed_days(tmp_path) == []
        second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    finally:
        server.kill()
        server.wait(10)
    assert second.returncode == 0, second.stderr
    assert "2025-12-03: the day is closed" in second.stdout
    assert "book difference" not in second.stderr
    assert _closed_days(tmp_path) == ["2025-12-03"]


def test_run_when_sigterm_before_the_close_then_exit_0_saying_so_without_a_book_check(
    market_root: Path, tmp_path: Path
) -> None:
    config = _settings(market_root, tmp_path)
    url = f"sqlite:///{tmp_path}/state.db"
    args = [sys.executable, "-m", "maemae.cli", "run", "--config", str(config), "--replay", "2025-12-03"]
    # the dashboard's Stop, systemd's stop
    code, out, err = stopped_at([*args, "--speed", "1500"], url, time(10, 30), signal.SIGTERM)
    assert code == 0, err
    assert re.search(
        r"2025-12-03: stopped before the close by SIGTERM after \d+ orders? and \d+ fills?; the state", out
    )
    # its exchange ran inside it: the same command would be refused, so the line says what to do instead
    assert "the state is saved, but the exchange ran inside this process and is gone, so this day" in out
    assert "book difference" not in err
    assert "Traceback" not in err
    assert _closed_days(tmp_path) == []


@pytest.mark.parametrize(
    ("options", "resumable"),
    [
        (RunOptions(), True),  # a day on the clock: the broker keeps its orders and holdings
        (RunOptions(replay=date(2025, 12, 3), venue=VenueChoice(address=("127.0.0.1", 8710))), True),
        (RunOptions(replay=date(2025, 12, 3), venue=VenueChoice(url="http://127.0.0.1:8720")), True),
        (RunOptions(replay=date(2025, 12, 3)), False),  # its exchange was inside the stopped process
    ],
    ids=["on-the-clock", "replay-sim-serve", "replay-kis-mock", "replay-in-process"],
)
def test_stop_line_says_the_same_command_goes_on_unless_the_exchange_was_in_process(
    options: RunOptions, resumable: bool
) -> None:
    ending = going_on(options)
    if resumable:
        assert ending == " and the book is checked at the close: start the same command again to go on"
    else:
        assert ending.startswith(", but the exchange ran inside this process and is gone, so this day cannot")


@pytest.mark.parametrize(
    ("totals", "counts"),
    [
        ((1, 1), "after 1 order and 1 fill;"),
        ((2, 1_500), "after 2 orders and 1,500 fills;"),
        ((0, 0), "after 0 orders and 0 fills;"),
    ],
)
def test_stop_line_when_counts_are_one_or_many_then_each_noun_reads_as_counted(
    totals: tuple[int, int], counts: str
) -> None:
    """``after 1 orders`` read as a slip."""
    line = stopped_line(date(2025, 12, 3), signal.SIGTERM, *totals, ": go on")
    assert line == f"2025-12-03: stopped before the close by SIGTERM {counts} the state is saved: go on"
