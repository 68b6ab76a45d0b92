"""``maemae data ...``: generate, import and inspect market data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from maemae.cli.app import app
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore

data_app = typer.Typer(help="Import, generate and inspect market data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

DEFAULT_DIR = Path("var/demo/market")
DirOption = Annotated[Path, typer.Option("--dir", help="Market-data directory.")]


@data_app.command("sample")
def sample(
    directory: DirOption = DEFAULT_DIR,
    stocks: Annotated[int, typer.Option(help="Number of stocks (the safe-asset ETF comes on top).")] = 100,
    days: Annotated[int, typer.Option(help="Number of trading days, ending on --end.")] = 245,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 7,
) -> None:
    """Generate the deterministic synthetic sample market (daily and 1-minute bars)."""
    from maemae.data.sample import generate_sample_market

    summary = generate_sample_market(directory, stocks=stocks, days=days, seed=seed)
    typer.echo(f"sample market: {summary}")


@data_app.command("import")
def import_(
    csv: Annotated[Path, typer.Option("--csv", help="CSV file of bars (columns in docs/data.md).")],
    directory: DirOption = DEFAULT_DIR,
    timeframe: Annotated[
        Timeframe | None, typer.Option(help="day or minute; inferred from the ts column when omitted.")
    ] = None,
    instruments: Annotated[
        Path | None, typer.Option("--instruments", help="CSV of instruments to add first (docs/data.md).")
    ] = None,
) -> None:
    """Import bars from CSV; the whole file is checked first and nothing is written if any row is bad."""
    from maemae.data.csv_import import import_csv
    from maemae.krx.calendar import default_calendar

    summary = import_csv(csv, BarStore(directory), default_calendar(), timeframe, instruments)
    typer.echo(
        f"imported {summary.rows} {summary.timeframe.value} bars for {len(summary.codes)} code(s) "
        f"from {summary.path} into {directory}"
    )


@data_app.command("info")
def info(
    directory: DirOption = DEFAULT_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List what the store holds: codes, timeframes, first and last bar, bar counts."""
    store = BarStore(directory)
    series = store.info()
    instruments = store.read_instruments()
    if as_json:
        rows = [
            {
                "code": str(item.code),
                "name": instruments[item.code].name if item.code in instruments else None,
                "timeframe": item.timeframe.value,
                "first": item.first.isoformat(),
                "last": item.last.isoformat(),
                "bars": item.n_bars,
            }
            for item in series
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not series:
        typer.echo(f"no bars stored in {directory}")
        return
    table = Table(title=f"market data in {directory}")
    for column in ("code", "name", "type", "timeframe", "first", "last", "bars"):
        table.add_column(column, justify="right" if column == "bars" else "left")
    for item in series:
        instrument = instruments.get(item.code)
        stamp = "%Y-%m-%d" if item.timeframe is Timeframe.DAY else "%Y-%m-%d %H:%M"
        table.add_row(
            item.code,
            instrument.name if instrument else "",
            instrument.instrument_type.value if instrument else "",
            item.timeframe.value,
            item.first.strftime(stamp),
            item.last.strftime(stamp),
            f"{item.n_bars:,}",
        )
    console = Console(width=120)
    console.print(table)
    totals = {tf: sum(s.n_bars for s in series if s.timeframe is tf) for tf in Timeframe}
    codes = {s.code for s in series}
    console.print(
        f"{len(codes)} codes; {totals[Timeframe.DAY]:,} daily bars; {totals[Timeframe.MINUTE]:,} minute bars"
    )
