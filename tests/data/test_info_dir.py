"""``maemae data info --dir``: a folder that is not there is an error (exit 2), not an empty store."""

from pathlib import Path

import pytest

from maemae.cli import main


@pytest.mark.parametrize("as_json", [[], ["--json"]])
def test_data_info_when_dir_missing_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: list[str]
) -> None:
    missing = tmp_path / "nonexistent"
    assert main(["data", "info", "--dir", str(missing), *as_json]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(
        f"error: --dir {missing}: no such directory (`maemae data sample --dir {missing}`"
    )
    assert captured.err.count("error:") == 1
    assert captured.out == ""


def test_data_info_when_dir_is_a_file_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "bars.csv"
    file.write_text("code\n", encoding="utf-8")
    assert main(["data", "info", "--dir", str(file)]) == 2
    assert capsys.readouterr().err.endswith(f"error: --dir {file}: not a directory\n")


def test_data_info_when_dir_is_empty_says_no_bars_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "info", "--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"no bars stored in {tmp_path}\n"
