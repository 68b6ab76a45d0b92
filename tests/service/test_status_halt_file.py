"""``maemae status`` and the dashboard report a halt by the flag file (``execution.halt_file``), naming it.

The flag file halts a running engine whatever the operator document says; status used to read the document
first and said "active" while every order was denied ``kill_switch``.
"""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime, time
from pathlib import Path

import pytest

from maemae.backtest.service import load_market
from maemae.cli import main
from maemae.config import load_config
from maemae.domain.clock_time import KST
from maemae.domain.order_states import OrderState
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.replay import run_persisted_replay
from maemae.service.dashboard import dashboard_view
from maemae.service.status import status
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import _config
from tests.user_errors import one_error_line

DAY = date(2025, 12, 3)
TOUCH_AT = time(9, 41)


def _config_with_flag(market_root: Path, tmp_path: Path, flag: Path) -> Path:
    path = _config(market_root, tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[execution]\n", f'[execution]\nhalt_file = "{flag}"\n'), encoding="utf-8")
    return path


def test_status_when_the_flag_file_halts_a_run_after_a_resume_then_halted_by_that_file(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flag = tmp_path / "HALT"
    config_file = _config_with_flag(market_root, tmp_path, flag)
    config = load_config(config_file)
    # an earlier `maemae resume` left the operator document saying "active"
    assert main(["db", "migrate", "--config", str(config_file)]) == 0
    assert main(["resume", "--config", str(config_file)]) == 0

    def touch_the_flag(moment: datetime) -> None:  # the replay's pacer: runs between two steps
        if moment.time() >= TOUCH_AT:
            flag.touch()

    market, days = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
    exchange = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
    store = SqlStateStore(config.store.url)
    try:
        outcome = run_persisted_replay(config, market, days, exchange, store, clock, touch_the_flag)
        late = [o for o in outcome.engine.orders.orders.values() if o.created_at.time() > TOUCH_AT]
        assert late
        assert all(o.state is OrderState.DENIED for o in late), "the flag file did not halt the run"
        assert {o.history[-1].note.split(":")[0] for o in late} == {"kill_switch"}
        view = dashboard_view(store, DAY, config, {}).status
    finally:
        store.close()
    assert (view.trading_state, view.trading_state_by) == ("halted", f"file {flag}")

    capsys.readouterr()
    assert main(["status", "--config", str(config_file), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["trading_state"], shown["trading_state_by"]) == ("halted", f"file {flag}")
    assert main(["status", "--config", str(config_file)]) == 0
    assert f"trading_state_by: file {flag}" in capsys.readouterr().out

    flag.unlink()  # the engine's next step lifts the halt: the operator document says active
    assert main(["status", "--config", str(config_file), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["trading_state"], shown["trading_state_by"]) == ("active", None)


def test_status_when_the_configured_flag_file_exists_before_any_run_then_halted_by_it(tmp_path: Path) -> None:
    flag = tmp_path / "HALT"
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        assert (status(store, DAY, halt_file=flag).trading_state, status(store, DAY).trading_state_by) == (
            "active",
            None,
        )
        flag.touch()
        shown = status(store, DAY, halt_file=flag)
    finally:
        store.close()
    assert (shown.trading_state, shown.trading_state_by) == ("halted", f"file {flag}")


def test_status_when_the_operator_halted_then_names_who_and_why(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = str(_config_with_flag(market_root, tmp_path, tmp_path / "HALT"))
    assert main(["db", "migrate", "--config", config_file]) == 0
    assert main(["halt", "--config", config_file, "--reducing", "--reason", "news"]) == 0
    capsys.readouterr()
    assert main(["status", "--config", config_file, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["trading_state"], shown["trading_state_by"]) == (
        "reducing",
        f"operator {getpass.getuser()}: news",
    )


def test_resume_when_the_flag_file_halts_then_exit_1_naming_it_and_deleting_it_resumes(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``resume`` used to print "trading state set to active" (exit 0) while the flag file kept every order
    denied. It still saves the request, so that deleting the file is all that is left to do."""
    flag = tmp_path / "HALT"
    config_file = str(_config_with_flag(market_root, tmp_path, flag))
    assert main(["db", "migrate", "--config", config_file]) == 0
    assert main(["halt", "--config", config_file, "--reason", "news"]) == 0
    flag.touch()
    capsys.readouterr()

    assert main(["resume", "--config", config_file]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_error_line(captured.err) == (
        f"error: resume: trading state set to active, but the flag file {flag} (execution.halt_file) "
        "still halts trading: delete it to resume"
    )
    assert main(["status", "--config", config_file, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["trading_state"], shown["trading_state_by"]) == ("halted", f"file {flag}")

    flag.unlink()
    assert main(["status", "--config", config_file, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["trading_state"], shown["trading_state_by"]) == ("active", None)


def test_halt_reducing_when_the_flag_file_halts_then_exit_1_naming_it_and_deleting_it_allows_sells(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sells only loosens a halt as a resume does: while the flag file exists the engine stays halted, so
    ``halt --reducing`` used to print "trading state set to reducing" (exit 0) and no sell went out."""
    flag = tmp_path / "HALT"
    config_file = str(_config_with_flag(market_root, tmp_path, flag))
    assert main(["db", "migrate", "--config", config_file]) == 0
    flag.touch()
    capsys.readouterr()

    assert main(["halt", "--config", config_file, "--reducing", "--reason", "news"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_error_line(captured.err) == (
        f"error: halt --reducing: trading state set to reducing, but the flag file {flag} "
        "(execution.halt_file) still halts trading: delete it to allow sells"
    )
    assert main(["halt", "--config", config_file, "--reason", "news"]) == 0  # a halt is never refused

    assert main(["halt", "--config", config_file, "--reducing", "--reason", "news"]) == 1
    flag.unlink()
    capsys.readouterr()
    assert main(["status", "--config", config_file, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["trading_state"], shown["trading_state_by"]) == (
        "reducing",
        f"operator {getpass.getuser()}: news",
    )
