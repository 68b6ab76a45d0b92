"""The one lookup of stock names (``service.names``): the instrument list's names; none, and nothing made,
without a list; none and one warning for a list that cannot be read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from maemae.data.store import INSTRUMENTS_FILE
from maemae.service.names import name_of, stock_names
from tests.support.named_book import NAMES, SAMSUNG, UNNAMED, write_names


def _names(root: Path) -> tuple[dict[str, str], list[str]]:
    warnings: list[str] = []
    return stock_names(root, warnings.append), warnings


def test_stock_names_when_the_list_is_stored_then_each_code_by_its_name(tmp_path: Path) -> None:
    write_names(tmp_path)
    names, warnings = _names(tmp_path)
    assert names == {str(code): name for code, name in NAMES.items()}
    assert (name_of(names, SAMSUNG), name_of(names, UNNAMED)) == ("삼성전자", "")
    assert warnings == []


def test_stock_names_when_there_is_no_data_root_or_no_list_then_none_and_nothing_made(tmp_path: Path) -> None:
    missing = tmp_path / "no-market"
    assert _names(missing) == ({}, [])
    assert not missing.exists()
    empty = tmp_path / "market"
    empty.mkdir()
    assert _names(empty) == ({}, [])
    assert list(empty.iterdir()) == []


def _not_parquet(path: Path) -> str:
    path.write_bytes(b"code,name\n005930,Samsung\n")
    return "not a readable Parquet file"


def _no_name_column(path: Path) -> str:
    pq.write_table(pa.table({"code": ["005930"]}), path)
    return "no column 'name'"


def _bad_row(path: Path) -> str:
    write_names(path.parent)
    table = pq.read_table(path)
    markets = pa.array(["NYSE"] * table.num_rows)
    pq.write_table(table.set_column(table.schema.get_field_index("market"), "market", markets), path)
    return "bad instrument row"


def _a_folder(path: Path) -> str:
    path.mkdir()
    return str(path)


@pytest.mark.parametrize("breaks", [_not_parquet, _no_name_column, _bad_row, _a_folder])
def test_stock_names_when_the_list_cannot_be_read_then_none_and_one_warning_naming_it(
    tmp_path: Path, breaks: Callable[[Path], str]
) -> None:
    path = tmp_path / INSTRUMENTS_FILE
    said = breaks(path)
    names, warnings = _names(tmp_path)
    assert names == {}
    (warning,) = warnings
    assert warning.startswith("stock names left blank: ")
    assert str(path) in warning
    assert said in warning
