"""``maemae run``: one trading day of the live loop (paper or live), or a stored day replayed on it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from maemae.cli.app import app
from maemae.cli.dates import option_date
from maemae.cli.named import named_after, told_how_to_go_on
from maemae.cli.paper_cmd import (
    BOOK_EQUAL,
    DEFAULT_KEY_ENV,
    KeyEnvOption,
    end_the_day,
    venue_choice,
)
from maemae.cli.store_option import STORE_ON_THE_CLOCK, StoreOption
from maemae.config import MaemaeConfig, load_config
from maemae.config.root import check_live_broker
from maemae.errors import ConfigError, without_passwords
from maemae.logs import configure_logging

if TYPE_CHECKING:
    from maemae.engine.runtime import RunOptions

_SUPERVISE_HELP = (
    "Run as a child process and restart it when it dies or loses the broker or the store's instance lock."
)


@app.command()
def run(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="The TOML config file (mode paper or live).")
    ],
    replay: Annotated[
        str | None, typer.Option(help="Replay this stored day (YYYY-MM-DD) as live quotes (paper only).")
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            help=(
                "With --replay: the market's pace, times real time (60: a market minute a second; 0: as fast "
                "as it goes)."
            )
        ),
    ] = 0,
    broker: Annotated[str, typer.Option(help="With --replay: sim, kis-mock or creon-fake.")] = "sim",
    exchange: Annotated[
        str | None, typer.Option(help="With --replay: HOST:PORT of `sim serve` or the URL of `kis-mock`.")
    ] = None,
    authkey_env: KeyEnvOption = DEFAULT_KEY_ENV,
    confirm: Annotated[
        bool,
        typer.Option("--confirm", help="Live mode: confirm live trading now instead of at the first order."),
    ] = False,
    supervise: Annotated[bool, typer.Option(help=_SUPERVISE_HELP)] = False,
    store_url: StoreOption = None,
) -> None:
    """Trade today on the clock: wait for the open, run the day (prices every 10 s, the daily strategy every
    minute, the minute strategy every 10 s, reconciliation every minute), save the day after the close."""
    from maemae.engine.runtime import RunOptions, needs_confirmation

    if supervise:
        from maemae.cli.paper_cmd import supervise_this_command

        supervise_this_command()
        return
    day = None
    if replay is not None:
        day = option_date(replay, "--replay")
    elif store_url is not None:
        raise ConfigError(f"--store {without_passwords(store_url)!r}: {STORE_ON_THE_CLOCK}")
    # a replay says its own first
    settings = load_config(config, store_url) if day else _load_for_the_clock(config)
    configure_logging(settings.logging)
    if confirm and not needs_confirmation(settings):  # accepted silently, it read as a live run confirmed
        typer.echo(
            f'warning: --confirm has no effect with mode = "{settings.mode}": only live trading asks for one',
            err=True,
        )
    venue = venue_choice(broker, exchange, authkey_env)
    options = RunOptions(day, speed, venue, confirm, _terminal(), tell=typer.echo)
    with named_after(config), told_how_to_go_on(day is None or venue.outlives_the_run):
        _trade(settings, options)


@app.command()
def live(
    config: Annotated[Path, typer.Option("--config", "-c", help="The TOML config file (mode must be live).")],
    confirm: Annotated[
        bool,
        typer.Option("--confirm", help="Confirm live trading now instead of at the first order."),
    ] = False,
    supervise: Annotated[bool, typer.Option(help=_SUPERVISE_HELP)] = False,
) -> None:
    """Trade the real account today: `maemae run` for a config with mode = "live" (refused otherwise), the
    first order held until a person confirms it (docs/live.md)."""
    from maemae.engine.runtime import RunOptions

    if supervise:
        from maemae.cli.paper_cmd import supervise_this_command

        supervise_this_command()
        return
    settings = _load_for_the_clock(config)
    if settings.mode != "live":
        raise ConfigError(
            f'mode = "{settings.mode}": `maemae live` trades the real account; set mode = "live"'
        )
    configure_logging(settings.logging)
    with named_after(config), told_how_to_go_on():
        _trade(settings, RunOptions(confirmed=confirm, ask=_terminal(), tell=typer.echo))


def _load_for_the_clock(config: Path) -> MaemaeConfig:
    """The config of a day on the clock, refused after the file's name (as ``config check`` refuses it) when
    its mode and broker trade nowhere: live on the simulator or on KIS's paper server."""
    settings = load_config(config)
    try:
        check_live_broker(settings)
    except ConfigError as error:
        raise ConfigError(f"{config}: {error}") from None
    return settings


def _terminal() -> Callable[[str], str] | None:
    """Where a person confirms the first live order: the terminal, when there is one."""
    return _prompt if sys.stdin.isatty() else None


def _prompt(text: str) -> str:
    """A person's answer at the terminal (an empty line asks again). Typer turns both end of input and
    Ctrl-C into ``Abort``; the confirmation tells them apart (a refusal, and a refusal that stops the run as
    Ctrl-C does), so the one that happened is raised again."""
    try:
        return str(typer.prompt(text))
    except typer.Abort as aborted:
        if isinstance(aborted.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise EOFError from None


def _trade(settings: MaemaeConfig, options: RunOptions) -> None:
    from maemae.engine.runtime import run_trading_day

    summary = run_trading_day(settings, options)  # its start's lines were told as they happened
    typer.echo(summary.note)
    if summary.report is not None:
        report = summary.report
        equity = f"{report.equity:,} won" if report.equity is not None else "(not closed)"
        typer.echo(
            f"cycles {report.cycles}, price refreshes {report.refreshes}, minute bars "
            f"{report.completed_bars}, orders {report.orders}, fills {report.fills}; "
            f"equity at the close {equity}"
        )
    if summary.book_checked and not summary.book_differences:
        typer.echo(BOOK_EQUAL.format(other="broker"))
    if summary.report_path is not None:
        typer.echo(f"report: {summary.report_path}")
    end_the_day(summary.book_differences, summary.report_error)
