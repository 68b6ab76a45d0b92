"""The ``maemae`` command. Sub-commands live in one module each; this module wires them and turns every
``MaemaeError`` into its exit code and its message on stderr, each of its lines starting with ``error:`` (a
config file's problems are one line each), and a user error never shows a traceback."""

from __future__ import annotations

import sys

import typer

from maemae.cli.app import app, arguments
from maemae.errors import MaemaeError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (usage errors exit 2, ``MaemaeError`` its own code)."""
    arguments.clear()
    arguments.extend(sys.argv[1:] if argv is None else argv)
    try:
        app(args=argv, prog_name="maemae")
    except MaemaeError as error:
        for line in str(error).splitlines() or [""]:  # one problem a line, each of them an error line
            typer.echo(f"error: {line}", err=True)
        return error.exit_code
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        typer.echo(str(done.code), err=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
