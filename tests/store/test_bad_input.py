"""A database maemae cannot use is refused with one line naming the problem and the way out, and is never
overwritten (issue 5, point 6)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.errors import StoreError
from maemae.store.repository import SqlStateStore
from tests.user_errors import one_error_line


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``maemae db migrate --url URL``; assert exit code 6 and one stderr line, return it."""
    code = main(["db", "migrate", "--url", url, *args])
    captured = capsys.readouterr()
    assert code == 6, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: store")
    assert "Traceback" not in captured.err
    return lines[0]


def test_store_when_file_is_not_sqlite_then_refused_and_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is a spreadsheet, not a database\n" * 100)
    before = _digest(path)
    line = _refused(f"sqlite:///{path}", capsys)
    assert "is not a SQLite database" in line
    assert "restore it from a backup" in line
    assert _digest(path) == before


def test_store_when_sqlite_file_is_corrupt_then_refused_and_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.db"
    SqlStateStore(f"sqlite:///{path}").close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the schema page, keep the header
    path.write_bytes(bytes(data))
    before = _digest(path)
    line = _refused(f"sqlite:///{path}", capsys)
    assert "not a usable SQLite database" in line or "malformed" in line
    assert _digest(path) == before


def test_store_when_database_of_another_program_then_refused_and_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
    before = _digest(path)
    line = _refused(f"sqlite:///{path}", capsys)
    assert "not a maemae database (it has tables invoices)" in line
    assert _digest(path) == before


def test_store_when_schema_is_newer_than_this_maemae_then_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.db"
    SqlStateStore(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    before = _digest(path)
    line = _refused(f"sqlite:///{path}", capsys)
    assert "schema revision 9999 is newer than this maemae knows" in line
    assert "upgrade maemae" in line
    assert _digest(path) == before


def test_store_when_directory_missing_then_refused_and_nothing_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    line = _refused(f"sqlite:///{missing}/state.db", capsys)
    assert f"directory {missing} does not exist: create it or change store.url" in line
    assert not missing.exists()


def test_store_when_locked_by_another_process_then_refused_after_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.db"
    SqlStateStore(f"sqlite:///{path}").close()
    monkeypatch.setenv("MAEMAE_DB_BUSY_TIMEOUT_MS", "200")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another process"):
            SqlStateStore(f"sqlite:///{path}")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_audit_verify_when_database_missing_then_refused_and_nothing_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "absent.db"
    assert main(["audit", "verify", "--url", f"sqlite:///{path}"]) == 6
    assert "does not exist" in capsys.readouterr().err
    assert not path.exists()


def test_db_commands_when_url_is_not_a_database_url_then_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "migrate", "--url", "not a url"]) == 6
    assert capsys.readouterr().err.strip() == (
        "error: store.url = 'not a url': not a database URL (expected e.g. sqlite:///var/maemae.db)"
    )


def test_db_migrate_backup_and_audit_verify_on_a_new_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["db", "migrate", "--url", url]) == 0
    assert "schema empty -> 0003" in capsys.readouterr().out
    assert main(["db", "migrate", "--url", url]) == 0
    assert "already at 0003" in capsys.readouterr().out
    assert main(["db", "backup", "--url", url, "--to", str(tmp_path / "copy.db")]) == 0
    assert main(["audit", "verify", "--url", f"sqlite:///{tmp_path / 'copy.db'}"]) == 0
    assert "audit log intact: 0 records" in capsys.readouterr().out
    assert main(["db", "backup", "--url", url, "--to", str(tmp_path / "copy.db")]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.skipif(
    not Path("/proc/self").is_dir(), reason="needs Linux's /proc, a folder that takes no files"
)
def test_db_backup_when_the_folder_takes_no_files_then_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite's "unable to open database file" came out as a traceback; a missing folder or an existing file
    were already one line each."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["db", "migrate", "--url", url]) == 0
    capsys.readouterr()
    assert main(["db", "backup", "--url", url, "--to", "/proc/bk.db"]) == 6
    line = one_error_line(capsys.readouterr().err)
    assert line == (
        "error: backup: /proc/bk.db cannot be created (unable to open database file): choose a folder you "
        "can write to"
    )


@pytest.mark.parametrize("table", ["audit_log", "orders", "live_minute_bars"])
@pytest.mark.parametrize("command", ["status", "audit verify"])
def test_store_commands_when_a_table_was_dropped_then_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, command: str
) -> None:
    """A table dropped by hand (or lost) is named before any command reads the store; ``audit verify`` on a
    store without ``audit_log`` ended with an SQLite traceback."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["db", "migrate", "--url", url]) == 0
    with sqlite3.connect(tmp_path / "state.db") as connection:
        connection.execute(f"DROP TABLE {table}")
    config = tmp_path / "maemae.toml"
    config.write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    capsys.readouterr()
    assert main([*command.split(), "--config", str(config)]) == 6
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: store {url}: table(s) {table} missing from schema 0003: restore the database from a backup"
    ]
