"""``maemae data ...``: generate, import and inspect market data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from maemae.cli.app import app
from maemae.cli.dates import option_date
from maemae.cli.folders import folder_option
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.domain.enums import Market
from maemae.errors import ConfigError, DataError, InvalidStockCode, RunInterrupted

data_app = typer.Typer(help="Import, generate and inspect market data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

DEFAULT_DIR = Path("var/demo/market")


DirOption = Annotated[
    Path, typer.Option("--dir", help="Market-data directory.", parser=folder_option("--dir"))
]


@data_app.command("sample")
def sample(
    directory: DirOption = DEFAULT_DIR,
    stocks: Annotated[int, typer.Option(help="Number of stocks (the safe-asset ETF comes on top).")] = 100,
    days: Annotated[
        int, typer.Option(help="Number of trading days, the last one 2025-12-30 (the sample's fixed end).")
    ] = 245,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 7,
    daily_only: Annotated[
        bool, typer.Option("--daily-only", help="Daily bars only, as pykrx gives (backtest.bars = day).")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Remove the store already in --dir (bars, instruments and all) and write anew."
        ),
    ] = False,
) -> None:
    """Generate the deterministic synthetic sample market (daily and 1-minute bars) into an empty or new
    folder; a folder that holds a store is refused unless --replace is given."""
    from maemae.data.sample import generate_sample_market

    with _stopped_by_ctrl_c("data sample", f"nothing written; {directory} is as it was"):
        summary = generate_sample_market(
            directory, stocks=stocks, days=days, seed=seed, minutes=not daily_only, replace=replace
        )
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

    with _stopped_by_ctrl_c("data import", f"nothing written; {directory} is as it was"):
        summary = import_csv(csv, BarStore(directory), default_calendar(), timeframe, instruments)
    typer.echo(
        f"imported {summary.rows} {summary.timeframe.value} bars for {len(summary.codes)} code(s) "
        f"from {summary.path} into {directory}"
    )


CodesOption = Annotated[str | None, typer.Option(help="Comma-separated stock codes, e.g. 005930,000660.")]
MarketOption = Annotated[
    str | None, typer.Option(help="KOSPI, KOSDAQ or ALL: every listed code (and its list).")
]
SourceOption = Annotated[str, typer.Option(help="pykrx, fdr, kis or creon (docs/data.md).")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (for --source kis or creon: the broker).")
]


@data_app.command("fetch")
def fetch(
    source: SourceOption,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")],
    end: Annotated[
        str | None, typer.Option(help="Last day (YYYY-MM-DD); default the last complete session.")
    ] = None,
    codes: CodesOption = None,
    market: MarketOption = None,
    timeframe: Annotated[Timeframe, typer.Option(help="day, or minute (kis, creon).")] = Timeframe.DAY,
    directory: DirOption = DEFAULT_DIR,
    config: ConfigOption = None,
) -> None:
    """Fetch bars from a source into the store: every row checked, bad rows quarantined, resumable."""
    _fetch(source, codes, market, _day(start, "--start"), end, timeframe, directory, config, update=False)


@data_app.command("update")
def update(
    source: SourceOption,
    codes: CodesOption = None,
    market: MarketOption = None,
    start: Annotated[
        str, typer.Option(help="First day for codes with nothing stored yet (YYYY-MM-DD).")
    ] = "2015-01-02",
    end: Annotated[str | None, typer.Option(help="Last day; default the last complete session.")] = None,
    timeframe: Annotated[Timeframe, typer.Option(help="day, or minute (kis, creon).")] = Timeframe.DAY,
    directory: DirOption = DEFAULT_DIR,
    config: ConfigOption = None,
) -> None:
    """Fetch what is missing since the last stored day of each code (none, when run twice); default codes:
    every stored one."""
    _fetch(source, codes, market, _day(start, "--start"), end, timeframe, directory, config, update=True)


def _fetch(
    source_name: str,
    codes_text: str | None,
    market_text: str | None,
    start: date,
    end_text: str | None,
    timeframe: Timeframe,
    directory: Path,
    config_path: Path | None,
    *,
    update: bool,
) -> None:
    from datetime import datetime

    from maemae.config import load_config
    from maemae.data.update import Fetcher, last_complete_session
    from maemae.domain.clock_time import KST
    from maemae.engine.data_sources import open_source
    from maemae.krx.calendar import default_calendar

    calendar = default_calendar()
    end = _day(end_text, "--end") if end_text else last_complete_session(calendar, datetime.now(KST))
    if start > end:
        raise ConfigError(f"--start {start} is after --end {end}")
    wanted = _codes(codes_text)
    by_market, market = _market(market_text)
    if wanted is None and not by_market and not update:
        raise ConfigError("give --codes or --market (KOSPI, KOSDAQ or ALL)")
    source = open_source(source_name, load_config(config_path) if config_path else None)
    store = BarStore(directory)
    console = Console(stderr=True)
    command = "data update" if update else "data fetch"
    finished = "each code it finished is stored whole; the same command fetches the rest"
    with _stopped_by_ctrl_c(command, finished), console.status("fetching") as status:
        fetcher = Fetcher(
            store,
            source,
            calendar,
            timeframe=timeframe,
            progress=lambda done, total: status.update(f"{source_name}: {done}/{total} codes"),
        )
        if by_market:
            listed = fetcher.listed_codes(market, end)
            wanted = sorted(set(wanted or []) | set(listed))
        if wanted is None:  # update without codes: every stored one
            wanted = store.codes(timeframe)
        if update:
            ranges = fetcher.update_ranges(wanted, start, end)
        else:
            ranges = {code: (start, end) for code in wanted}
        report = fetcher.run(ranges)
    close = getattr(source, "close", None)
    if close is not None:
        close()
    if not ranges:
        typer.echo(f"{source_name}: nothing to fetch: every code is up to date to {end}")
        return
    typer.echo(report.summary())
    typer.echo(f"report: {report.report_path}")
    if report.failed:
        raise DataError(report.failure_line())


@contextmanager
def _stopped_by_ctrl_c(command: str, state: str) -> Iterator[None]:
    """Ctrl-C during ``command`` as one line saying what the store holds (``state``), exit 130: typer made it
    a silent exit. Every Ctrl-C is noted, so one a library swallowed still stops the command before it
    writes (``maemae.ctrl_c``)."""
    from maemae import ctrl_c

    try:
        with ctrl_c.noting():
            yield
    except KeyboardInterrupt:
        raise RunInterrupted(f"{command} interrupted by Ctrl-C before the end: {state}") from None


def _day(text: str | None, option: str) -> date:
    return option_date(text or "", option)


def _codes(text: str | None) -> list[StockCode] | None:
    if not text:
        return None
    try:
        return [StockCode(part.strip()) for part in text.split(",") if part.strip()]
    except (InvalidStockCode, ValueError) as error:
        raise ConfigError(f"--codes {text!r}: {error}") from None


def _market(text: str | None) -> tuple[bool, Market | None]:
    """Whether --market was given, and which (None: ALL)."""
    if not text:
        return False, None
    if text.upper() == "ALL":
        return True, None
    try:
        return True, Market(text.lower())
    except ValueError:
        raise ConfigError(f"--market {text!r}: expected KOSPI, KOSDAQ or ALL") from None


@data_app.command("info")
def info(
    directory: DirOption = DEFAULT_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List what the store holds: codes, timeframes, first and last bar, bar counts."""
    if not directory.is_dir():  # a mistyped --dir is not an empty store: say so and exit 2, not "no bars"
        problem = (
            "not a directory"
            if directory.exists()
            else f"no such directory (`maemae data sample --dir {directory}` makes a sample store there)"
        )
        raise DataError(f"--dir {directory}: {problem}")
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
