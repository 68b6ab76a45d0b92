"""One trading run per state store: a second ``maemae paper`` or ``maemae run`` on a store in use is refused
at once (exit 6, one line naming the holder) and writes nothing; read-only commands still work; a holder
killed with SIGKILL leaves the store free. A lock lost while its run goes on (the PostgreSQL session ended,
the SQLite lock file removed or replaced) is found by ``check()``, and the run stops (exit 7) without sending
another order. On SQLite and on PostgreSQL, with real processes."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from maemae.cli import main
from maemae.errors import InstanceLockLost, StoreError
from maemae.store.instance_lock import held_by_a_run, instance_lock, lock_file
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import _wait_for_cursor
from tests.market_config import market_toml
from tests.support.postgres import new_database
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


@pytest.mark.whole_day
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


@pytest.mark.whole_day
def test_two_maemae_runs_when_started_on_one_store_then_the_second_refuses_and_reads_still_work(
    market_root: Path, tmp_path: Path, database_url: str
) -> None:
    config = str(_config(market_root, tmp_path, database_url))
    # a paper run paced at one market minute per real minute: it holds the store for hours
    errors = tmp_path / "first.err"
    with errors.open("w", encoding="utf-8") as stderr:
        paper = ["paper", "--config", config, "--replay", DAY, "--speed", "1"]
        first = subprocess.Popen(
            [sys.executable, "-m", "maemae.cli", *paper], stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        try:
            # its start (imports, the market, the lock, recovery) took over 60 s once in a full parallel run
            _wait_for_cursor(database_url, 1, 120)
        except AssertionError as late:  # say why: a run that ended, or one still starting
            said = errors.read_text(encoding="utf-8")[-2000:]
            raise AssertionError(f"{late}; its exit code {first.poll()}, its stderr: {said!r}") from None
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


# ----- what the operator's commands say about it


def test_halt_and_resume_when_no_run_holds_the_store_then_they_say_it_applies_when_one_starts(
    market_root: Path, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A halt saved while nothing runs stops nothing now: the line says so, and says nothing of the kind while
    a run holds the store (asking leaves the run's lock as it was)."""
    config = str(_config(market_root, tmp_path, database_url))
    assert main(["db", "migrate", "--config", config]) == 0
    later = " (no maemae run holds this store now: it applies when one starts)"
    halted = "trading state set to halted: a running maemae applies it before its next step"
    active = "trading state set to active: a running maemae applies it before its next step"

    def say(*command: str) -> str:
        capsys.readouterr()
        assert main([*command, "--config", config]) == 0
        return capsys.readouterr().out

    assert say("halt") == f"{halted}{later}\n"  # no run ever: no lock file either
    with instance_lock(database_url) as lock:
        assert say("halt") == f"{halted}\n"
        assert say("resume") == f"{active}\n"
        lock.check()  # still held
    assert say("resume") == f"{active}{later}\n"  # the run ended; its lock file stays
    if database_url.startswith("sqlite"):
        assert lock_file(tmp_path / "state.db").exists()


def test_instance_lock_when_an_operator_command_probes_it_that_instant_then_the_run_still_takes_it(
    tmp_path: Path,
) -> None:
    """``held_by_a_run`` holds a shared lock on the SQLite lock file for a moment; a run starting just then
    waits it out instead of refusing the store as "in use" (exit 6)."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    probe = os.open(lock_file(tmp_path / "state.db"), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(probe, fcntl.LOCK_SH)  # the probe, caught between its lock and its unlock
    ended = threading.Timer(0.05, os.close, [probe])
    ended.start()
    try:
        with instance_lock(url):
            assert held_by_a_run(url) is True
    finally:
        ended.join()
    assert held_by_a_run(url) is False


# ----- a lock lost while its run goes on


def _lose_session(url: str, pid: int) -> None:
    """End the PostgreSQL session holding the instance lock of process ``pid``, as a server restart or a
    network cut would (waiting until it has ended)."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        ended = connection.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name LIKE %s",
            (f"maemae pid {pid} on %",),
        ).fetchall()
    assert ended == [(True,)]


def _lose_lock(url: str, pid: int, how: str = "removed") -> None:
    """Take the instance lock away from process ``pid`` while it holds it."""
    path = _sqlite_file(url)
    if path is None:
        _lose_session(url, pid)
    elif how == "removed":
        os.remove(lock_file(path))
    else:
        other = path.with_name("other.lock")
        other.write_text("pid 1 on elsewhere\n", encoding="utf-8")
        os.replace(other, lock_file(path))


def _sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def test_instance_lock_check_when_the_lock_is_held_then_passes(database_url: str) -> None:
    with instance_lock(_with_password(database_url)) as lock:
        lock.check()
        lock.check()
    with instance_lock("sqlite://") as in_memory:  # a database of this process alone: nothing to lose
        in_memory.check()


def test_instance_lock_when_its_session_is_ended_then_check_raises_and_another_run_could_take_it(
    postgres_url: str,
) -> None:
    url = _with_password(new_database(postgres_url))
    with instance_lock(url) as lock:
        lock.check()
        _lose_session(url, os.getpid())
        with pytest.raises(InstanceLockLost) as lost:
            lock.check()
        # why stopping matters: the server freed the lock, and a second run takes it at once
        with instance_lock(url) as second:
            second.check()
        with pytest.raises(InstanceLockLost):  # and the first never counts as holding it again
            lock.check()
    error = lost.value
    assert isinstance(error, StoreError)
    assert error.exit_code == 7
    line = str(error)
    assert "\n" not in line
    assert line.startswith(f"store postgresql+psycopg://maemae:***@{url.split('@', 1)[1]}: ")
    assert "this run lost its instance lock (the check on its database session failed: " in line
    assert "start it again (--supervise does) to recover" in line
    assert PASSWORD not in line


@pytest.mark.parametrize("how", ["removed", "replaced"])
def test_instance_lock_when_its_file_is_removed_or_replaced_then_check_raises(
    tmp_path: Path, how: str
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with instance_lock(url) as lock:
        lock.check()
        _lose_lock(url, os.getpid(), how)
        with pytest.raises(
            InstanceLockLost, match=f"its lock file {tmp_path}/state.db.lock was {how}"
        ) as lost:
            lock.check()
        with instance_lock(url):  # the file no longer the one this process locked: another run gets it
            pass
    assert lost.value.exit_code == 7
    assert str(lost.value).startswith(f"store {url}: this run lost its instance lock (")


class _Watch:
    """Reads the store of a running trading process: where its day stands, and its orders."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)

    def _rows(self, query: str) -> list[tuple[object, ...]]:
        try:
            with self.engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(query))]
        except SQLAlchemyError:  # the run is still creating the database
            return []

    def cursor(self) -> object:
        return self._rows("SELECT data FROM runtime_state WHERE name = 'cursor'")

    def sent(self) -> dict[str, str]:
        """The broker's number of every order that reached the venue."""
        rows = self._rows("SELECT order_id, broker_order_no FROM orders WHERE broker_order_no IS NOT NULL")
        return {str(order): str(number) for order, number in rows}

    def orders(self) -> dict[str, tuple[object, ...]]:
        return {
            str(row[0]): row[1:] for row in self._rows("SELECT order_id, state, broker_order_no FROM orders")
        }

    def wait(self, done: Callable[[], object], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the trading run did not get there in time"
            time.sleep(0.01)


@pytest.mark.whole_day
@pytest.mark.parametrize("command", ["paper", "run"])
def test_trading_run_when_its_lock_is_lost_mid_run_then_exit_7_one_line_and_no_order_after(
    market_root: Path, tmp_path: Path, database_url: str, command: str
) -> None:
    url = _with_password(database_url)
    config = str(_config(market_root, tmp_path, url))
    # paced at two market minutes a second: a step's work takes milliseconds of each half second
    run = subprocess.Popen(
        [sys.executable, "-m", "maemae.cli", command, "--config", config, "--replay", DAY, "--speed", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watch = _Watch(database_url)
    try:
        watch.wait(lambda: watch.sent(), 60)  # it has sent orders
        step = watch.cursor()
        watch.wait(lambda: watch.cursor() != step, 10)  # a step just ended: the run waits for the next one
        _lose_lock(database_url, run.pid)
        sent = watch.sent()
        before = watch.orders()
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(10)
        watch.engine.dispose()
    assert run.returncode == 7, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert [line for line in lines if line.startswith("error:")] == lines[-1:]
    assert lines[-1].startswith("error: store ")
    assert "this run lost its instance lock (" in lines[-1]
    assert PASSWORD not in err
    # nothing reached the venue after the loss; an order the run was about to send stays SUBMITTED with no
    # number, which the next start settles as never sent
    after = watch.orders()
    assert watch.sent() == sent
    for order_id, (state, number) in after.items():
        if order_id not in before:
            assert (state, number) == ("submitted", None)
