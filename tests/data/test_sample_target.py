"""``maemae data sample`` writes one market into a folder: an existing store is refused unless ``--replace``
(which leaves nothing of the old market), and a file where a folder goes is refused before anything is
written."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.cli import main
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from tests.user_errors import refused


def sample(directory: Path, *extra: str) -> int:
    return main(["data", "sample", "--dir", str(directory), "--days", "3", *extra])


def test_sample_when_the_folder_holds_a_store_refuses_and_leaves_it_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sample(tmp_path, "--stocks", "4") == 0
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")}
    capsys.readouterr()
    line = refused(sample(tmp_path, "--stocks", "2", "--seed", "9"), capsys)
    assert line.startswith(f"error: --dir {tmp_path}: already holds a market store")
    assert "pick an empty folder" in line
    assert "--replace" in line
    assert {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")} == before


def test_sample_when_replace_is_given_leaves_nothing_of_the_old_market(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sample(tmp_path, "--stocks", "6") == 0
    old = BarStore(tmp_path)
    old_codes = set(old.codes(Timeframe.DAY))
    (tmp_path / "quality").mkdir()
    (tmp_path / "quality" / "run.json").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert sample(tmp_path, "--stocks", "2", "--seed", "9", "--replace") == 0
    store = BarStore(tmp_path)
    codes = set(store.codes(Timeframe.DAY))
    assert len(codes) == 3  # two stocks and the safe-asset ETF
    assert set(store.codes(Timeframe.MINUTE)) == codes
    assert set(store.read_instruments()) == codes
    assert old_codes - codes  # the old market had codes the new one has not, and they are gone
    assert not (tmp_path / "quality").exists()
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"  # not the store's: kept


def test_sample_when_dir_is_a_file_refuses_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "README.md"
    target.write_text("readme", encoding="utf-8")
    line = refused(sample(target, "--stocks", "2"), capsys)
    assert line == f"error: --dir {target}: {target} is a file, expected a folder: pick another folder"
    line = refused(sample(target / "market", "--stocks", "2"), capsys)
    assert f"{target} is a file, expected a folder" in line


def test_sample_when_a_store_folder_is_a_file_refuses_before_writing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "minute").write_text("", encoding="utf-8")
    line = refused(sample(tmp_path, "--stocks", "2"), capsys)
    assert f"{tmp_path / 'minute'} is a file, expected a folder" in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["minute"]  # no instruments.parquet written
    line = refused(sample(tmp_path, "--stocks", "2", "--replace"), capsys)  # --replace removes no user file
    assert f"{tmp_path / 'minute'} is a file" in line
    assert (tmp_path / "minute").is_file()


def test_sample_help_names_the_fixed_end_not_a_missing_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "sample", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--end" not in text
    assert "2025-12-30" in text
    assert "--replace" in text


def test_sample_when_the_folder_holds_other_files_and_no_store_refuses_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a.csv", "b.csv", "c.csv", "d.csv"):
        (tmp_path / name).write_text("code,ts\n", encoding="utf-8")
    for extra in ((), ("--replace",)):  # nothing to replace: the store would go in among the files
        line = refused(sample(tmp_path, "--stocks", "2", *extra), capsys)
        assert line == (
            f"error: --dir {tmp_path}: holds other files (a.csv, b.csv, c.csv and 1 more) and no market "
            "store: expected an empty or new folder, or a store to replace; pick another folder"
        )
        assert sorted(path.name for path in tmp_path.iterdir()) == ["a.csv", "b.csv", "c.csv", "d.csv"]


def test_sample_when_the_folder_holds_only_parts_of_a_store_writes_there(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()  # the mapped copies of a store whose bars were removed: no other file
    assert sample(tmp_path, "--stocks", "2") == 0
    assert len(BarStore(tmp_path).codes(Timeframe.DAY)) == 3
