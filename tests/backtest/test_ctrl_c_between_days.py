"""Ctrl-C during ``maemae backtest`` is raised between two simulated days, never inside the engine's
compiled loop: raised there, it could abort the process (mypyc's ``fatal: out of memory``, SIGABRT) and leave
its staging folder behind. So a Ctrl-C pressed in the middle of a day lets that day finish, and the run ends
before the next one with the usual line and exit 130; a second Ctrl-C, for a first one that is slow to be
honoured, interrupts at once. A Ctrl-C once the outputs are in place is too late to undo the run: it
completes, exit 0, where it used to exit 130 with every file written and the line saying nothing was."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.market_config import market_toml
from tests.support.stopping import maemae, press, started, wait_until

# a minute strategy that logs the day of every bar it sees and, on the first bar of its third day, says so
# (a file) and waits ``pause`` seconds: a Ctrl-C then arrives in the middle of that day
DIARY = """
import time
from pathlib import Path
from typing import ClassVar
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

class DiaryParams(StrategyParams):
    log: str = ""
    marker: str = ""
    pause: float = 0.0

class Diary(MinuteStrategy):
    name: ClassVar[str] = "diary"
    Params: ClassVar[type[StrategyParams]] = DiaryParams
    days: ClassVar[list[str]] = []

    def on_bar(self, data: MinuteInput) -> None:
        day = data.now.date().isoformat()
        with open(self.params.log, "a", encoding="utf-8") as log:
            log.write(day + "\\n")
        if day not in self.days:
            self.days.append(day)
            if len(self.days) == 3:
                Path(self.params.marker).touch()
                time.sleep(self.params.pause)
        return None
"""

# ``maemae ARGS`` (argv[2:]) whose outputs, once moved into place, are followed by a file (argv[1]) and two
# seconds of work: a Ctrl-C then comes after the point of no return
PUBLISHED = """
import sys, time
from pathlib import Path
import maemae.backtest.service as service

real = service.publish

def published(*args, **kwargs):
    real(*args, **kwargs)
    Path(sys.argv[1]).touch()
    time.sleep(2)

service.publish = published
from maemae.cli import main
sys.exit(main(sys.argv[2:]))
"""

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")


def _diary(market_root: Path, tmp_path: Path, pause: float) -> tuple[list[str], Path, Path, Path]:
    """The command line of an every-bar backtest with the diary strategy, its --out, log and marker."""
    strategy = tmp_path / "diary.py"
    strategy.write_text(DIARY, encoding="utf-8")
    log, marker, out = tmp_path / "days.log", tmp_path / "third-day", tmp_path / "out"
    config = tmp_path / "diary.toml"
    config.write_text(
        market_toml(market_root, mode="backtest")
        + f'\n[strategies.minute]\nclass = "{strategy}:Diary"\n'
        + f'params = {{ log = "{log}", marker = "{marker}", pause = {pause} }}\n',
        encoding="utf-8",
    )
    return maemae("backtest", "--config", str(config), "--out", str(out), "--every-bar"), out, log, marker


def _interrupted_line(out: Path) -> str:
    return (
        f"error: backtest interrupted by Ctrl-C before the end: nothing written; {out} keeps the previous "
        "backtest's outputs, if any, as they were"
    )


def _bars_by_day(log: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for day in log.read_text(encoding="utf-8").split():
        counts[day] = counts.get(day, 0) + 1
    return counts


@posix_only
def test_backtest_when_ctrl_c_mid_day_then_the_day_finishes_and_the_run_stops_before_the_next(
    market_root: Path, tmp_path: Path
) -> None:
    command, out, log, marker = _diary(market_root, tmp_path, pause=1.0)
    with started(command) as child:
        wait_until(child, marker.exists, "the third day")
        _, stderr = press(child)  # during the strategy's pause on the third day's first bar
    assert child.returncode == 130, stderr
    assert stderr.strip() == _interrupted_line(out)
    bars = _bars_by_day(log)
    days = list(bars)
    assert len(days) == 3, bars  # no bar of a fourth day
    assert bars[days[2]] == bars[days[1]], bars  # every bar of the third day, as of the second (every bar)
    assert not out.exists() or not any(out.iterdir())  # no staging folder, no file


@posix_only
def test_backtest_when_the_first_ctrl_c_waits_then_a_second_one_interrupts_at_once(
    market_root: Path, tmp_path: Path
) -> None:
    command, out, _, marker = _diary(market_root, tmp_path, pause=120.0)
    with started(command) as child:
        wait_until(child, marker.exists, "the third day")
        os.killpg(child.pid, signal.SIGINT)  # the first Ctrl-C, the strategy still in its step
        time.sleep(1.0)
        assert child.poll() is None, "the first Ctrl-C interrupted the strategy's step"
        pressed = time.monotonic()
        _, stderr = press(child)
        took = time.monotonic() - pressed
    assert child.returncode == 130, stderr
    assert took < 10, f"the run went on {took:.1f} s after the second Ctrl-C"
    assert stderr.strip() == _interrupted_line(out)
    assert not out.exists() or not any(out.iterdir())


@posix_only
def test_backtest_when_ctrl_c_after_the_outputs_are_in_place_then_it_completes_exit_0(
    market_root: Path, tmp_path: Path
) -> None:
    config = tmp_path / "cfg.toml"
    config.write_text(market_toml(market_root, mode="backtest"), encoding="utf-8")
    marker, out = tmp_path / "published", tmp_path / "out"
    command = [
        sys.executable,
        "-c",
        PUBLISHED,
        str(marker),
        "backtest",
        "--config",
        str(config),
        "--out",
        str(out),
    ]
    with started(command) as child:
        wait_until(child, marker.exists, "the outputs' move into place")
        stdout, stderr = press(child)
    assert child.returncode == 0, stderr
    assert "interrupted" not in stderr
    assert "Traceback" not in stderr
    assert stdout.splitlines()[-1] == f"report: {out / 'report.html'}"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["summary.json", "trades.csv", "orders.csv", "equity.csv", "report.html"]
    )
