"""``maemae halt`` and ``maemae resume``: the kill switch, obeyed by a running engine before its next step."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from maemae.cli.app import app
from maemae.config import load_config
from maemae.risk.state import TradingState

ConfigOption = Annotated[Path, typer.Option("--config", help="The TOML config file; its store.url is used.")]


def _request(config: Path, state: TradingState, reason: str) -> None:
    from maemae.engine.clock import WallClock
    from maemae.engine.composition import open_state_store
    from maemae.engine.operator import request_state

    store = open_state_store(load_config(config))
    try:
        request_state(store, state, reason, getpass.getuser(), WallClock().now())
    finally:
        store.close()


@app.command()
def halt(
    config: ConfigOption,
    reducing: Annotated[
        bool, typer.Option("--reducing", help="Allow sells that reduce positions; refuse only new entries.")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
) -> None:
    """Kill switch: no new orders and open orders cancelled (or, with --reducing, sells only)."""
    state = TradingState.REDUCING if reducing else TradingState.HALTED
    _request(config, state, reason)
    typer.echo(f"trading state set to {state.value}: a running maemae applies it before its next step")


@app.command()
def resume(
    config: ConfigOption,
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
) -> None:
    """Lift a halt set with `maemae halt` (a halt file, if present, still holds)."""
    _request(config, TradingState.ACTIVE, reason)
    typer.echo("trading state set to active: a running maemae applies it before its next step")
