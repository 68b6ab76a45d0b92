"""``maemae halt`` and ``maemae resume``: the kill switch, obeyed by a running engine before its next step.

Like ``maemae status``, these commands and ``params`` open an existing store only: one that created a store
(run from another directory, or with a mistyped ``store.url``) would report a halt that no running instance
will ever read.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic_core import to_jsonable_python

from maemae.cli.app import app
from maemae.cli.store_option import StoreOption
from maemae.config import MaemaeConfig, load_config
from maemae.risk.state import TradingState

if TYPE_CHECKING:
    from maemae.ports.state import StateStore

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The TOML config file; its store.url is used.")
]


@contextmanager
def _existing_store(settings: MaemaeConfig) -> Iterator[StateStore]:
    """The store ``settings`` names, which must exist (see the module's note), closed after use."""
    from maemae.engine.composition import open_existing_state_store

    store = open_existing_state_store(settings)
    try:
        yield store
    finally:
        store.close()


def _request(settings: MaemaeConfig, state: TradingState, reason: str) -> str:
    """Save the wanted state; returns the line that says when it applies (no run holding the store: only
    when one starts, which the operator must know before walking away from a halt)."""
    from maemae.engine.clock import WallClock
    from maemae.service.control import set_trading_state
    from maemae.store.instance_lock import held_by_a_run

    with _existing_store(settings) as store:
        set_trading_state(store, state, reason, getpass.getuser(), WallClock().now())
    line = f"trading state set to {state.value}: a running maemae applies it before its next step"
    if held_by_a_run(settings.store.url) is False:
        line += " (no maemae run holds this store now: it applies when one starts)"
    return line


@app.command()
def halt(
    config: ConfigOption,
    reducing: Annotated[
        bool, typer.Option("--reducing", help="Allow sells that reduce positions; refuse only new entries.")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    store_url: StoreOption = None,
) -> None:
    """Kill switch: no new orders and open orders cancelled (or, with --reducing, sells only; a halt file, if
    present, still halts: exit 1)."""
    state = TradingState.REDUCING if reducing else TradingState.HALTED
    _request_unless_the_file_holds(load_config(config, store_url), state, reason, "halt --reducing")


@app.command()
def resume(
    config: ConfigOption,
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    store_url: StoreOption = None,
) -> None:
    """Lift a halt set with `maemae halt` (a halt file, if present, still holds: exit 1)."""
    _request_unless_the_file_holds(load_config(config, store_url), TradingState.ACTIVE, reason, "resume")


def _request_unless_the_file_holds(
    settings: MaemaeConfig, state: TradingState, reason: str, command: str
) -> None:
    """Save ``state`` and say when it applies; exit 1 when the flag file keeps trading halted all the same."""
    from maemae.engine.operator import HaltFileHolds, check_resumable

    line = _request(settings, state, reason)
    try:
        check_resumable(settings.execution.halt_file, state)  # the file a running engine obeys
    except HaltFileHolds as held:
        # saved all the same, so that deleting the file applies it; but trading stays halted, and a script
        # that runs `maemae resume && ...` must not go on as if it had resumed
        typer.echo(f"error: {command}: trading state set to {state.value}, but {held}", err=True)
        raise typer.Exit(1) from None
    typer.echo(line)


params_app = typer.Typer(help="Risk and execution parameters of a running maemae.", no_args_is_help=True)
app.add_typer(params_app, name="params")


def _json(value: Any, indent: str = "") -> str:
    """``value`` as JSON laid out like ``json.dumps(indent=2)``, with a Decimal written as its own digits.

    ``json`` writes a Decimal only as a float (whose digits may differ) or as a string (``"0.5"``, which reads
    as text to a person and to a script); the parameters are Decimals wherever a per cent or a ratio is.
    """
    if isinstance(value, Decimal):
        return str(value)  # a finite Decimal's text (5, 0.5, 1E-7) is a valid JSON number
    inner = indent + "  "
    if isinstance(value, dict) and value:
        fields = (
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_json(v, inner)}" for k, v in value.items()
        )
        return "{\n" + ",\n".join(fields) + f"\n{indent}}}"
    if isinstance(value, list | tuple) and value:
        items = (inner + _json(item, inner) for item in value)
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(to_jsonable_python(value), ensure_ascii=False)


@params_app.command("get")
def params_get(
    config: ConfigOption,
    key: Annotated[
        str | None, typer.Argument(help="A dotted key, e.g. risk.stop_loss.pct; none: all.")
    ] = None,
    store_url: StoreOption = None,
) -> None:
    """Print the parameters in force (the config file with the saved overrides) as JSON."""
    from maemae.service.control import parameters

    base = load_config(config, store_url)
    with _existing_store(base) as store:
        shown = parameters(store, base, key)
    typer.echo(_json(shown))


@params_app.command("set")
def params_set(
    config: ConfigOption,
    key: Annotated[str, typer.Argument(help="A dotted key under risk or execution.")],
    value: Annotated[str, typer.Argument(help="The new value (JSON for numbers, booleans and lists).")],
    store_url: StoreOption = None,
) -> None:
    """Validate, save and audit a change; a running maemae applies it before its next step."""
    from maemae.engine.clock import WallClock
    from maemae.service.control import change_parameter

    base = load_config(config, store_url)
    with _existing_store(base) as store:
        old, new = change_parameter(store, base, key, value, getpass.getuser(), WallClock().now())
    typer.echo(f"{key}: {_json(old)} -> {_json(new)} (a running maemae applies it before its next step)")


@params_app.command("reset")
def params_reset(
    config: ConfigOption,
    key: Annotated[str, typer.Argument(help="A dotted key that `params set` changed.")],
    store_url: StoreOption = None,
) -> None:
    """Drop a saved change: the config file's value is in force again (audited as a change)."""
    from maemae.engine.clock import WallClock
    from maemae.service.control import reset_parameter

    base = load_config(config, store_url)
    with _existing_store(base) as store:
        old, new = reset_parameter(store, base, key, getpass.getuser(), WallClock().now())
    typer.echo(
        f"{key}: {_json(old)} -> {_json(new)} from the config file (a running maemae applies it before its "
        "next step)"
    )
