"""``maemae config ...``: check a config file and show it with every default filled in."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from maemae.cli.app import app
from maemae.config import MaemaeConfig, load_config
from maemae.errors import ConfigError

config_app = typer.Typer(help="Check and explain configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")

FileArgument = Annotated[Path, typer.Argument(help="The TOML config file.")]


def _load_or_exit(file: Path) -> MaemaeConfig:
    """The config, or every problem printed as its own ``error:`` line and the config exit code."""
    try:
        return load_config(file)
    except ConfigError as error:
        for line in str(error).splitlines():
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(error.exit_code) from None


@config_app.command("check")
def check(file: FileArgument) -> None:
    """Validate FILE and its strategies' params: 'ok' and exit 0, or one line per problem on stderr and
    exit 2."""
    from maemae.strategy.loader import load_daily, load_minute

    config = _load_or_exit(file)
    try:  # a strategy's class and params are checked as a run would load them
        if config.strategies.daily:
            load_daily(config.strategies.daily)
        if config.strategies.minute:
            load_minute(config.strategies.minute)
    except ConfigError as error:
        typer.echo(f"error: {file}: {error}", err=True)
        raise typer.Exit(error.exit_code) from None
    strategies = [spec.class_ for spec in (config.strategies.daily, config.strategies.minute) if spec]
    names = ", ".join(strategies) or "none"
    typer.echo(f"ok: {file} (mode={config.mode}, broker={config.broker.kind}, strategies={names})")
    _warn_of_unset_secrets(config)


def _warn_of_unset_secrets(config: MaemaeConfig) -> None:
    """A warning, not an error, when the KIS variables the config names are not set: the file may be checked
    on another machine than the one it trades on, but here `maemae run` and `maemae live` would refuse it."""
    if config.mode == "backtest" or not config.broker.needs_kis_secrets:
        return
    unset = [name for name in config.broker.kis.secret_variables() if not os.environ.get(name, "").strip()]
    if unset:
        typer.echo(
            f"warning: broker.kis: not set in this environment: {', '.join(unset)}; `maemae run` and "
            "`maemae live` read the KIS keys from them where they run (docs/brokers/kis.md)",
            err=True,
        )


@config_app.command("show")
def show(file: FileArgument) -> None:
    """Print FILE as JSON with every default filled in."""
    config = _load_or_exit(file)
    typer.echo(json.dumps(config.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2))
