"""``maemae data sample`` writes one market into a folder: an existing store is refused unless ``--replace``
(which leaves nothing of the old market), and a file where a folder goes is refused before anything is
written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from maemae.cli import main
from maemae.data.bars import Timeframe
from maemae.data.instruments import Instrument
from maemae.data.sample.catalogue import build_catalogue, is_sample_name
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
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


def test_sample_replace_when_the_store_holds_imported_stocks_refuses_and_leaves_it_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``data import`` writes into the demo's folder when no ``--dir`` is given, and ``make demo`` replaces
    that folder's sample: a store with a stock the sample did not invent is not the sample's to delete."""
    assert sample(tmp_path, "--stocks", "2") == 0
    store = BarStore(tmp_path)
    samsung = Instrument(StockCode("005930"), "삼성전자", Market.KOSPI, InstrumentType.STOCK)
    store.write_instruments([*store.read_instruments().values(), samsung])
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")}
    capsys.readouterr()
    line = refused(sample(tmp_path, "--stocks", "2", "--replace"), capsys)
    assert line == (
        f"error: --dir {tmp_path}: holds stocks the sample did not invent (005930), imported or fetched: "
        "--replace replaces only a sample market; move or remove this store yourself, or pick another --dir"
    )
    assert {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")} == before


def test_sample_names_are_told_from_real_ones() -> None:
    invented = [item.instrument.name for item in build_catalogue(np.random.default_rng(7), 40)]
    assert all(is_sample_name(name) for name in invented)
    assert not [
        name for name in ("삼성전자", "SK하이닉스", "KODEX 200", "샘플", "샘플전자0") if is_sample_name(name)
    ]
