"""``maemae run`` tells the terminal how its day starts as it happens: what recovery found, then what the day
trades, with whom, and what it does next. Before, a day on the clock printed nothing until the close, hours
after it was started, and a run stopped on the way printed nothing of its start at all."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from maemae.config import load_config
from maemae.domain.events import FillReceived
from maemae.engine.clock import SimulatedClock
from maemae.engine.persistence import StateRecorder
from maemae.engine.runtime import RunOptions, run_trading_day
from tests.engine.test_run import DAY, kis_paper_server
from tests.engine.test_run_restart_exact import LOGS, _at, _SigtermAt

WATCHED = "(`maemae status` and the dashboard follow the day; Ctrl-C stops it)"


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to itself is POSIX")
def test_run_on_the_clock_when_started_before_the_open_and_again_mid_day_then_each_start_says_so(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock(_at(8, 0))
    _SigtermAt(monkeypatch, _at(11, 0, 30))
    told: list[list[str]] = [[], []]
    with kis_paper_server(market_root, tmp_path, monkeypatch, clock, LOGS.format(tmp_path)) as (config, _):
        first = run_trading_day(load_config(config), RunOptions(clock=clock, tell=told[0].append))
        assert first.note.startswith(f"{DAY}: stopped before the close by SIGTERM"), first.note
        # each line was told before the day ran, not with its end: the first start's before its stop
        assert len(told[0]) == 2
        second = run_trading_day(load_config(config), RunOptions(clock=clock, tell=told[1].append))
    assert second.note == f"{DAY}: the day is closed"
    account = re.escape("KIS paper account ") + r"\S+\*\*\*\*-01"
    assert told[0][0] == (
        "recovery: 0 orders restored, 0 found at the broker, 0 never sent, 0 fills recovered, 0 closed, "
        "0 reconciliation differences"
    )
    assert re.fullmatch(
        rf"{DAY}: 9 stocks \(0 held\) with {account}; waiting for the open at 09:00 KST {re.escape(WATCHED)}",
        told[0][1],
    ), told[0][1]
    # the restart found the first start's orders, and holds what they bought
    restored = re.fullmatch(r"recovery: ([\d,]+) orders? restored, .*", told[1][0])
    assert restored is not None, told[1][0]
    assert int(restored[1].replace(",", "")) > 0, told[1][0]
    started = re.fullmatch(
        rf"{DAY}: (\d+) stocks \((\d+) held\) with {account}; trading until the close at 15:30 KST "
        + re.escape(WATCHED),
        told[1][1],
    )
    assert started is not None, told[1][1]
    assert 0 < int(started[2]) <= int(started[1])
    assert second.recovery is not None
    assert second.recovery.line() == told[1][0]


class _Killed(BaseException):
    """The process dying at once (kill -9): nothing after it runs, nothing more is saved."""


@pytest.mark.whole_day
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to itself is POSIX")
def test_run_on_the_clock_when_killed_after_a_fill_then_the_restart_counts_what_recovery_found_held(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed as the day's first fill came in, before it was saved: the restart recovers the fill from the
    broker, and its start line counts the shares it holds. Before, the line counted the store's positions as
    they were before recovery: ``(0 held)`` while ``maemae positions`` showed a holding."""
    on_fill = StateRecorder._on_fill

    def killed_before_saving(recorder: StateRecorder, event: FillReceived) -> None:
        monkeypatch.setattr(StateRecorder, "_on_fill", on_fill)  # the restart saves its fills
        raise _Killed

    monkeypatch.setattr(StateRecorder, "_on_fill", killed_before_saving)
    clock = SimulatedClock(_at(8, 0))
    told: list[str] = []
    with kis_paper_server(market_root, tmp_path, monkeypatch, clock, LOGS.format(tmp_path)) as (config, _):
        with pytest.raises(_Killed):
            run_trading_day(load_config(config), RunOptions(clock=clock))
        second = run_trading_day(load_config(config), RunOptions(clock=clock, tell=told.append))
    assert second.note == f"{DAY}: the day is closed"
    recovered = re.fullmatch(r"recovery: .*, ([\d,]+) fills? recovered, .*", told[0])
    assert recovered is not None, told[0]
    assert int(recovered[1]) > 0, told[0]
    started = re.fullmatch(r"\S+: (\d+) stocks \((\d+) held\) with .*", told[1])
    assert started is not None, told[1]
    assert int(started[2]) > 0, told[1]
