"""One trading run per state store: the instance lock ``maemae run`` and ``maemae paper`` hold for the run.

Two runs trading from one store would each send the day's orders (double orders at the broker, a doubled audit
log), and each would "recover" the other's orders as its own. The database's own locks cannot prevent that:
they last one transaction, and both runs commit happily in turn. So a trading run takes this lock before it
reads or writes anything in the store and holds it to the end:

* SQLite: an exclusive, non-blocking ``flock`` on ``<database file>.lock`` beside the database (``msvcrt``
  byte-range locking on Windows, where Creon runs). The file holds the holder's pid and host, for the
  refusal's message; it is left in place when the run ends (removing it would let a third process lock a new
  file while a second still holds the old one).
* PostgreSQL: ``pg_try_advisory_lock`` on a key of maemae's own namespace, on a connection kept open for the
  run (advisory locks are per database: one database, one run). The connection's ``application_name`` names
  the holder's pid and host.

Both are released by the operating system or the server when the process ends in any way, ``kill -9``
included, so a crashed run restarts and recovers (docs/state.md) without anyone removing a stale lock.
Read-only commands (``status``, ``orders``, ``report``, the dashboard's pages) and the operator's commands
(``halt``, ``params set``), which must reach a running instance, do not take it; ``halt`` and ``resume`` only
ask whether a run holds it (:func:`held_by_a_run`), to say when nothing will apply the change yet.

Both can also be lost while the run goes on: the server ends the lock's session (a restart, a network cut,
``pg_terminate_backend``) while the run's other connections reconnect, or someone removes or replaces the lock
file, and a second run locks a new one. So the lock is a handle (:class:`InstanceLock`) whose ``check()`` the
run calls before every order request and once a minute; a lost lock raises ``InstanceLockLost`` (exit 7) and
the run stops. It never takes the lock again by itself: another run may have traded the store meanwhile, and
only a restart's recovery settles that.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.exc import DatabaseError, OperationalError

from maemae.errors import InstanceLockLost, StoreError, without_passwords
from maemae.file_locks import is_locked, try_lock
from maemae.store.database import (
    check_store_folder,
    create_db_engine,
    describe,
    driver_message,
    parse_url,
    sqlite_path,
    translate_error,
)

# The advisory-lock key (PostgreSQL's two-int form): maemae's namespace, then the lock within it. Derived from
# fixed text so that every maemae, of any version, computes the same key; kept below 2**31 because pg_locks
# shows the halves as unsigned oids.
NAMESPACE = zlib.crc32(b"maemae") & 0x7FFF_FFFF
INSTANCE_KEY = 1
_APPLICATION = "maemae "  # application_name prefix of the holding connection
# The row of pg_locks (as ``l``) of the granted instance lock in this database
_GRANTED = (
    "l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid = CAST(:namespace AS oid) AND l.objid = CAST(:key AS oid)"
)
# How long the lock's session may take to answer a check: the server's limit on the query, and the client's
# on unacknowledged data (a cut network leaves no one to say the session is gone; TCP alone waits minutes)
_CHECK_TIMEOUT_MS = 5_000
_UNANSWERED_MS = 10_000
# How long a run that finds the SQLite lock taken waits before it tries once more: an operator's command may
# be holding it for the microseconds of :func:`held_by_a_run`'s probe, and must not make a starting run refuse
_PROBE_GRACE_S = 0.2

Probe = Callable[[], str | None]  # None while the lock is held, else why it is not


class InstanceLock:
    """The instance lock a run holds. ``check()`` raises ``InstanceLockLost`` once the lock is no longer
    held, and at every call after that: the run must stop, not go on or take the lock again."""

    def __init__(self, url: str, probe: Probe | None = None) -> None:
        """``probe`` says whether the lock is still held; without one (an in-memory database, a backend
        that takes no lock) there is nothing to lose."""
        self.url = url
        self._probe = probe
        self.lost: str | None = None  # why the lock was lost, once it was

    def check(self) -> None:
        if self.lost is None and self._probe is not None:
            self.lost = self._probe()
        if self.lost is not None:
            raise InstanceLockLost(
                f"store {describe(self.url)}: this run lost its instance lock ({self.lost}), so another run "
                "could take the store and trade it too: stopped before its next order; start it again "
                "(--supervise does) to recover"
            )


def holder() -> str:
    """Who holds the lock, as the refusal names it."""
    return f"pid {os.getpid()} on {socket.gethostname()}"


@contextmanager
def instance_lock(url: str) -> Iterator[InstanceLock]:
    """Hold the instance lock of the store at ``url`` for the block; refuse at once (``StoreError``, exit 6)
    when another process holds it. A URL of another backend passes through: opening the store refuses it."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    path = sqlite_path(url)
    if backend == "sqlite" and path is not None:
        with _file_lock(url, path) as lock:
            yield lock
    elif backend == "postgresql":
        with _advisory_lock(url) as lock:
            yield lock
    else:  # an in-memory database belongs to this process alone
        yield InstanceLock(url)


def held_by_a_run(url: str) -> bool | None:
    """Whether a trading run holds the instance lock of the store at ``url`` now; None when that cannot be
    told (an in-memory database, a server that does not answer). For the operator's messages only: a run may
    start or end right after.

    It never takes the lock from a run. PostgreSQL's ``pg_locks`` shows the advisory lock without taking it.
    A SQLite lock file has no such view, so the probe takes a shared lock on it (an existing file only: none
    is created) and drops it at once: a run that holds the file keeps it, and a run starting in that instant
    tries again after ``_PROBE_GRACE_S`` instead of refusing.
    """
    backend = parse_url(url).get_backend_name()
    path = sqlite_path(url)
    if backend == "sqlite" and path is not None:
        return _file_held(lock_file(path))
    if backend == "postgresql":
        return _advisory_held(url)
    return None


def _file_held(path: Path) -> bool | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # every run creates it before it locks it
    except OSError:
        return None
    try:
        return is_locked(fd)
    except OSError:
        return None
    finally:
        os.close(fd)


def _advisory_held(url: str) -> bool | None:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text(f"SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE {_GRANTED})"),
                {"namespace": NAMESPACE, "key": INSTANCE_KEY},
            )
            return bool(found.scalar_one())
    except (OperationalError, DatabaseError):
        return None
    finally:
        engine.dispose()


def lock_file(path: Path) -> Path:
    """The lock file of the SQLite database at ``path``."""
    return path.with_name(path.name + ".lock")


def _in_use(url: str, who: str | None) -> StoreError:
    return StoreError(
        f"store {describe(url)} is in use by another maemae run ({who or 'pid unknown'}): "
        "one trading run per store; stop that run or give this one its own store.url"
    )


@contextmanager
def _file_lock(url: str, database: Path) -> Iterator[InstanceLock]:
    check_store_folder(url)
    path = lock_file(database)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise StoreError(
            f"store {describe(url)}: cannot open its lock file {path} ({error.strerror}): "
            "check the path and rights"
        ) from None
    try:
        try:
            taken = try_lock(fd)
            if not taken:  # perhaps held_by_a_run's probe, for a moment
                time.sleep(_PROBE_GRACE_S)
                taken = try_lock(fd)
            if taken:
                _write_holder(fd, holder())
        except OSError as error:
            raise StoreError(
                f"store {describe(url)}: cannot lock its lock file {path} ({error.strerror}): "
                "check the file system (a local disk, not a network share)"
            ) from None
        if not taken:
            raise _in_use(url, _read_holder(fd))
        try:
            yield InstanceLock(url, lambda: _file_changed(fd, path))
        finally:
            with contextlib.suppress(OSError):  # a stale name would only ever be shown while locked
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def _file_changed(fd: int, path: Path) -> str | None:
    """Why the lock file at ``path`` is no longer the file this process locked (open as ``fd``), if it is
    not: a run started now would create and lock a new one."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return f"its lock file {path} was removed"
    except OSError as error:
        return f"its lock file {path} cannot be read ({error.strerror})"
    held = os.fstat(fd)
    if (found.st_dev, found.st_ino) != (held.st_dev, held.st_ino):
        return f"its lock file {path} was replaced by another file"
    return None


def _read_holder(fd: int) -> str | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        found = os.read(fd, 200).decode("utf-8", "replace").strip()
    except OSError:
        return None
    return found if found.startswith("pid ") else None


def _write_holder(fd: int, who: str) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{who}\n".encode())


@contextmanager
def _advisory_lock(url: str) -> Iterator[InstanceLock]:
    engine = create_db_engine(url, connect_args={"tcp_user_timeout": _UNANSWERED_MS})
    try:
        try:
            connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except (OperationalError, DatabaseError) as error:
            raise translate_error(url, error) from None
        try:
            try:
                name = (_APPLICATION + holder())[:63]  # NAMEDATALEN
                connection.execute(
                    text(
                        "SELECT set_config('application_name', :name, false), "
                        "set_config('statement_timeout', :timeout, false)"
                    ),
                    {"name": name, "timeout": str(_CHECK_TIMEOUT_MS)},
                )
                session = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
                taken = connection.execute(
                    text("SELECT pg_try_advisory_lock(:namespace, :key)"),
                    {"namespace": NAMESPACE, "key": INSTANCE_KEY},
                ).scalar_one()
                if not taken:
                    raise _in_use(url, _advisory_holder(connection))
            except (OperationalError, DatabaseError) as error:
                raise translate_error(url, error) from None
            lock = InstanceLock(url, lambda: _session_gone(connection, session))
            try:
                yield lock
            finally:
                # a lost session freed it (and a query on it now would open a new session just to unlock)
                if lock.lost is None:
                    with contextlib.suppress(OperationalError, DatabaseError):
                        connection.execute(
                            text("SELECT pg_advisory_unlock(:namespace, :key)"),
                            {"namespace": NAMESPACE, "key": INSTANCE_KEY},
                        )
        finally:
            with contextlib.suppress(OperationalError, DatabaseError):
                connection.close()
    finally:
        engine.dispose()


def _session_gone(connection: Connection, session: int) -> str | None:
    """Why the session holding the advisory lock is gone, if it is: one round trip on the lock's own
    connection. An advisory lock lives exactly as long as its session, so the session answering with its own
    process id means the lock is still held. SQLAlchemy would quietly open a new session on a connection it
    found broken; that one holds no lock, hence the id. A query that fails or times out could not confirm the
    lock either, and counts as lost: stopping is safe, trading on is not."""
    try:
        answered = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    except (OperationalError, DatabaseError) as error:
        return f"the check on its database session failed: {without_passwords(driver_message(error))}"
    if answered != session:
        return "its database session was replaced"
    return None


def _advisory_holder(connection: Connection) -> str | None:
    """The holder named by the ``application_name`` of the session holding the lock, if visible."""
    name = connection.execute(
        text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE {_GRANTED}"
        ),
        {"namespace": NAMESPACE, "key": INSTANCE_KEY},
    ).scalar()
    if isinstance(name, str) and name.startswith(_APPLICATION):
        return name.removeprefix(_APPLICATION)
    return None
