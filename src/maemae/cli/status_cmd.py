"""``maemae status``, ``positions`` and ``orders``: what a maemae instance saved, as tables or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from maemae.cli.app import app
from maemae.config import load_config
from maemae.errors import ConfigError

ConfigOption = Annotated[Path, typer.Option("--config", help="The TOML config file; its store.url is read.")]
DayOption = Annotated[
    str | None, typer.Option("--day", help="Trading day (YYYY-MM-DD); default: the day the instance is on.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _read(config: Path, day_text: str | None, read: Any) -> Any:
    from maemae.engine.clock import WallClock
    from maemae.engine.composition import open_existing_state_store
    from maemae.service.status import instance_day

    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        raise ConfigError(f"--day {day_text!r}: expected a date as YYYY-MM-DD") from None
    store = open_existing_state_store(load_config(config))
    try:
        return read(store, day or instance_day(store, WallClock().now().date()))
    finally:
        store.close()


# Columns an operator searches the logs for or reads against a broker's screen: shown whole, never wrapped or
# cut to ``287…``, however narrow the terminal (a pipe gets 80 columns).
WHOLE_COLUMNS = frozenset({"code", "order_id"})


def _table(title: str, rows: list[Any], console: Console | None = None) -> None:
    console = console or Console()
    if not rows:
        console.print(f"{title}: none")
        return
    cells = [
        ["" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in asdict(row).values()]
        for row in rows
    ]
    table = Table(title=title)
    for index, column in enumerate(asdict(rows[0])):
        if column in WHOLE_COLUMNS:
            # no_wrap alone still lets rich shrink the column as a last resort; min_width stops that, so the
            # other (folding) columns give up the room instead
            widest = max(len(column), *(len(row[index]) for row in cells))
            table.add_column(column, no_wrap=True, min_width=widest)
        else:
            table.add_column(column, overflow="fold")  # wrapped rather than cut: no digit of a sum is lost
    for row in cells:
        table.add_row(*row)
    console.print(table)


@app.command()
def status(config: ConfigOption, day: DayOption = None, as_json: JsonOption = False) -> None:
    """Trading state, cash, positions, open orders, the last reconciliation difference and recovery."""
    from maemae.service.status import status as read_status

    halt_file = load_config(config).execution.halt_file  # a halt by the flag file shows as the engine sees it
    result = _read(config, day, lambda store, on: read_status(store, on, halt_file=halt_file))
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    for key, value in result.as_dict().items():
        shown = (
            "-"
            if value is None
            else f"{value:,}"
            if isinstance(value, int)
            else json.dumps(value, ensure_ascii=False)
            if isinstance(value, dict)
            else value
        )
        typer.echo(f"{key:>16}: {shown}")


@app.command()
def positions(config: ConfigOption, day: DayOption = None, as_json: JsonOption = False) -> None:
    """Positions: what maemae owns and what the account holds (the difference is external)."""
    from maemae.service.status import positions as read_positions

    rows = _read(config, day, read_positions)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False))
    else:
        _table("positions", rows)


@app.command()
def orders(
    config: ConfigOption,
    day: DayOption = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only orders still working.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The day's orders (sent and denied) with their state and last note."""
    from maemae.service.status import orders as read_orders

    rows = _read(config, day, lambda store, d: read_orders(store, d, open_only))
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False))
    else:
        _table("orders", rows)
