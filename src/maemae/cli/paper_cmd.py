"""``maemae paper`` (paper trading over a replayed day) and ``maemae sim serve`` (the simulated exchange in a
process of its own, which outlives a crashed paper run as a real broker would)."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from maemae.cli.app import app, arguments
from maemae.cli.dates import option_date
from maemae.cli.named import named_after, told_how_to_go_on
from maemae.cli.store_option import StoreOption
from maemae.config import load_config
from maemae.errors import ConfigError, MaemaeError
from maemae.logs import configure_logging

if TYPE_CHECKING:
    from maemae.engine.venues import VenueChoice

sim_app = typer.Typer(help="The simulated exchange.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The TOML config file.")]
KeyEnvOption = Annotated[
    str, typer.Option("--authkey-env", help="Environment variable holding the exchange's shared secret.")
]
DEFAULT_KEY_ENV = "MAEMAE_SIM_AUTHKEY"


def _authkey(variable: str) -> bytes:
    value = os.environ.get(variable, "")
    if len(value) < 16:
        raise ConfigError(
            f"--authkey-env {variable}: the variable must hold a secret of at least 16 characters "
            f"(e.g. export {variable}=$(openssl rand -hex 16))"
        )
    return value.encode()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65_536:
        raise ConfigError(f"--exchange {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8710")
    return host, int(port)


@app.command()
def paper(
    config: ConfigOption,
    replay: Annotated[str, typer.Option("--replay", help="The stored trading day to replay (YYYY-MM-DD).")],
    speed: Annotated[
        float,
        typer.Option(
            help="The market's pace, times real time (60: a market minute a second; 0: as fast as it goes)."
        ),
    ] = 60,
    broker: Annotated[
        str,
        typer.Option(
            help="sim: the simulated exchange; kis-mock: the same exchange through the KIS adapter; "
            "creon-fake: through the Creon adapter over the fake COM layer."
        ),
    ] = "sim",
    exchange: Annotated[
        str | None,
        typer.Option(
            help="sim: HOST:PORT of `maemae sim serve`; kis-mock: URL of `maemae kis-mock`. "
            "Default: the venue runs in this process."
        ),
    ] = None,
    authkey_env: KeyEnvOption = DEFAULT_KEY_ENV,
    supervise: Annotated[
        bool,
        typer.Option(
            help="Run as a child process and restart it when it is killed or loses the exchange or the "
            "store's instance lock."
        ),
    ] = False,
    store_url: StoreOption = None,
) -> None:
    """Paper-trade a replayed day on the simulated exchange, every change saved to store.url."""
    from maemae.engine.paper import run_paper_replay
    from maemae.engine.runtime import check_replay_mode

    if supervise:
        supervise_this_command()
        return

    day = option_date(replay, "--replay")
    settings = load_config(config, store_url)
    check_replay_mode(settings)
    configure_logging(settings.logging)
    choice = venue_choice(broker, exchange, authkey_env)
    with named_after(config), told_how_to_go_on(choice.outlives_the_run):
        # where it goes on from and what recovery found are told as the replay starts
        summary = run_paper_replay(settings, day, speed, choice, tell=typer.echo)
    if summary.stopped is not None:  # SIGTERM before the close: a stop that was asked for, not judged
        typer.echo(summary.stopped)
        return
    equity = f"{summary.equity:,} won" if summary.equity is not None else "(the day was already closed)"
    typer.echo(
        f"paper {summary.day}: {summary.orders} orders sent, {summary.denied} denied, {summary.fills} fills; "
        f"equity at the close {equity}"
    )
    if not summary.book_differences:
        typer.echo(BOOK_EQUAL.format(other="venue"))
    if summary.report is not None:
        typer.echo(f"report: {summary.report}")
    end_the_day(summary.book_differences, summary.report_error)


BOOK_EQUAL = "book: maemae's orders, holdings and cash equal the {other}'s"


def end_the_day(book_differences: list[str], report_error: MaemaeError | None) -> None:
    """The book check's differences, then a report that could not be written, each on stderr; the book's
    exit code (8) wins over the report's: a difference needs a person now, a report can be written again
    (``maemae report``)."""
    for line in book_differences:
        typer.echo(f"book difference: {line}", err=True)
    if report_error is not None:
        typer.echo(f"error: {report_error}", err=True)
    if book_differences:
        raise typer.Exit(8)
    if report_error is not None:
        raise typer.Exit(report_error.exit_code)


def _loopback_url(text: str) -> str:
    """A kis-mock URL: the local server only (paper runs never reach a real broker)."""
    if not (text.startswith("http://127.0.0.1:") or text.startswith("http://localhost:")):
        raise ConfigError(
            f"--exchange {text!r}: expected the URL of `maemae kis-mock`, http://127.0.0.1:PORT"
        )
    return text.rstrip("/")


def venue_choice(broker: str, exchange: str | None, authkey_env: str) -> VenueChoice:
    """``--broker`` and ``--exchange`` of a replayed day, checked."""
    from maemae.engine.venues import VenueChoice

    if broker == "sim":
        address = _address(exchange) if exchange else None
        return VenueChoice("sim", address, _authkey(authkey_env) if address else b"")
    if broker == "kis-mock":
        return VenueChoice("kis-mock", url=_loopback_url(exchange) if exchange else None)
    if broker == "creon-fake":
        if exchange:
            raise ConfigError(f"--exchange {exchange!r}: the fake Creon runs inside the paper process only")
        return VenueChoice("creon-fake")
    raise ConfigError(f"--broker {broker!r}: expected sim, kis-mock or creon-fake")


def supervise_this_command() -> None:
    """Run this command (without --supervise) as a child process, restarted when it dies."""
    from maemae.engine.supervisor import Supervisor

    command = [sys.executable, "-m", "maemae.cli", *[a for a in arguments if a != "--supervise"]]
    code = Supervisor(command, lambda line: typer.echo(line)).run()
    if code:
        raise typer.Exit(code)


@sim_app.command("serve")
def serve(
    config: ConfigOption,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one (printed).")] = 8710,
    authkey_env: KeyEnvOption = DEFAULT_KEY_ENV,
) -> None:
    """Run the simulated exchange until stopped; paper runs connect with --exchange HOST:PORT."""
    key = _authkey(authkey_env)  # before the engine is imported: a missing secret is told at once
    settings = load_config(config)
    configure_logging(settings.logging)  # a caller turned away is a warning line, not a silent reset
    from maemae.engine.paper import serve_sim_exchange

    serve_sim_exchange(
        settings,
        (host, port),
        key,
        lambda bound: typer.echo(f"sim exchange listening on {bound[0]}:{bound[1]}", err=False),
    )


@app.command("kis-mock")
def kis_mock(
    config: ConfigOption,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one (printed).")] = 8720,
    real: Annotated[
        bool, typer.Option("--real", help="Answer the real server's tr_ids instead of the paper server's.")
    ] = False,
    replay: Annotated[
        str | None,
        typer.Option(
            help="Move the market by itself through this stored day (YYYY-MM-DD), as a demo exchange."
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            help="With --replay: the market's pace, times real time (60: a market minute a second)."
        ),
    ] = 60,
) -> None:
    """Run the local KIS server (KIS's HTTP and WebSocket protocol over the simulated exchange) until
    stopped; `maemae paper --broker kis-mock --exchange URL` trades with it, and tests use it as a fixture."""
    from maemae.engine.paper import serve_kis_mock

    day = None
    if replay is not None:
        day = option_date(replay, "--replay")
        if not math.isfinite(speed) or speed <= 0:  # the server's replay runs on the clock: 0 is no pace
            raise ConfigError(f"--speed {speed}: expected a positive factor")
    serve_kis_mock(
        load_config(config),
        port,
        paper=not real,
        ready=lambda url: typer.echo(f"kis-mock listening on {url}"),
        replay=day,
        speed=speed,
    )
