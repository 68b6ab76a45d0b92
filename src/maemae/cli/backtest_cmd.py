"""``maemae backtest`` and ``maemae compare``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from maemae import ctrl_c
from maemae.cli.app import app
from maemae.cli.dates import option_date
from maemae.cli.folders import folder_option
from maemae.cli.named import named_after
from maemae.config import load_config
from maemae.errors import ConfigError, RunInterrupted
from maemae.logs import configure_logging
from maemae.wording import counted

if TYPE_CHECKING:
    from maemae.backtest.compare import PolicyResult
    from maemae.backtest.metrics import Metrics
    from maemae.backtest.service import BacktestResult
    from maemae.backtest.sweep import SweepResult
    from maemae.config import MaemaeConfig
    from maemae.engine.kernel import TradingKernel

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The TOML config file.")]
DateOption = Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: from the config, else the data).")]


OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Output directory (default: backtest.out_dir).", parser=folder_option("--out")
    ),
]


class _Count(ProgressColumn):
    """``12/250 days``, or ``loading`` while the total is not known yet (the market is being read): a plain
    ``{task.total}`` column would show ``0/None days``."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("loading")
        return Text(f"{int(task.completed)}/{int(task.total)} {self.unit}")


def _progress(label: str, unit: str, console: Console | None = None) -> Progress:
    """A progress bar on stderr that clears itself when done; silent when stderr is not a terminal, so a
    log file or a pipe gets no control codes and an error line is not preceded by a blank one. ``console``
    is for tests, which render the bar to a string."""
    console = console or Console(stderr=True)
    return Progress(
        TextColumn(label),
        BarColumn(),
        _Count(unit),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _out_option(out: Path | None) -> str:
    """Where the output folder came from, for the error line when it cannot be used."""
    return "--out" if out is not None else "backtest.out_dir"


def _notice(line: str) -> None:
    """A line about the run the user should see (its start moved to the first stored day)."""
    typer.echo(f"warning: {line}", err=True)


def _note_short_run(metrics: Metrics) -> None:
    """Beside the figures: a run of a few sessions is told its annualised ones say little."""
    from maemae.backtest.metrics import short_run_note

    note = short_run_note(metrics)
    if note is not None:
        _notice(note)


def _interrupted(command: str, out_dir: Path | None, kept: str) -> RunInterrupted:
    """The line for a Ctrl-C before the end (exit 130): typer turned it into a silent exit, and the user was
    told nothing. The outputs are a set moved into place only once all are written (``outputs.staged``,
    ``publish``), so the folder holds the previous run's set as it was, or none. ``out_dir`` is None when the
    Ctrl-C came before the config named the folder."""
    where = "" if out_dir is None else f"; {out_dir} keeps {kept}"
    return RunInterrupted(f"{command} interrupted by Ctrl-C before the end: nothing written{where}")


def _date(value: str | None, option: str) -> date | None:
    return None if value is None else option_date(value, option)


def _strategy_errors(kernel: TradingKernel) -> str:
    """The result line's note of the strategy's errors, if any: a strategy that failed on every bar ends with
    0 orders, which must not read as a strategy that chose not to trade (each error is logged once)."""
    if not kernel.strategy_errors:
        return ""
    return f", {counted(kernel.strategy_errors, 'strategy error')} (first: {kernel.first_strategy_error})"


def _denials(denied: dict[str, int]) -> str:
    """The result line's count of the intents the risk gate denied, with the most frequent reason: a run whose
    every intent was denied (a quantity of 0) read as one that chose not to trade."""
    total = sum(denied.values())
    if not total:
        return ""
    reason, count = max(denied.items(), key=lambda item: item[1])
    return f", {counted(total, 'intent')} denied (most: {reason}, {count:,}; orders.csv has each)"


@app.command()
def backtest(
    config: ConfigOption,
    start: DateOption = None,
    end: DateOption = None,
    out: OutOption = None,
    every_bar: Annotated[
        bool, typer.Option("--every-bar", help="Visit every bar (slow; same result).")
    ] = False,
) -> None:
    """Backtest the configured strategies and write summary, trades, orders, equity and report.html."""
    out_dir = out
    with ctrl_c.held():  # Ctrl-C raised between two days only, never once the outputs are in place
        try:
            settings = load_config(config)
            out_dir = out or settings.backtest.out_dir
            result = _backtest(settings, config, _date(start, "--start"), _date(end, "--end"), out, every_bar)
        except KeyboardInterrupt:
            raise _interrupted(
                "backtest", out_dir, "the previous backtest's outputs, if any, as they were"
            ) from None
        _print_backtest(result, out_dir)


def _backtest(
    settings: MaemaeConfig,
    config: Path,
    first: date | None,
    last: date | None,
    out: Path | None,
    every_bar: bool,
) -> BacktestResult:
    """The run of ``maemae backtest``, its outputs in place, behind a progress bar."""
    from maemae.backtest.service import run_backtest

    configure_logging(settings.logging)
    ctrl_c.honour()  # one pressed while maemae loaded the config and the engine's modules
    with _progress("backtest", "days") as bar, named_after(config):
        task = bar.add_task("days", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_backtest(
            settings,
            start=first,
            end=last,
            out_dir=out or settings.backtest.out_dir,
            every_bar=every_bar or None,
            progress=progress,
            out_option=_out_option(out),
            notice=_notice,
            title=f"maemae backtest of {config}",
        )


def _print_backtest(result: BacktestResult, out_dir: Path) -> None:
    """The result line of a completed backtest, a note on a short run, and where the report is."""
    m = result.metrics
    typer.echo(
        f"{result.days[0]}..{result.days[1]}: final equity {m.final_equity:,} won, "
        f"return {m.total_return:.2%}, "
        f"max drawdown {m.max_drawdown:.2%}, Sharpe {m.sharpe:.2f}, {counted(m.n_trades, 'executed order')}"
        f"{_strategy_errors(result.engine.kernel)}{_denials(m.denied_orders)}"
    )
    _note_short_run(m)
    typer.echo(f"report: {out_dir / 'report.html'}")


@app.command()
def compare(
    config: ConfigOption,
    start: DateOption = None,
    end: DateOption = None,
    out: OutOption = None,
) -> None:
    """Backtest the same strategy under each overtrading policy and print the table."""
    out_dir = out
    with ctrl_c.held():  # as in backtest: Ctrl-C raised between two days only, never once all is in place
        try:
            settings = load_config(config)
            out_dir = (out or settings.backtest.out_dir) / "compare"  # checked by compare_policies first
            results = _compare(settings, config, _date(start, "--start"), _date(end, "--end"), out)
        except KeyboardInterrupt:
            raise _interrupted("compare", out_dir, "the previous comparison, if any, as it was") from None
        _print_compare(results, out_dir)


def _compare(
    settings: MaemaeConfig, config: Path, first: date | None, last: date | None, out: Path | None
) -> list[PolicyResult]:
    """The runs of ``maemae compare``, one a policy, their outputs in place."""
    from maemae.backtest.compare import compare_policies

    configure_logging(settings.logging)
    ctrl_c.honour()  # one pressed while maemae loaded the config and the engine's modules
    with named_after(config):
        return compare_policies(
            settings,
            start=first,
            end=last,
            out_dir=(out or settings.backtest.out_dir) / "compare",
            on_policy=lambda name: _wide_console().print(f"[dim]running policy {name} ...[/dim]"),
            out_option=_out_option(out),
            notice=_notice,
            out_given=out or settings.backtest.out_dir,
        )


def _wide_console() -> Console:
    """A console wide enough for the comparison's table, each policy's name whole."""
    return Console(width=max(Console().width, 132))


def _print_compare(results: list[PolicyResult], out_dir: Path) -> None:
    """The table of a completed comparison and where its files are."""
    from maemae.backtest.compare import errors_note, shown_headers, shown_row

    table = Table(title="overtrading policies")
    note = errors_note(results)  # with its column of errors in the table
    for column in shown_headers(results):  # a policy's name whole: it names the folder of its outputs
        table.add_column(column, justify="left" if column == "policy" else "right", no_wrap=True)
    for result in results:
        table.add_row(*shown_row(result, note is not None))
    console = _wide_console()
    # wider still when the table needs it (its column of strategy errors): a narrower one cut the cells
    needed = Measurement.get(console, console.options.update_width(1_000), table).maximum
    Console(width=max(console.width, needed)).print(table)
    _note_short_run(results[0].metrics)  # every policy ran the same sessions
    if note is not None:
        _notice(note)
    console.print(f"compare.csv and compare.html in {out_dir}")


@app.command()
def sweep(
    config: ConfigOption,
    grid: Annotated[
        Path,
        typer.Option(
            "--grid", help="The sweep file: its grid, search and walk_forward tables (docs/backtest.md)."
        ),
    ],
    workers: Annotated[int | None, typer.Option(help="Local processes (default: every core).", min=1)] = None,
    cluster: Annotated[
        str | None, typer.Option(help="A Dask scheduler, tcp://HOST:8786, instead of local processes.")
    ] = None,
    start: DateOption = None,
    end: DateOption = None,
    out: OutOption = None,
) -> None:
    """Backtest every parameter set of the grid (or a random sample), in parallel, with walk-forward
    validation; write trials.parquet, trials.csv, walk_forward.csv and sweep.html."""
    from maemae.backtest.sweep import read_spec
    from maemae.backtest.sweep import sweep as run_sweep
    from maemae.backtest.sweep_backends import DaskBackend, LocalBackend
    from maemae.backtest.sweep_report import sweep_into
    from maemae.engine.composition import load_strategies

    settings = load_config(config)
    with named_after(config):  # before any trial, which would each fail alike; a trial's own error names
        load_strategies(settings)  # its parameter set, which the grid made, so not the file
    spec = read_spec(grid)
    first, last = _date(start, "--start"), _date(end, "--end")
    if cluster and workers:
        raise ConfigError("--workers and --cluster: choose one (the cluster has its own workers)")
    out_dir = (out or settings.backtest.out_dir) / "sweep"
    backend = DaskBackend(cluster) if cluster else LocalBackend(workers)

    def run() -> SweepResult:
        with _progress("sweep", "trials") as bar:
            task = bar.add_task("trials", total=None)
            return run_sweep(
                settings,
                spec,
                backend,
                start=first,
                end=last,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )

    try:  # the folder is staged: a sweep refused or stopped on the way leaves none behind
        result = sweep_into(out_dir, _out_option(out), run, out or settings.backtest.out_dir)
    except KeyboardInterrupt:
        raise _interrupted("sweep", out_dir, "the previous sweep's outputs, if any, as they were") from None
    full = result.table[result.table["phase"] == "full"]
    best = full.sort_values([spec.metric, "trial"], ascending=[False, True]).iloc[0]
    chosen = ", ".join(
        f"{k.removeprefix('param.')}={best[k]}" for k in full.columns if k.startswith("param.")
    )
    typer.echo(
        f"{len(full)} parameter set(s) on {backend.name} in {result.seconds:.1f} s; best {spec.metric} "
        f"{best[spec.metric]:.4g} with {chosen}"
    )
    for _, split in result.walk_forward.iterrows():
        typer.echo(
            f"walk-forward split {split['split']}: train {split['train']} {spec.metric} "
            f"{split[f'train {spec.metric}']:.4g}, test {split['test']} {split[f'test {spec.metric}']:.4g}"
        )
    typer.echo(f"report: {out_dir / 'sweep.html'}")
