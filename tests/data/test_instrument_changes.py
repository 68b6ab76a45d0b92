"""An instrument list imported again may rename a code, but not move a code with stored bars to another market
or instrument type: its bars were checked against the tick grid of the stored ones. And a row must name its
instrument: an empty name was stored as one."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.cli import main
from maemae.data.store import BarStore
from maemae.domain.enums import InstrumentType, Market
from tests.user_errors import refused

BARS = "code,ts,open,high,low,close,volume\n005930,2025-03-04,70000,70100,69900,70000,1200\n"
SAMSUNG = "code,name,market,instrument_type\n005930,삼성전자,kospi,stock\n"


def import_into(tmp_path: Path, instruments: str, bars: str | None = BARS) -> int:
    """``maemae data import`` of ``instruments`` (and ``bars``, or a file of no rows when None) into
    ``tmp_path/store``."""
    listing = tmp_path / "instruments.csv"
    listing.write_text(instruments, encoding="utf-8")
    csv = tmp_path / "bars.csv"
    csv.write_text(bars or BARS, encoding="utf-8")
    return main(
        ["data", "import", "--csv", str(csv), "--instruments", str(listing), "--dir", str(tmp_path / "store")]
    )


def store_files(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_import_when_an_instrument_row_has_an_empty_name_refuses_it_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = "code,name,market,instrument_type\n005930,삼성전자,kospi,stock\n000660,  ,kospi,stock\n"
    line = refused(import_into(tmp_path, listing), capsys)
    assert line == (
        f"error: {tmp_path / 'instruments.csv'}: line 3: column 'name' is empty: "
        "expected the instrument's name"
    )
    assert not (tmp_path / "store").exists()


def test_import_when_a_code_with_bars_changes_market_or_type_refuses_and_keeps_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert import_into(tmp_path, SAMSUNG) == 0
    before = store_files(tmp_path / "store")
    capsys.readouterr()
    line = refused(
        import_into(tmp_path, "code,name,market,instrument_type\n005930,삼성전자,kosdaq,etf\n"), capsys
    )
    assert line == (
        f"error: {tmp_path / 'instruments.csv'}: line 2: stock code '005930' is stored as a kospi stock with "
        "bars, this line makes it a kosdaq etf: expected its stored market and type (the bars were checked "
        "against their tick grid); to change them, remove the code's bars from the store, then import the "
        "instrument list and the bars again"
    )
    assert store_files(tmp_path / "store") == before
    instrument = BarStore(tmp_path / "store").read_instruments()["005930"]
    assert (instrument.market, instrument.instrument_type) == (Market.KOSPI, InstrumentType.STOCK)


def test_import_when_a_code_is_renamed_or_has_no_bars_yet_takes_the_new_row(tmp_path: Path) -> None:
    listing = SAMSUNG + "069500,KODEX 200,kospi,stock\n"
    assert import_into(tmp_path, listing) == 0  # 069500 listed, no bars of it stored
    again = (
        "code,name,market,instrument_type\n"
        "005930,Samsung Electronics,kospi,stock\n069500,KODEX 200,kospi,etf\n"
    )
    assert import_into(tmp_path, again) == 0
    instruments = BarStore(tmp_path / "store").read_instruments()
    assert instruments["005930"].name == "Samsung Electronics"
    assert instruments["069500"].instrument_type is InstrumentType.ETF
