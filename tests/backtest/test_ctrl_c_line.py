"""Ctrl-C during ``maemae backtest`` or ``maemae compare`` exits 130 as before, and now says so in one line on
stderr: the run was interrupted and nothing was written, the output folder keeping its previous set as it
was (the outputs are staged and moved into place only once all are written). It used to exit 130 with
nothing on stdout or stderr."""

from __future__ import annotations

import sys
import time
from functools import partial
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from tests.market_config import market_toml
from tests.support.stopping import maemae, press, started, stopped_when, wait_until

# a minute strategy that says when the run has started (a file), then takes its time on every bar: the run
# is still going whenever the test presses Ctrl-C
SLOW = """
import time
from pathlib import Path
from typing import ClassVar
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

class SlowParams(StrategyParams):
    marker: str = ""

class Slow(MinuteStrategy):
    name: ClassVar[str] = "slow"
    Params: ClassVar[type[StrategyParams]] = SlowParams

    def on_bar(self, data: MinuteInput) -> None:
        Path(self.params.marker).touch()
        time.sleep(0.005)
        return None
"""


def _config(market_root: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The config of a slow run and the file its strategy touches once the run has started."""
    strategy = tmp_path / "slow.py"
    strategy.write_text(SLOW, encoding="utf-8")
    marker = tmp_path / "started"
    config = tmp_path / "slow.toml"
    config.write_text(
        market_toml(market_root, mode="backtest")
        + f'\n[strategies.minute]\nclass = "{strategy}:Slow"\nparams = {{ marker = "{marker}" }}\n',
        encoding="utf-8",
    )
    return config, marker


def _interrupted(args: list[str], marker: Path) -> tuple[int, str, str]:
    """Run ``maemae ARGS``, press Ctrl-C once the run has started; its exit code, stdout and stderr."""
    return stopped_when(maemae(*args), marker.exists, "the run's start")


def _only_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_backtest_when_ctrl_c_mid_run_then_one_line_exit_130_and_the_old_outputs_kept(
    market_root: Path, tmp_path: Path
) -> None:
    config, marker = _config(market_root, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"old": true}', encoding="utf-8")  # a previous run's set
    code, stdout, stderr = _interrupted(["backtest", "--config", str(config), "--out", str(out)], marker)
    assert code == 130, stderr
    assert stdout == ""
    assert _only_line(stderr) == (
        f"error: backtest interrupted by Ctrl-C before the end: nothing written; {out} keeps the previous "
        "backtest's outputs, if any, as they were"
    )
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]  # no staging folder, no new file
    assert (out / "summary.json").read_text(encoding="utf-8") == '{"old": true}'


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_compare_when_ctrl_c_mid_run_then_one_line_and_exit_130(market_root: Path, tmp_path: Path) -> None:
    config, marker = _config(market_root, tmp_path)
    out = tmp_path / "out"
    code, stdout, stderr = _interrupted(["compare", "--config", str(config), "--out", str(out)], marker)
    assert code == 130, stderr
    assert "compare.csv" not in stdout
    assert _only_line(stderr) == (
        f"error: compare interrupted by Ctrl-C before the end: nothing written; {out / 'compare'} keeps the "
        "previous comparison, if any, as it was"
    )
    assert not (out / "compare").exists() or not any((out / "compare").iterdir())


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_sweep_when_ctrl_c_mid_sweep_then_one_line_and_exit_130(market_root: Path, tmp_path: Path) -> None:
    from tests.backtest.test_sweep_interrupt import _pool_reached, _sweep_command

    command, out = _sweep_command(market_root, tmp_path)
    with started(command) as child:
        sweep = psutil.Process(child.pid)
        pool = partial(_pool_reached, sweep, "first-worker-forked")
        wait_until(child, pool, "the sweep's pool", timeout=60, every=0.02)
        time.sleep(1.0)  # trials running
        stdout, stderr = press(child)
    assert child.returncode == 130, stderr
    assert stdout == ""
    assert _only_line(stderr) == (
        f"error: sweep interrupted by Ctrl-C before the end: nothing written; {out / 'sweep'} keeps the "
        "previous sweep's outputs, if any, as they were"
    )
