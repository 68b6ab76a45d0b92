"""Ctrl-C while ``maemae run --replay`` or ``maemae paper`` loads the market before the day starts, or after
the close while it checks the book and writes the report, is one line saying what it cut short and what is
kept, exit 130, no traceback; and what the line says holds. Only the day's own steps used to say where they
stopped: Ctrl-C before or after them exited 130 without a word."""

from __future__ import annotations

import importlib
import os
import signal
import sys
from pathlib import Path

import pytest

from maemae.cli import main
from tests.engine.test_run import _closed_days, _config
from tests.engine.test_run_stops import CADENCES
from tests.support.stopping import paused_at, stopped_when
from tests.user_errors import one_error_line

DAY = "2025-12-03"
# where each command is when the test presses Ctrl-C: the start's checks (store folder, strategies, report
# folder), once the replayed day's market is read, before the day; and writing the end-of-day report, after
# the close (a Ctrl-C while the market loads is held until it is read: the last test)
BEFORE = {"run": "maemae.engine.runtime:check_the_start", "paper": "maemae.engine.paper:check_the_start"}
REPORTING = {"run": "maemae.engine.runtime:write_day_report", "paper": "maemae.engine.paper:write_day_report"}


def _interrupted(market_root: Path, tmp_path: Path, target: str, command: str) -> tuple[int, str, str, Path]:
    """``maemae COMMAND`` on the replayed day, Ctrl-C pressed once it reaches ``target``; its exit code,
    stdout and stderr, and its config. The log stays off the console: stderr is the command's own."""
    config = _config(market_root, tmp_path, f'{CADENCES}\n[logging]\ndir = "{tmp_path}/log"\nconsole = false')
    marker = tmp_path / "reached"
    replay = [command, "--config", str(config), "--replay", DAY, "--speed", "0"]
    code, out, err = stopped_when(paused_at(target, marker, *replay), marker.exists, f"{command} at {target}")
    return code, out, err, config


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
@pytest.mark.parametrize("command", ["run", "paper"])
def test_replay_when_ctrl_c_before_the_day_then_one_line_and_the_same_command_runs_the_day(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, err, config = _interrupted(market_root, tmp_path, BEFORE[command], command)
    assert code == 130, err
    assert out == ""
    assert one_error_line(err) == (
        f"error: {DAY}: interrupted by Ctrl-C before the day started: nothing traded, nothing half-saved; "
        "start the same command again to run the day"
    )
    assert not (tmp_path / "state.db").exists()
    # as the line says, the same command runs the day (an in-process exchange had nothing to lose yet)
    assert main([command, "--config", str(config), "--replay", DAY, "--speed", "0"]) == 0, capsys.readouterr()
    assert _closed_days(tmp_path) == [DAY]


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
@pytest.mark.parametrize("command", ["run", "paper"])
def test_replay_when_ctrl_c_while_writing_the_report_after_the_close_then_one_line_and_the_day_stays_closed(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, err, config = _interrupted(market_root, tmp_path, REPORTING[command], command)
    assert code == 130, err
    # how the day started was told as it started (the end's lines were cut short)
    assert out.startswith("recovery: 0 orders restored"), out
    assert one_error_line(err) == (
        f"error: {DAY}: the day is closed and saved (the store is consistent; nothing to resume), but Ctrl-C "
        f"cut short the book check and the end-of-day report: `maemae report --config F {DAY}` writes the "
        "report"
    )
    assert _closed_days(tmp_path) == [DAY]
    reports = tmp_path / "reports" / "state"  # the store's own folder, beside state.db
    assert not reports.exists() or not any(reports.iterdir())  # nothing half-written
    # as the line says, `maemae report` writes it
    assert main(["report", "--config", str(config), DAY]) == 0, capsys.readouterr()
    assert (reports / f"{DAY}.html").is_file()


# where the engine's compiled code runs outside the day's own stop handling: a KeyboardInterrupt raised inside
# it could abort the process (maemae.ctrl_c), so a Ctrl-C there is held until the work is done
COMPILED_WORK = {
    ("run", "before"): ("maemae.engine.runtime", "_day_market"),
    ("run", "after"): ("maemae.engine.runtime", "_book_check"),
    ("paper", "before"): ("maemae.engine.paper", "_replay_market"),
    ("paper", "after"): ("maemae.engine.paper", "book_differences"),
}
LINES = {
    "before": f"error: {DAY}: interrupted by Ctrl-C before the day started",
    "after": f"error: {DAY}: the day is closed and saved",
}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT sent to the process itself is POSIX")
@pytest.mark.parametrize(("command", "moment"), sorted(COMPILED_WORK))
def test_replay_when_ctrl_c_comes_during_compiled_work_finishes_it_then_ends_in_one_line(
    market_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    moment: str,
) -> None:
    """Ctrl-C is pressed as the work starts; the work runs to its end (the KeyboardInterrupt is not raised
    inside it), and the run then ends with the usual line for that moment, exit 130."""
    module, name = COMPILED_WORK[(command, moment)]
    owner = importlib.import_module(module)
    real = getattr(owner, name)
    finished: list[bool] = []

    def pressed_at_the_start(*args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), signal.SIGINT)  # handled at once, on this thread
        result = real(*args, **kwargs)
        finished.append(True)
        return result

    monkeypatch.setattr(owner, name, pressed_at_the_start)
    config = _config(market_root, tmp_path, f'{CADENCES}\n[logging]\ndir = "{tmp_path}/log"\nconsole = false')
    code = main([command, "--config", str(config), "--replay", DAY, "--speed", "0"])
    assert code == 130
    assert one_error_line(capsys.readouterr().err).startswith(LINES[moment])
    assert finished == [True]
