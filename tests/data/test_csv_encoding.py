"""``maemae data import``: a bars or instrument CSV saved by Korean Excel is CP949, not UTF-8. It is refused
in one line naming the file, the line of the first byte that is not UTF-8 and the encoding expected (it was
the codec's words, ``'utf-8' codec can't decode byte 0xbf in position 44``), and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.cli import main
from tests.user_errors import refused

BARS = "code,ts,open,high,low,close,volume\n035720,2025-03-04,40000,40100,39900,40000,1200\n"
INSTRUMENTS = "code,name,market,instrument_type\n035720,카카오,kospi,stock\n"
EXPECTED = "expected UTF-8: a file saved by Korean Excel or a Korean Windows editor is CP949"


def write(path: Path, text: str, encoding: str, newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def run(tmp_path: Path, bars: Path, instruments: Path) -> int:
    store = str(tmp_path / "store")
    return main(["data", "import", "--csv", str(bars), "--instruments", str(instruments), "--dir", store])


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_import_when_the_instrument_list_is_cp949_names_its_line_and_utf8(
    tmp_path: Path, newline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = write(tmp_path / "bars.csv", BARS, "utf-8")
    listing = write(tmp_path / "instruments.csv", INSTRUMENTS, "cp949", newline)
    message = refused(run(tmp_path, bars, listing), capsys)
    assert message.startswith(f"error: {listing}: line 2: not UTF-8 text (byte 0xbf); {EXPECTED}")
    assert message.endswith("convert it with iconv -f cp949 -t utf-8")
    assert "codec" not in message
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("종목코드,ts,open,high,low,close,volume\n" + BARS.splitlines()[1] + "\n", 1),
        (BARS + "035720,2025-03-05,40000,40100,39900,40000,1200,카카오\n", 3),
    ],
    ids=["header", "third line"],
)
def test_import_when_the_bars_csv_is_cp949_names_the_line_of_the_first_bad_byte(
    tmp_path: Path, text: str, line: int, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = write(tmp_path / "bars.csv", text, "cp949")
    listing = write(tmp_path / "instruments.csv", INSTRUMENTS, "utf-8")
    message = refused(run(tmp_path, bars, listing), capsys)
    assert message.startswith(f"error: {bars}: line {line}: not UTF-8 text (byte 0x")
    assert EXPECTED in message
    assert not (tmp_path / "store").exists()


def test_import_when_the_bars_csv_is_cp949_leaves_a_store_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = write(tmp_path / "instruments.csv", INSTRUMENTS, "utf-8")
    assert run(tmp_path, write(tmp_path / "bars.csv", BARS, "utf-8"), listing) == 0
    before = {path: path.read_bytes() for path in (tmp_path / "store").rglob("*") if path.is_file()}
    capsys.readouterr()
    more = write(tmp_path / "more.csv", INSTRUMENTS + "005930,삼성전자,kospi,stock\n", "utf-8")
    bars = write(tmp_path / "bars949.csv", BARS + "# 카카오\n", "cp949")
    message = refused(run(tmp_path, bars, more), capsys)
    assert message.startswith(f"error: {bars}: line 3: not UTF-8 text")
    after = {path: path.read_bytes() for path in (tmp_path / "store").rglob("*") if path.is_file()}
    assert after == before


def test_import_when_the_csvs_are_utf8_with_a_bom_reads_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = write(tmp_path / "bars.csv", BARS, "utf-8-sig", "\r\n")
    listing = write(tmp_path / "instruments.csv", INSTRUMENTS, "utf-8-sig", "\r\n")
    assert run(tmp_path, bars, listing) == 0, capsys.readouterr().err


def test_import_when_the_csv_cannot_be_read_then_one_line_names_the_file_and_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No read permission (this test runs as root, whom a file mode does not stop: the operating system's
    refusal is raised in its place) was a traceback."""
    bars = write(tmp_path / "bars.csv", BARS, "utf-8")
    listing = write(tmp_path / "instruments.csv", INSTRUMENTS, "utf-8")
    real = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path == bars:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    message = refused(run(tmp_path, bars, listing), capsys)
    assert message == f"error: {bars}: cannot read the file (Permission denied)"
    assert not (tmp_path / "store").exists()
