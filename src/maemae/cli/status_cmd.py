"""``maemae status``, ``positions`` and ``orders``: what a maemae instance saved, as tables or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from maemae.cli.app import app
from maemae.cli.dates import option_date
from maemae.cli.store_option import StoreOption
from maemae.config import MaemaeConfig, load_config

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The TOML config file; its store.url is read.")
]
DayOption = Annotated[
    str | None, typer.Option("--day", help="Trading day (YYYY-MM-DD); default: the day the instance is on.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _read(settings: MaemaeConfig, day_text: str | None, read: Any) -> Any:
    from maemae.engine.clock import WallClock
    from maemae.engine.composition import open_existing_state_store
    from maemae.service.status import instance_day

    day = option_date(day_text, "--day") if day_text else None
    store = open_existing_state_store(settings)
    try:
        return read(store, day or instance_day(store, WallClock().now().date()))
    finally:
        store.close()


def read_stock_names(settings: MaemaeConfig) -> dict[str, str]:
    """The names of ``settings``' instrument list (``service.names``); a list that cannot be read is one
    ``warning:`` line on stderr, where it leaves a ``--json`` stdout as JSON."""
    from maemae.service.names import stock_names

    return stock_names(settings.data.root, lambda line: typer.echo(f"warning: {line}", err=True))


def _text(value: Any) -> str:
    """A cell: blank for None, whole numbers (won, shares) with thousands separators."""
    return "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def _clock(value: str) -> str:
    """HH:MM:SS of an ISO 8601 time: the table is one day's and every time is KST, so the rest is noise."""
    return datetime.fromisoformat(value).strftime("%H:%M:%S")


def _clock_or_blank(value: str | None) -> str:
    """:func:`_clock`, blank for no time (a position no run valued that day)."""
    return "" if value is None else _clock(value)


@dataclass(frozen=True, slots=True)
class Column:
    """A row field as a table column: its short header (a long one would set the width), how a value reads,
    and whether numbers line up on the right."""

    field: str
    header: str
    cell: Callable[[Any], str] = _text
    justify: JustifyMethod = "left"


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns of a table and how it fits a narrow terminal (a pipe gets 80 columns).

    Every cell stays on one line: a value is shown whole, never wrapped or cut, because an operator reads
    codes, ids and sums against a broker's screen or the logs. What does not fit gives way instead: the
    columns named in ``give_way`` are left out, least important first, and the free-text column is cut with
    ``…`` to the room left (its whole text is in ``--json``).
    """

    columns: tuple[Column, ...]
    give_way: tuple[str, ...] = ()
    free_text: str | None = None


ORDER_LAYOUT = Layout(
    columns=(
        Column("created_at", "time", _clock),
        Column("order_id", "id"),
        Column("code", "code"),
        Column("name", "name"),
        Column("side", "side"),
        Column("order_type", "type"),
        Column("quantity", "qty", justify="right"),
        Column("filled_quantity", "filled", justify="right"),
        Column("limit_price", "price", justify="right"),
        Column("state", "state"),
        Column("source", "source"),
        Column("last_note", "note"),
    ),
    # the name first: the code beside it says the same; Korean names take two cells a character
    give_way=(
        "name",
        "source",
        "order_type",
        "limit_price",
        "filled_quantity",
        "last_note",
        "order_id",
        "created_at",
    ),
    free_text="last_note",
)
POSITION_LAYOUT = Layout(
    columns=(
        Column("code", "code"),
        Column("name", "name"),
        Column("owned_quantity", "owned", justify="right"),
        Column("account_quantity", "account", justify="right"),
        Column("external_quantity", "external", justify="right"),
        Column("cost_basis", "cost", justify="right"),
        Column("price", "price", justify="right"),
        Column("market_value", "value", justify="right"),
        Column("unrealised_pnl", "unrealised", justify="right"),
        Column("realised_pnl", "realised", justify="right"),
        Column("marked_at", "priced", _clock_or_blank),
    ),
    # on a narrow terminal: a long name, then what --json and the other columns still say; the sums stay
    give_way=("marked_at", "name", "price", "external_quantity", "account_quantity"),
)
GAP = 2  # cells apart in the table style of ``_table``: a space of padding and a blank divider
FREE_TEXT_MIN = 12  # the narrowest free-text column worth showing; narrower, it gives way with the others


def _needed(layout: Layout, columns: list[Column], widths: dict[str, int]) -> int:
    """The width ``columns`` take, the free-text one at its narrowest."""
    cells = (
        min(widths[c.field], FREE_TEXT_MIN) if c.field == layout.free_text else widths[c.field]
        for c in columns
    )
    return sum(cells) + GAP * (len(columns) - 1)


def _fitting(layout: Layout, widths: dict[str, int], width: int) -> list[Column]:
    """The columns that fit ``width``: all, or without the least important ones until the rest fit."""
    columns = list(layout.columns)
    for field in layout.give_way:
        if _needed(layout, columns, widths) <= width:
            break
        columns = [c for c in columns if c.field != field]
    return columns


def _table(title: str, layout: Layout, rows: list[Any], console: Console | None = None) -> None:
    """Print ``rows`` one line each, fitted to the console's width as ``layout`` says: rich left to itself
    squeezes eleven columns into 80 by folding every cell into a tower of two-letter pieces."""
    console = console or Console()
    if not rows:
        console.print(f"{title}: none")
        return
    cells = {c.field: [c.cell(getattr(row, c.field)) for row in rows] for c in layout.columns}
    widths = {c.field: max(cell_len(text) for text in (c.header, *cells[c.field])) for c in layout.columns}
    columns = _fitting(layout, widths, console.width)
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for column in columns:
        if column.field == layout.free_text:
            room = console.width - _needed(layout, columns, widths) + min(widths[column.field], FREE_TEXT_MIN)
            table.add_column(column.header, no_wrap=True, overflow="ellipsis", max_width=room)
        else:
            # no_wrap alone still lets rich shrink a column as a last resort; min_width stops that
            table.add_column(
                column.header, justify=column.justify, no_wrap=True, min_width=widths[column.field]
            )
    for values in zip(*(cells[c.field] for c in columns), strict=True):
        # as text, not rich markup: a stock's name comes from a file anyone may write ("[/b]" would raise)
        table.add_row(*(Text(value) for value in values))
    console.print(table)


@app.command()
def status(
    config: ConfigOption, day: DayOption = None, as_json: JsonOption = False, store: StoreOption = None
) -> None:
    """Trading state, cash, positions, open orders, the last reconciliation difference and recovery."""
    from maemae.service.status import status as read_status

    settings = load_config(config, store)
    halt_file = settings.execution.halt_file  # a halt by the flag file shows as the engine sees it
    result = _read(settings, day, lambda store, on: read_status(store, on, halt_file=halt_file))
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
def positions(
    config: ConfigOption, day: DayOption = None, as_json: JsonOption = False, store: StoreOption = None
) -> None:
    """Positions: what maemae owns and what the account holds (the difference is external), each stock by
    code and name."""
    from maemae.service.status import positions as read_positions

    settings = load_config(config, store)
    rows = _read(settings, day, lambda store, on: read_positions(store, on, read_stock_names(settings)))
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False))
    else:
        _table("positions", POSITION_LAYOUT, rows)


@app.command()
def orders(
    config: ConfigOption,
    day: DayOption = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only orders still working.")] = False,
    as_json: JsonOption = False,
    store: StoreOption = None,
) -> None:
    """The day's orders (sent and denied) with their state and last note, each stock by code and name."""
    from maemae.service.status import orders as read_orders

    settings = load_config(config, store)
    rows = _read(
        settings, day, lambda store, on: read_orders(store, on, read_stock_names(settings), open_only)
    )
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False))
    else:
        _table("orders", ORDER_LAYOUT, rows)
