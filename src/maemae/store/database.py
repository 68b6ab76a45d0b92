"""Opening the state database safely: checks first, one clear line when something is wrong, no overwrite.

Before maemae writes anything it makes sure the URL points at *its own* database at a schema it knows:

* a missing directory, a file that is not SQLite, a database of another program, a schema newer than this
  maemae, or one older than it (until ``maemae db migrate`` runs) each stop with a ``StoreError`` naming the
  problem and the way out, and leave the file untouched;
* a new, empty database is created at the newest schema;
* a database locked by another process is reported as such after the busy timeout, not as a traceback.

SQLite runs in WAL mode with ``synchronous=FULL`` and takes the write lock at the start of every transaction
(``BEGIN IMMEDIATE``), so a transaction never fails half-way on a lock and a committed change survives a
crash of the process or of the machine.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from maemae.config.operations import in_memory
from maemae.errors import StoreError, first_line, without_passwords
from maemae.store.schema import SCHEMA_APPLICATION, meta, metadata
from maemae.wording import where_relative

BUSY_TIMEOUT_MS = 5_000


def busy_timeout_ms() -> int:
    """How long to wait for another process's write lock (``MAEMAE_DB_BUSY_TIMEOUT_MS`` overrides)."""
    return int(os.environ.get("MAEMAE_DB_BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS))


_MIGRATIONS = str(Path(__file__).with_name("migrations"))


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", _MIGRATIONS)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def parse_url(url: str) -> URL:
    """``url`` parsed, or one line naming it: SQLAlchemy's own ``ArgumentError`` (or ``ValueError``, for a
    port that is not a number) would reach the user as a traceback."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise StoreError(
            f"store.url = {without_passwords(repr(url))}: not a database URL (expected e.g. sqlite:///var/maemae.db)"
        ) from None


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def sqlite_path(url: str) -> Path | None:
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or in_memory(parsed) or parsed.database is None:
        return None
    return Path(parsed.database)


def check_store_folder(url: str) -> None:
    """Refuse a SQLite file in a folder that does not exist (exit 6) rather than make the folder: a mistyped
    path would start a new store that ``status``, ``halt`` and the dashboard never look at. Runs check it
    before they make any folder of their own (the report folder is made under the store's)."""
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise StoreError(
            f"store.url = {describe(url)}: directory {path.parent} does not exist: create it or change "
            "store.url"
        )


def create_db_engine(url: str, connect_args: dict[str, Any] | None = None) -> Engine:
    """An engine for ``url`` with maemae's connection settings; checks the SQLite file's directory.
    ``connect_args`` go to PostgreSQL's driver as connection parameters."""
    parsed = parse_url(url)
    check_store_folder(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms() / 1000})
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args or {})
    raise StoreError(f"store.url = {describe(url)}: backend {backend!r}, expected sqlite or postgresql")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" below decide how to begin
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def driver_message(error: Exception) -> str:
    """The first line of what the database driver said (SQLAlchemy wraps it in ``orig``)."""
    return first_line(getattr(error, "orig", error))


def translate_error(url: str, error: Exception) -> StoreError:
    """Turn a driver's error into one line that says what is wrong with the database and what to do."""
    text = driver_message(error)
    where = describe(url)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return StoreError(
            f"store {where}: the database is locked by another process (is another maemae running?): "
            "stop it or try again"
        )
    if "not a database" in lowered or "malformed" in lowered or "file is encrypted" in lowered:
        return StoreError(
            f"store {where}: the file is not a usable SQLite database ({text}): "
            "restore it from a backup or point store.url at a new file"
        )
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        return StoreError(
            f"store {where}: cannot open or write the database ({text}): check the path and rights"
        )
    return StoreError(f"store {where}: {text}")


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def check_schema(url: str, connection: Connection, *, allow_older: bool) -> str | None:
    """Check the database is maemae's and at a schema this maemae knows; returns its revision
    (``None`` for an empty database)."""
    tables = set(inspect(connection).get_table_names())
    application = revision = None
    if meta.name in tables:
        application = connection.execute(select(meta.c.value).where(meta.c.key == "application")).scalar()
        revision = current_revision(connection)
    return judge_schema(url, tables, application, revision, allow_older=allow_older)


def judge_schema(
    url: str, tables: set[str], application: str | None, revision: str | None, *, allow_older: bool
) -> str | None:
    """The verdict on what a database holds, whichever way it was read."""
    where = describe(url)
    if not tables:
        return None
    if meta.name not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StoreError(
            f"store {where}: not a maemae database (it has tables {shown}): "
            "point store.url at a new file or an empty database"
        )
    if application != SCHEMA_APPLICATION:
        raise StoreError(f"store {where}: maemae_meta names application {application!r}, not maemae")
    if revision is None:
        raise StoreError(f"store {where}: the schema revision is missing: restore the database from a backup")
    if revision not in known_revisions():
        raise StoreError(
            f"store {where}: schema revision {revision} is newer than this maemae knows "
            f"(newest known: {head_revision()}): upgrade maemae"
        )
    if revision != head_revision() and not allow_older:
        raise StoreError(
            f"store {where}: schema revision {revision} is older than this maemae's {head_revision()}: "
            "back it up with `maemae db backup`, then run `maemae db migrate`"
        )
    missing = sorted(set(metadata.tables) - tables) if revision == head_revision() else []
    if missing:  # dropped by hand or lost: a command would fail on it half-way, with a traceback
        raise StoreError(
            f"store {where}: table(s) {', '.join(missing)} missing from schema {revision}: "
            "restore the database from a backup"
        )
    return revision


@contextmanager
def checked_connection(url: str, *, allow_older: bool) -> Iterator[tuple[Engine, Connection, str | None]]:
    """A transaction on the database at ``url`` after every check above; yields the engine, the connection
    and the schema revision (None: empty). The engine is disposed of when the block fails."""
    engine = create_db_engine(url)
    path = sqlite_path(url)
    try:
        if path is not None and path.exists():
            _check_sqlite_file(url, path, allow_older=allow_older)
        with engine.begin() as connection:
            yield engine, connection, check_schema(url, connection, allow_older=allow_older)
    except (OperationalError, DatabaseError) as error:
        engine.dispose()
        raise translate_error(url, error) from None
    except BaseException:
        engine.dispose()
        raise


def open_database(url: str, *, create: bool = True, allow_older: bool = False) -> Engine:
    """Open (and, if empty and ``create``, initialise) the state database after every check above."""
    path = sqlite_path(url)
    if path is not None and not create and not path.exists():
        raise StoreError(
            f"store.url = {url}: {path} does not exist{where_relative(path)}: check the path, or run "
            "`maemae db migrate`"
        )
    with checked_connection(url, allow_older=allow_older) as (engine, connection, revision):
        if revision is None:
            if not create:
                raise StoreError(f"store {describe(url)}: the database is empty: run `maemae db migrate`")
            _upgrade(connection)
    return engine


def migrate(url: str) -> tuple[str | None, str]:
    """Bring the database to the newest schema; returns (revision before, revision after)."""
    with checked_connection(url, allow_older=True) as (engine, connection, before):
        _upgrade(connection)
        after = current_revision(connection)
    engine.dispose()
    assert after is not None
    return before, after


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def _check_sqlite_file(url: str, path: Path, *, allow_older: bool) -> None:
    """Judge an existing SQLite file read-only, before the engine opens it: opening it sets WAL mode,
    which already writes to the file, and a file that is not maemae's must stay exactly as it was."""
    if path.is_dir():
        raise StoreError(f"store.url = {url}: {path} is a directory, expected a database file")
    if path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise StoreError(
            f"store {describe(url)}: {path} is not a SQLite database: "
            "restore it from a backup or point store.url at a new file"
        )
    try:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            application = revision = None
            if meta.name in tables:
                found = probe.execute("SELECT value FROM maemae_meta WHERE key = 'application'").fetchone()
                application = found[0] if found else None
                if "alembic_version" in tables:
                    version = probe.execute("SELECT version_num FROM alembic_version").fetchone()
                    revision = version[0] if version else None
        finally:
            probe.close()
    except sqlite3.DatabaseError as error:
        raise translate_error(url, error) from None
    judge_schema(url, tables, application, revision, allow_older=allow_older)
