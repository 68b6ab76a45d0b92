"""A user's text file (a config file, a CSV of bars or instruments) read as UTF-8, or one line saying why not.

Korean Excel saves a CSV, and Korean Windows editors save text as "ANSI", in CP949 (EUC-KR). Decoded as
UTF-8 it stopped with the codec's words (``'utf-8' codec can't decode byte 0xbf in position 44``), which
name neither the line nor what the file should be. At the package root because the data layer and the
config layer both read such files, and neither may import the other's.
"""

from __future__ import annotations

from pathlib import Path

from maemae.errors import MaemaeError

BOM = "\ufeff"  # Excel's "CSV UTF-8" and Notepad's "UTF-8 with BOM" start with it
ADVICE = (
    "expected UTF-8: a file saved by Korean Excel or a Korean Windows editor is CP949, "
    'save it as UTF-8 ("CSV UTF-8" in Excel) or convert it with iconv -f cp949 -t utf-8'
)


def read_utf8(path: Path, error: type[MaemaeError]) -> str:
    """The text of ``path`` without a leading BOM; ``error`` naming the line of the first byte that is not
    UTF-8 (the header of a CSV is line 1), so the user knows the file's encoding, not a codec's offset, is
    wrong. ``OSError`` is the caller's: a missing file is worded differently for a config and a CSV."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")  # not utf-8-sig: its error positions do not count the BOM
    except UnicodeDecodeError as problem:
        line, byte = data.count(b"\n", 0, problem.start) + 1, data[problem.start]
        raise error(f"{path}: line {line}: not UTF-8 text (byte {byte:#04x}); {ADVICE}") from None
    return text.removeprefix(BOM)
