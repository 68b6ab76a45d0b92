"""The typer application and its command groups; each group registers itself from its own module."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperOption

from maemae import __version__

# markdown: a docstring's lines are joined into one paragraph as the terminal is wide (the rich mode kept the
# source's line breaks, so descriptions broke mid-sentence), and `code` is shown as code
app = typer.Typer(
    name="maemae",
    help="maemae (매매): automated trading for Korean stocks. Backtest, paper and live on one engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _flags_without_a_type() -> None:
    """Typer 0.29's help shows a flag's type (``--every-bar <bool>``, ``--help <bool>``), which reads as if it
    took a value; a flag takes none, so its type column is left empty, as click's own help does."""
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign,assignment]


_flags_without_a_type()


arguments: list[str] = []  # this invocation's command line (``--supervise`` restarts it without the flag)


@app.command()
def version() -> None:
    """Print the maemae version."""
    typer.echo(__version__)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(__version__)
        raise typer.Exit


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the maemae version and exit."
        ),
    ] = False,
) -> None:
    # the options before a command: ``maemae --version``, as ``maemae version`` (the app's help is its own)
    del show_version


def _register_groups() -> None:
    """Import the command modules for their side effect of adding commands to ``app``."""
    from maemae.cli import (  # noqa: F401
        backtest_cmd,
        config_cmd,
        dashboard_cmd,
        data_cmd,
        db_cmd,
        operator_cmd,
        paper_cmd,
        report_cmd,
        run_cmd,
        status_cmd,
    )


_register_groups()
