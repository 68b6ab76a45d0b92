import json
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.data.sample import SampleSummary


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
