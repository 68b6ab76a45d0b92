"""``maemae db backup`` opens an existing store only, as ``status``, ``report`` and ``audit verify`` do: a
store.url that names no file is one line, exit 6, and nothing is made (it used to create an empty store and
back that up). ``--to`` is the user's option, so a folder that is not there, or a file or folder already
there, is bad input: exit 2, naming it, with nothing written or changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.store import database
from tests.user_errors import one_error_line

CONFIG = """mode = "backtest"

[data]
root = "var/demo/market"

[store]
url = "sqlite:///var/fresh.db"
"""


def test_db_backup_when_the_store_does_not_exist_then_refused_like_status_and_nothing_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    config = tmp_path / "maemae.toml"
    config.write_text(CONFIG, encoding="utf-8")
    expected = (
        "error: store.url = sqlite:///var/fresh.db: var/fresh.db does not exist (relative to the current "
        f"folder {tmp_path}): check the path, or run `maemae db migrate`"
    )

    assert main(["status", "--config", str(config)]) == 6
    assert one_error_line(capsys.readouterr().err) == expected

    assert main(["db", "backup", "--config", str(config), "--to", "copy.db"]) == 6
    captured = capsys.readouterr()
    assert one_error_line(captured.err) == expected
    assert captured.out == ""
    assert not (tmp_path / "var" / "fresh.db").exists()
    assert not (tmp_path / "copy.db").exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["maemae.toml", "var"]


def test_db_backup_when_the_url_names_no_file_then_refused_and_nothing_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "missing.db"
    url = f"sqlite:///{store}"
    assert main(["db", "backup", "--url", url, "--to", str(tmp_path / "copy.db")]) == 6
    line = one_error_line(capsys.readouterr().err)
    assert (
        line
        == f"error: store.url = {url}: {store} does not exist: check the path, or run `maemae db migrate`"
    )
    assert list(tmp_path.iterdir()) == []


def test_db_backup_when_the_to_folder_is_missing_then_exit_2_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["db", "migrate", "--url", url]) == 0
    capsys.readouterr()
    target = tmp_path / "missing" / "dir" / "x.db"
    assert main(["db", "backup", "--url", url, "--to", str(target)]) == 2
    captured = capsys.readouterr()
    assert one_error_line(captured.err) == (
        f"error: --to '{target}': directory {target.parent} does not exist: create it first"
    )
    assert captured.out == ""
    assert not (tmp_path / "missing").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("state.db")) == []


def _notes(target: Path) -> None:
    target.write_text("my notes", encoding="utf-8")


def _empty_folder(target: Path) -> None:
    target.mkdir()


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        (
            "notes.txt",
            _notes,
            "already exists: expected the name of a new file (a backup never overwrites one)",
        ),
        ("backups", _empty_folder, "is a folder: expected the name of a new file for the backup"),
    ],
)
def test_db_backup_when_to_exists_then_exit_2_naming_the_option_and_it_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, make: Callable[[Path], None], said: str
) -> None:
    """An existing file was the store's error (exit 6), which points at the database, not at the command
    line."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["db", "migrate", "--url", url]) == 0
    capsys.readouterr()
    target = tmp_path / name
    make(target)
    assert main(["db", "backup", "--url", url, "--to", str(target)]) == 2
    captured = capsys.readouterr()
    assert one_error_line(captured.err) == f"error: --to '{target}': {target} {said}"
    assert captured.out == ""
    if target.is_dir():
        assert list(target.iterdir()) == []
    else:
        assert target.read_text(encoding="utf-8") == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("state.db")) == [name]


def test_db_backup_when_the_store_is_on_an_older_schema_then_still_backed_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The point of a backup: taken before ``maemae db migrate`` brings an older store up to date."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["db", "migrate", "--url", url]) == 0
    old = database.head_revision()
    known = database.known_revisions()
    monkeypatch.setattr(database, "head_revision", lambda: "9999_newer")
    monkeypatch.setattr(database, "known_revisions", lambda: {*known, "9999_newer"})
    capsys.readouterr()
    target = tmp_path / "copy.db"
    assert main(["db", "backup", "--url", url, "--to", str(target)]) == 0, capsys.readouterr()
    assert capsys.readouterr().out.strip() == f"backup written: {target}"
    assert target.exists()
    monkeypatch.undo()
    assert database.head_revision() == old


def test_db_backup_when_the_to_folder_is_a_file_then_exit_2_saying_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["db", "migrate", "--url", url]) == 0
    capsys.readouterr()
    (tmp_path / "afile").write_text("", encoding="utf-8")
    target = tmp_path / "afile" / "copy.db"
    assert main(["db", "backup", "--url", url, "--to", str(target)]) == 2
    assert one_error_line(capsys.readouterr().err) == (
        f"error: --to '{target}': {target.parent} is a file, not a folder: expected a file in a folder"
    )
