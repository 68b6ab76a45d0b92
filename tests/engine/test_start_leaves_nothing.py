"""A paper or replayed run refused at its start leaves nothing behind: a store in a folder that does not
exist is refused rather than the folder made (a mistyped path would start a store nothing else reads), and
a strategy file that cannot be loaded is refused before the store, its lock or the report folder is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.cli import main
from tests.market_config import market_toml
from tests.user_errors import one_error_line

DAY = "2025-12-03"
COMMANDS = [
    ["paper", "--replay", DAY, "--speed", "0"],
    ["run", "--replay", DAY],
]


def _config(directory: Path, text: str) -> str:
    path = directory / "c.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("command", COMMANDS, ids=["paper", "run"])
def test_start_when_the_store_folder_is_missing_then_refused_and_no_folder_made(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    missing = tmp_path / "nofolder" / "sub"
    config = _config(
        tmp_path, market_toml(market_root, mode="paper") + f'\n[store]\nurl = "sqlite:///{missing}/x.db"\n'
    )
    assert main([*command, "--config", config]) == 6
    line = one_error_line(capsys.readouterr().err)
    assert f"directory {missing} does not exist: create it or change store.url" in line
    assert not (tmp_path / "nofolder").exists()


@pytest.mark.parametrize("command", COMMANDS, ids=["paper", "run"])
def test_start_when_the_strategy_file_has_a_syntax_error_then_refused_and_no_store_made(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    strategy = tmp_path / "bad.py"
    strategy.write_text("class Bad(\n", encoding="utf-8")
    text = market_toml(market_root, mode="paper").replace('class = "sma_daily"', f'class = "{strategy}:Bad"')
    config = _config(tmp_path, text + f'\n[store]\nurl = "sqlite:///{tmp_path}/state.db"\n')
    assert main([*command, "--config", config]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"strategies.daily.class = '{strategy}:Bad': {strategy}:1: syntax error" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.py", "c.toml"]
