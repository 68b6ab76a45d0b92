import json
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.data.sample import SampleSummary
from tests.user_errors import refused


def test_data_info_when_json_lists_every_series(
    small_market: tuple[Path, SampleSummary], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = small_market
    assert main(["data", "info", "--dir", str(root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 14
    etf = next(row for row in rows if row["code"] == "357870" and row["timeframe"] == "day")
    assert etf["bars"] == 12


def test_data_sample_when_bad_size_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "sample", "--dir", str(tmp_path), "--stocks", "0"]) == 2
    assert "--stocks 0: expected 1..3000" in capsys.readouterr().err


def test_data_sample_when_seed_is_negative_exits_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["data", "sample", "--dir", str(tmp_path / "m"), "--seed", "-1", "--stocks", "2", "--days", "3"]
    )
    assert refused(code, capsys) == "error: --seed -1: expected 0 or more"
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("value", ["", "  "])
@pytest.mark.parametrize(
    "command",
    [["sample", "--stocks", "2", "--days", "3"], ["import", "--csv", "bars.csv"], ["info"]],
    ids=["sample", "import", "info"],
)
def test_data_when_dir_is_empty_refuses_it_rather_than_the_current_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    value: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bars.csv").write_text("code,ts,open,high,low,close,volume\n", encoding="utf-8")
    code = main(["data", *command, "--dir", value])
    assert refused(code, capsys) == f"error: --dir {value!r}: expected a folder path, not an empty value"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bars.csv"]
