"""A ``[store] url`` the store cannot open is refused by ``maemae config check`` with one line naming
``store.url``, and never reaches a later command as a SQLAlchemy traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.cli import main
from maemae.config import load_config
from maemae.errors import ConfigError, StoreError
from maemae.store.database import open_database, sqlite_path
from tests.user_errors import refused

BAD_URLS = [
    ("not a url", "expected a SQLAlchemy URL such as sqlite:///var/maemae.db or postgresql://"),
    ("", "expected a SQLAlchemy URL such as"),
    ("postgresql://db.local:fivefour/maemae", "expected a SQLAlchemy URL such as"),  # the port
    ("mysql://db.local/maemae", "expected a sqlite:// or postgresql:// URL, not mysql://"),
    # a run on it would save nothing: a restart could not go on, and two runs would not see each other
    ("sqlite://", "an in-memory database keeps nothing after the command: expected a file"),
    ("sqlite:///:memory:", "an in-memory database keeps nothing after the command"),
    ("sqlite:///file:state?mode=memory&uri=true", "an in-memory database keeps nothing after the command"),
]


def _config(directory: Path, url: str) -> Path:
    path = directory / "cfg.toml"
    path.write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(("url", "expected"), BAD_URLS, ids=[case[0] or "empty" for case in BAD_URLS])
def test_config_check_when_store_url_is_bad_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, expected: str
) -> None:
    path = _config(tmp_path, url)
    line = refused(main(["config", "check", str(path)]), capsys)
    assert line.startswith(f"error: {path}: store.url = {url!r}: "), line
    assert expected in line


@pytest.mark.parametrize("url", ["sqlite:///var/state.db", "postgresql://trader@db.local:5432/maemae"])
def test_config_check_when_store_url_is_good_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    assert main(["config", "check", str(_config(tmp_path, url))]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_load_config_when_store_url_is_bad_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"store\.url = 'not a url': expected a SQLAlchemy URL"):
        load_config(_config(tmp_path, "not a url"))


@pytest.mark.parametrize("command", ["status", "positions", "orders"])
def test_status_commands_when_store_url_is_bad_refuse_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    line = refused(main([command, "--config", str(_config(tmp_path, "not a url"))]), capsys)
    assert "store.url = 'not a url'" in line


def test_paper_when_store_url_is_bad_refuses_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, "not a url")
    line = refused(main(["paper", "--config", str(path), "--replay", "2025-12-03", "--speed", "0"]), capsys)
    assert "store.url = 'not a url'" in line


@pytest.mark.parametrize("url", ["not a url", "postgresql://db.local:fivefour/maemae"])
def test_sqlite_path_when_url_is_unparseable_raises_store_error(url: str) -> None:
    with pytest.raises(StoreError, match=r"store\.url = .*: not a database URL \(expected e\.g\. sqlite:///"):
        sqlite_path(url)


def test_open_database_when_url_is_unparseable_raises_store_error() -> None:
    with pytest.raises(StoreError, match=r"store\.url = 'not a url': not a database URL"):
        open_database("not a url", create=False)


def test_audit_verify_when_url_is_unparseable_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--url", "postgresql://db.local:fivefour/maemae"]) == 6
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.strip() == (
        "error: store.url = 'postgresql://db.local:fivefour/maemae': not a database URL "
        "(expected e.g. sqlite:///var/maemae.db)"
    )


@pytest.mark.parametrize(
    "url", ["postgres://maemae:s3cret@db/maemae", "postgresql://maemae:s3cret@db:54x2/maemae"]
)
def test_config_check_when_a_bad_url_holds_a_password_masks_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    line = refused(main(["config", "check", str(_config(tmp_path, url))]), capsys)
    assert "s3cret" not in line
    assert "maemae:***@db" in line


def test_sqlite_path_when_a_bad_url_holds_a_password_masks_it() -> None:
    with pytest.raises(StoreError) as raised:
        sqlite_path("postgresql://maemae:s3cret@db:54x2/maemae")
    assert "s3cret" not in str(raised.value)
    assert "maemae:***@db" in str(raised.value)


def test_db_migrate_when_url_is_in_memory_then_one_line_and_nothing_claimed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = refused(main(["db", "migrate", "--url", "sqlite://"]), capsys)
    assert line == (
        "error: --url 'sqlite://': an in-memory database keeps nothing after the command: expected a file, "
        "e.g. sqlite:///var/maemae.db"
    )
