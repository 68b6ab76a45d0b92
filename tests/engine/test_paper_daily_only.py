"""``maemae paper --replay`` on a store of daily bars only (``maemae data sample --daily-only``, or a pykrx
import) is refused like ``maemae run --replay``: one line, exit 2, and no state database or report written,
instead of an empty day saved as if it had traded."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.cli import main
from maemae.data.sample import generate_sample_market
from tests.user_errors import refused

DAY = "2025-12-03"
REFUSAL = f"error: --replay {DAY}: no stored minute bars for that trading day"


@pytest.fixture(scope="module")
def daily_only_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real sample market as `maemae data sample --daily-only` writes it: no minute folder at all."""
    root = tmp_path_factory.mktemp("daily-only-market")
    generate_sample_market(root, stocks=4, days=40, seed=21, minutes=False)
    assert not (root / "minute").exists()
    return root


def _config(root: Path, directory: Path) -> Path:
    path = directory / "paper.toml"
    path.write_text(
        f"""
mode = "paper"

[data]
root = "{root}"

[universe]
safe_asset_code = "357870"
max_stocks = 4

[store]
url = "sqlite:///{directory}/state.db"

[report]
dir = "{directory}/reports"

[logging]
dir = "{directory}/log"
console = false

[execution]
halt_file = "{directory}/HALT"
""",
        encoding="utf-8",
    )
    return path


def test_paper_replay_when_store_has_daily_bars_only_refuses_and_writes_nothing(
    daily_only_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(daily_only_root, tmp_path)
    line = refused(main(["paper", "--config", str(config), "--replay", DAY, "--speed", "0"]), capsys)
    assert line == REFUSAL
    assert not (tmp_path / "state.db").exists()
    assert not (tmp_path / "reports").exists()


def test_paper_replay_when_store_has_daily_bars_only_words_it_like_run_replay(
    daily_only_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(daily_only_root, tmp_path))
    paper = refused(main(["paper", "--config", config, "--replay", DAY, "--speed", "0"]), capsys)
    run = refused(main(["run", "--config", config, "--replay", DAY, "--speed", "0"]), capsys)
    assert paper == run == REFUSAL
    assert not (tmp_path / "state.db").exists()


@pytest.mark.parametrize("command", ["run", "paper"])
def test_replay_when_refused_on_daily_bars_only_then_nothing_is_made(
    daily_only_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """The refusal used to leave the log folder behind (both), and the report folder and the store's lock
    file too (``run``, which read the day's market only once it held the store's lock)."""
    config = str(_config(daily_only_root, tmp_path))
    assert refused(main([command, "--config", config, "--replay", DAY, "--speed", "0"]), capsys) == REFUSAL
    assert sorted(path.name for path in tmp_path.iterdir()) == ["paper.toml"]
