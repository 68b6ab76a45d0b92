"""A mistyped command line (an unknown option or command, a missing option or argument, a value of the wrong
type) is one ``error:`` line naming the command and where its usage is, exit 2. Typer printed these as a
framed box of four lines or more, the only user errors that broke the one-line rule."""

from __future__ import annotations

import pytest

from maemae.cli import main
from tests.user_errors import refused


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["status", "--config", "a.toml", "--bogus"],
            "error: maemae status: No such option: --bogus (maemae status --help shows the usage)",
        ),
        (
            ["status"],
            "error: maemae status: Missing option '--config' / '-c'. (maemae status --help shows the usage)",
        ),
        (
            ["params", "set", "--config", "a.toml", "risk.stop_loss.pct"],
            "error: maemae params set: Missing argument 'value'. (maemae params set --help shows the usage)",
        ),
        (
            ["paper", "--config", "a.toml", "--speed", "abc"],
            "error: maemae paper: Invalid value for '--speed': Input should be a valid number, unable to "
            "parse string as a number (maemae paper --help shows the usage)",
        ),
        (
            ["data", "import", "--csv", "a.csv", "--timeframe", "hour"],
            "error: maemae data import: Invalid value for '--timeframe': 'hour' is not one of 'day', "
            "'minute'. (maemae data import --help shows the usage)",
        ),
        (
            ["db", "restore"],
            "error: maemae db: No such command 'restore'. (maemae db --help shows the usage)",
        ),
        (
            ["status", "--config", "a.toml", "--day"],
            "error: maemae status: Option '--day' requires an argument. (maemae status --help shows the "
            "usage)",
        ),
        (
            ["backtest", "--config"],
            "error: maemae backtest: Option '--config' requires an argument. (maemae backtest --help shows "
            "the usage)",
        ),
        (
            ["params", "set", "--config"],
            "error: maemae params set: Option '--config' requires an argument. (maemae params set --help "
            "shows the usage)",
        ),
    ],
)
def test_cli_when_the_command_line_is_mistyped_then_one_error_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(main(argv), capsys) == expected


def test_cli_when_a_group_is_given_no_command_then_its_help_on_stdout_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["data"]) == 2
    captured = capsys.readouterr()
    assert captured.out.count("Usage: maemae data") == 1  # once: typer prints it
    assert captured.err == ""


def test_cli_when_asked_for_help_then_prints_it_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """Not standalone, typer hands ``--help``'s exit back as its result: it must stay the exit code."""
    assert main(["--help"]) == 0
    assert "Usage: maemae" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command", [["--help"], ["backtest", "--help"], ["run", "--help"], ["halt", "--help"]]
)
def test_cli_help_shows_no_type_for_a_flag_and_keeps_a_description_whole(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flag takes no value, so no type is shown beside it (``--every-bar <bool>`` read as if it took one),
    and a description runs on as one paragraph rather than breaking where the docstring's line did."""
    monkeypatch.setenv("COLUMNS", "200")
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "<bool>" not in out
    assert "--help " in out
    if command == ["--help"]:
        assert (
            "Kill switch: no new orders and open orders cancelled (or, with --reducing, sells only; a halt "
            "file, if present, still halts: exit 1)." in out
        )
    if command == ["run", "--help"]:
        assert "<float>" in out  # an option that takes a value keeps its type
