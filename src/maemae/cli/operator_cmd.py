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
    from maemae.service.control import set_trading_state

    store = open_state_store(load_config(config))
    try:
        set_trading_state(store, state, reason, getpass.getuser(), WallClock().now())
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


params_app = typer.Typer(help="Risk and execution parameters of a running maemae.", no_args_is_help=True)
app.add_typer(params_app, name="params")


@params_app.command("get")
def params_get(
    config: ConfigOption,
    key: Annotated[
        str | None, typer.Argument(help="A dotted key, e.g. risk.stop_loss.pct; none: all.")
    ] = None,
) -> None:
    """Print the parameters in force (the config file with the saved overrides) as JSON."""
    import json

    from maemae.engine.composition import open_state_store
    from maemae.service.control import parameters

    base = load_config(config)
    store = open_state_store(base)
    try:
        shown = parameters(store, base, key)
    finally:
        store.close()
    typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))


@params_app.command("set")
def params_set(
    config: ConfigOption,
    key: Annotated[str, typer.Argument(help="A dotted key under risk or execution.")],
    value: Annotated[str, typer.Argument(help="The new value (JSON for numbers, booleans and lists).")],
) -> None:
    """Validate, save and audit a change; a running maemae applies it before its next step."""
    from maemae.engine.clock import WallClock
    from maemae.engine.composition import open_state_store
    from maemae.service.control import change_parameter

    base = load_config(config)
    store = open_state_store(base)
    try:
        old, new = change_parameter(store, base, key, value, getpass.getuser(), WallClock().now())
    finally:
        store.close()
    typer.echo(f"{key}: {old!r} -> {new!r} (a running maemae applies it before its next step)")
