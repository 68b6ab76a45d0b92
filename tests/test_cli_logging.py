"""What a command's logging leaves on the terminal and on disk: each thing the user is told once (the
command's own ``warning:`` or ``error:`` line, not also the console's log line of the same record), the full
record in the log file, and no log folder made by a command refused on its input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from maemae.cli import main
from maemae.cli.named import GO_ON
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from tests.market_config import market_toml
from tests.user_errors import one_error_line

SAFE_ASSET = 'safe_asset_code = "357870"'


def _config(tmp_path: Path, text: str) -> Path:
    """A config in ``tmp_path``, the current folder: its log goes to the default ``var/log`` there."""
    path = tmp_path / "maemae.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _records(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("maemae-*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def test_backtest_when_codes_are_not_stored_then_each_warning_is_said_once_and_logged(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each of these warnings was printed twice: by the console log handler, then as the ``warning:`` line."""
    monkeypatch.chdir(tmp_path)
    stored = str(BarStore(market_root).codes(Timeframe.DAY)[0])
    universe = f'safe_asset_code = "999999"\nselector = "fixed"\ncodes = ["{stored}", "005930"]'
    config = _config(tmp_path, market_toml(market_root, mode="backtest").replace(SAFE_ASSET, universe))
    assert main(["backtest", "--config", str(config), "--out", "out"]) == 0
    terminal = capsys.readouterr().err
    assert terminal.count("005930") == 1, terminal
    assert terminal.count("999999") == 1, terminal
    events = {record["event"]: record for record in _records(tmp_path / "var" / "log")}
    assert events["universe_codes_not_stored"]["codes"] == ["005930"]
    assert events["safe_asset_not_stored"]["safe_asset_code"] == "999999"


def test_paper_when_the_run_stops_on_an_error_then_it_is_said_once_and_logged(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error a run stops on is also an alert, which the log notifier logged as a warning: the console
    printed it above the ``error:`` line, word for word."""
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, market_toml(market_root, mode="paper"))
    nowhere = "http://127.0.0.1:1"  # nothing listens there
    replay = ["--replay", "2025-12-03", "--speed", "0", "--broker", "kis-mock", "--exchange", nowhere]
    assert main(["paper", "--config", str(config), *replay]) == 7
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: kis-mock {nowhere}: cannot connect")
    alerts = [record for record in _records(tmp_path / "var" / "log") if record["event"] == "alert"]
    # the alert is the error itself; the line adds what to do next (a restart goes on from the saved state)
    assert line.endswith(f"; {GO_ON}")
    said = line.removeprefix("error: ").removesuffix(f"; {GO_ON}")
    assert [(alert["kind"], alert["text"]) for alert in alerts] == [("error", said)]


@pytest.mark.parametrize(
    ("universe", "period"),
    [
        ('safe_asset_code = "999999"\nselector = "fixed"\ncodes = ["005930"]', []),  # nothing of it stored
        (SAFE_ASSET, ["--start", "2030-01-02", "--end", "2030-01-31"]),  # no stored day in the period
    ],
    ids=["no-code-stored", "no-day-stored"],
)
def test_backtest_when_refused_after_logging_was_configured_then_no_log_folder_is_left(
    market_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    universe: str,
    period: list[str],
) -> None:
    """Logging was configured, and its folder made, before the run read its market: a refused backtest left
    an empty ``var/log`` behind."""
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, market_toml(market_root, mode="backtest").replace(SAFE_ASSET, universe))
    assert main(["backtest", "--config", str(config), "--out", "out", *period]) == 2
    one_error_line(capsys.readouterr().err)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["maemae.toml"]


def test_logging_when_a_library_logs_an_error_with_a_traceback_then_one_record_and_no_traceback_on_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """websockets logs its failed keep-alive with the exception; with no handler of maemae's, Python's last
    resort printed a ten-line traceback among a run's lines."""
    import logging

    from maemae.config.operations import LoggingConfig
    from maemae.logs import configure_logging

    configure_logging(LoggingConfig(dir=tmp_path / "log", console=False))
    try:
        raise TimeoutError("keepalive ping timeout")
    except TimeoutError:
        logging.getLogger("websockets.client").error("keepalive ping failed", exc_info=True)
    assert capsys.readouterr().err == ""
    (record,) = [r for r in _records(tmp_path / "log") if r.get("event") == "library_log"]
    assert record["library"] == "websockets.client"
    assert record["message"] == "keepalive ping failed"
    assert record["error"] == "TimeoutError('keepalive ping timeout')"
    assert record["level"] == "error"
