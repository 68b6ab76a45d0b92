"""The ``maemae`` command. Sub-commands live in one module each; this module wires them and turns every
``MaemaeError`` into its exit code and its message on stderr, each of its lines starting with ``error:`` (a
config file's problems are one line each), and a user error never shows a traceback."""

from __future__ import annotations

import sys

import typer
import typer.main

# typer 0.29 carries its own copy of click (pinned in uv.lock): its usage errors are of these classes
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from maemae.cli.app import app, arguments
from maemae.errors import MaemaeError

__all__ = ["app", "main"]

CTRL_C_EXIT = 130  # typer's exit code for a KeyboardInterrupt, as a shell's for SIGINT


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (usage errors exit 2, ``MaemaeError`` its own code)."""
    arguments.clear()
    arguments.extend(sys.argv[1:] if argv is None else argv)
    try:
        # not standalone: click's usage errors come here, to be one line like every other user error (in
        # standalone mode typer prints them as a framed box of four lines or more); ``typer.Exit(n)`` and
        # Ctrl-C (130) come back as the exit code
        code = app(args=argv, prog_name="maemae", standalone_mode=False)
    except KeyboardInterrupt:  # raised before typer's part (it turns one into exit 130 itself)
        code = CTRL_C_EXIT
    except MaemaeError as error:
        for line in str(error).splitlines() or [""]:  # one problem a line, each of them an error line
            typer.echo(f"error: {line}", err=True)
        return error.exit_code
    except NoArgsIsHelpError as error:  # `maemae data`: typer has printed what it offers, as before
        return error.exit_code
    except ClickException as error:
        typer.echo(f"error: {usage_error(error)}", err=True)
        return error.exit_code
    except typer.Abort:  # end of input at a prompt
        typer.echo("error: aborted: no answer was given", err=True)
        return 1
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        typer.echo(str(done.code), err=True)
        return 1
    if code == CTRL_C_EXIT:  # a Ctrl-C that no command put in its own words (none exits 130 by itself)
        typer.echo(f"error: {_command_path(arguments)} interrupted by Ctrl-C before it finished", err=True)
    return code if isinstance(code, int) else 0


def usage_error(error: ClickException) -> str:
    """A usage error (an unknown option, a missing argument, a value of the wrong type) in one line: the
    command, click's words, and where the right usage is. Click words some of them over several lines."""
    # typer checks an enum's value through pydantic, whose "Value error, " prefix means nothing to a user
    message = " ".join(error.format_message().split()).replace(": Value error, ", ": ")
    context = getattr(error, "ctx", None)
    command = _command_path(arguments) if context is None else context.command_path
    return f"{command}: {message} ({command} --help shows the usage)"


def _command_path(words: list[str]) -> str:
    """The command a command line names (``maemae params set``), for the errors click raises while it reads
    an option, before it has the command's context to name it (an option given no value): the leading words
    that name a group's command, options skipped (no group takes an option with a value)."""
    command = typer.main.get_command(app)
    path = ["maemae"]
    for word in words:
        if word.startswith("-"):
            continue
        if not isinstance(command, TyperGroup) or word not in command.commands:
            break
        command = command.commands[word]
        path.append(word)
    return " ".join(path)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
