"""A config file saved as CP949 (EUC-KR, "ANSI" to a Korean Windows editor) is refused in one line naming
the file, the line of the first byte that is not UTF-8 and the encoding expected, by ``config check`` and by
every command given it with ``-c``; it was the codec's words (``can't decode byte 0xbc in position 2``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.cli import main
from tests.user_errors import refused

CONFIG = 'mode = "backtest"\n# 설정: 백테스트\n'
EXPECTED = "expected UTF-8: a file saved by Korean Excel or a Korean Windows editor is CP949"


def cp949_config(tmp_path: Path) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_bytes(CONFIG.encode("cp949"))
    return path


@pytest.mark.parametrize(
    "command",
    [["config", "check"], ["db", "migrate", "-c"]],
    ids=["config check", "db migrate -c"],
)
def test_config_when_cp949_names_the_file_the_line_and_utf8(
    tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the store a config names by default lies under the working folder
    path = cp949_config(tmp_path)
    message = refused(main([*command, str(path)]), capsys)
    assert message.startswith(f"error: {path}: line 2: not UTF-8 text (byte 0x")
    assert EXPECTED in message
    assert message.endswith("convert it with iconv -f cp949 -t utf-8")
    assert "codec" not in message
    assert sorted(tmp_path.iterdir()) == [path]


def test_config_check_when_utf8_with_a_bom_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text(CONFIG, encoding="utf-8-sig")  # Notepad's "UTF-8 with BOM"
    assert main(["config", "check", str(path)]) == 0, capsys.readouterr().err
