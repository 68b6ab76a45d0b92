"""The confirmation of the first live order, as ``maemae live`` runs it on the local KIS server (real mode):
every refusal closes the order as rejected with the reason, sends nothing, and ends the run with one line.

The reviewer's failures: Ctrl-C at the prompt did nothing (the run's own SIGINT handler only noted it while
the prompt blocked the loop) and left the order submitted; end of input exited 1 ("unexpected internal
error") with the order submitted; a refused first order was stored, but before the day's first cycle saved
its cursor, so ``maemae orders`` looked at the wall clock's day and printed ``orders: none``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from maemae.brokers.kis.mock.app import MockSettings
from maemae.cli import main
from maemae.cli.run_cmd import _prompt
from maemae.engine.clock import SimulatedClock
from maemae.engine.confirmation import Ask
from tests.engine import test_run
from tests.engine.test_run import kis_paper_server
from tests.engine.test_run_restart_exact import LOGS, _at
from tests.user_errors import one_error_line


def _wrong(prompt: str) -> str:
    return "12345678"


def _end_of_input(prompt: str) -> str:
    raise EOFError


def _ctrl_c(prompt: str) -> str:
    raise KeyboardInterrupt


# Ctrl-C is the operator's stop, alerted as a halt is (it was an ``error`` alert, read as a fault); a refusal
# that ends the run with exit 3 stays the run's error
STOP = ("halt", "run stopped", "by the operator (Ctrl-C): the first live order was not confirmed; live ")
FAILED = ("error", "OrderNotSent", "live order buy ")


@pytest.mark.parametrize(
    ("ask", "code", "why", "alert"),
    [
        (_wrong, 3, "the confirmation did not match the account number", FAILED),
        (_end_of_input, 3, "no answer was given at the confirmation (end of input)", FAILED),
        (_ctrl_c, 130, "refused by Ctrl-C at the confirmation; the run stopped with its state saved", STOP),
        (None, 3, "a live run needs --confirm or a terminal to confirm its first order", FAILED),
    ],
    ids=["wrong answer", "end of input", "ctrl-c", "no terminal"],
)
def test_live_run_when_the_first_order_is_refused_then_one_line_nothing_sent_and_the_order_rejected(
    market_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ask: Ask | None,
    code: int,
    why: str,
    alert: tuple[str, str, str],
) -> None:
    clock = SimulatedClock(_at(8, 0))
    monkeypatch.setattr(test_run, "MockSettings", functools.partial(MockSettings, paper=False))
    monkeypatch.setattr("maemae.engine.runtime.WallClock", lambda: clock)  # `maemae live` on the stored day
    monkeypatch.setattr("maemae.cli.run_cmd._terminal", lambda: ask)
    with kis_paper_server(market_root, tmp_path, monkeypatch, clock, LOGS.format(tmp_path)) as (path, server):
        text = path.read_text(encoding="utf-8").replace('mode = "paper"', 'mode = "live"')
        path.write_text(text.replace("[broker.kis]\n", "[broker.kis]\npaper = false\n"), encoding="utf-8")
        capsys.readouterr()
        assert main(["live", "--config", str(path)]) == code
        line = one_error_line(capsys.readouterr().err)
        assert not [call for call in server.state.stats if "order" in call and "inquire" not in call]
    assert line.startswith("error: live order buy ")
    assert why in line
    later = SimulatedClock(_at(20, 0).replace(year=2030))
    monkeypatch.setattr("maemae.engine.clock.WallClock", lambda: later)
    assert main(["orders", "--config", str(path), "--json"]) == 0  # the day the run was on, not the wall's
    (order,) = json.loads(capsys.readouterr().out)
    assert order["state"] == "rejected"
    assert why in order["last_note"]
    logged = "".join(p.read_text(encoding="utf-8") for p in sorted((tmp_path / "logs").glob("*.jsonl")))
    stop = [json.loads(entry) for entry in logged.splitlines() if why in entry and '"alert"' in entry]
    assert [(a["kind"], a["title"], a["text"][: len(alert[2])]) for a in stop] == [alert]


@pytest.mark.parametrize("pressed", [KeyboardInterrupt, EOFError])
def test_terminal_prompt_when_typer_aborts_then_what_the_person_did_is_raised_again(
    monkeypatch: pytest.MonkeyPatch, pressed: type[BaseException]
) -> None:
    """Typer turns Ctrl-C and end of input alike into ``Abort`` (the CLI printed "aborted", exit 1): the
    confirmation needs to tell a refusal from a refusal that stops the run as Ctrl-C does."""

    def key(text: str) -> str:
        raise pressed

    monkeypatch.setattr("typer._click.termui.visible_prompt_func", key)
    with pytest.raises(pressed):
        _prompt("Type the account number")
