"""One trading run per state store: a second ``maemae paper`` or ``maemae run`` on a store in use is refused
at once (exit 6, one line naming the holder) and writes nothing; read-only commands still work; a holder
killed with SIGKILL leaves the store free. On SQLite and on PostgreSQL, with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from maemae.cli import main
from maemae.errors import StoreError
from maemae.store.instance_lock import instance_lock, lock_file
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import _wait_for_cursor
from tests.market_config import market_toml
from tests.user_errors import one_error_line

DAY = "2025-12-03"
PASSWORD = "hunter2-secret"

# a process that holds the lock of the store at argv[1] until it is killed
HOLDER = """
import sys, time
from maemae.store.instance_lock import instance_lock
with instance_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


def _with_password(url: str) -> str:
    """The URL with a password in it (the test server trusts every local connection and ignores it): no
    refusal may print it."""
    return url.replace("maemae@", f"maemae:{PASSWORD}@") if url.startswith("postgresql") else url


def _config(root: Path, directory: Path, url: str) -> Path:
    path = directory / "maemae.toml"
    path.write_text(
        market_toml(root, mode="paper")
        + f"""

[execution]
halt_file = "{directory}/HALT"
price_refresh_s = 60
minute_eval_s = 60
daily_eval_s = 60
reconcile_s = 300

[logging]
dir = "{directory}/logs"

[store]
url = "{url}"
""",
        encoding="utf-8",
    )
    return path


def _tables(url: str) -> list[str]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _counts(url: str) -> tuple[list[str], int]:
    store = SqlStateStore(url, create=False)
    try:
        return store.order_ids(), len(store.audit_entries())
    finally:
        store.close()


def _settled(url: str) -> tuple[list[str], int]:
    """The store's orders and audit length once a paced run has finished writing its step."""
    seen = _counts(url)
    while True:
        time.sleep(0.5)
        now = _counts(url)
        if now == seen:
            return now
        seen = now


def _maemae(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maemae.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_instance_lock_when_held_then_another_taker_is_refused_until_it_is_released(
    database_url: str,
) -> None:
    url = _with_password(database_url)
    with instance_lock(url):
        with pytest.raises(StoreError) as refused, instance_lock(url):
            pass
        line = str(refused.value)
        assert f"is in use by another maemae run (pid {os.getpid()} on " in line
        assert PASSWORD not in line
    with instance_lock(url):  # released at the end of the block
        pass


def test_trading_runs_when_the_store_is_locked_by_another_process_then_refused_and_nothing_written(
    market_root: Path, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _with_password(database_url)
    config = str(_config(market_root, tmp_path, url))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        for command in (["paper", "--speed", "0"], ["run"]):
            assert main([command[0], "--config", config, "--replay", DAY, *command[1:]]) == 6
            line = one_error_line(capsys.readouterr().err)
            assert f"is in use by another maemae run (pid {holder.pid} on " in line, line
            assert PASSWORD not in line
        # refused before the store was opened: no database file, no schema
        if database_url.startswith("sqlite"):
            assert not (tmp_path / "state.db").exists()
        else:
            assert _tables(database_url) == []
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    # the kernel (SQLite's flock) or the server (the advisory lock's session) released it with the process
    assert main(["paper", "--config", config, "--replay", DAY, "--speed", "0"]) == 0
    assert f"paper {DAY}:" in capsys.readouterr().out


def test_two_maemae_runs_when_started_on_one_store_then_the_second_refuses_and_reads_still_work(
    market_root: Path, tmp_path: Path, database_url: str
) -> None:
    config = str(_config(market_root, tmp_path, database_url))
    # a paper run paced at one market minute per real minute: it holds the store for hours
    first = subprocess.Popen(
        [sys.executable, "-m", "maemae.cli", "paper", "--config", config, "--replay", DAY, "--speed", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_cursor(database_url, 1, 60)
        orders_before, audit_before = _settled(database_url)
        for second in (["paper", "--speed", "0"], ["run", "--speed", "0"]):
            done = _maemae(second[0], "--config", config, "--replay", DAY, *second[1:])
            assert done.returncode == 6, done.stderr
            line = one_error_line(done.stderr)
            assert f"is in use by another maemae run (pid {first.pid} on " in line, line
        status = _maemae("status", "--config", config)  # read-only: takes no lock
        assert status.returncode == 0, status.stderr
        # the refused runs wrote nothing (the paced first one waits a minute between two steps)
        assert _counts(database_url) == (orders_before, audit_before)
        assert first.poll() is None  # and the first run goes on
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    with instance_lock(database_url):  # free again: a restart after kill -9 needs nobody to clean up
        pass
    if database_url.startswith("sqlite"):
        assert lock_file(tmp_path / "state.db").exists()  # left in place, by design
