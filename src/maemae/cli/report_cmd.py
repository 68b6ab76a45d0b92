"""``maemae report``: the end-of-day report of a closed day, from the state database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from maemae.cli.app import app
from maemae.cli.dates import option_date
from maemae.cli.folders import folder_option
from maemae.cli.status_cmd import read_stock_names
from maemae.cli.store_option import StoreOption
from maemae.config import load_config
from maemae.errors import ConfigError


@app.command()
def report(
    config: Annotated[Path, typer.Option("--config", "-c", help="The TOML config file.")],
    day: Annotated[
        str | None, typer.Argument(help="The day (YYYY-MM-DD); default: the last closed day.")
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(help="ko or en; default: report.lang. Another language writes DAY.LANG.html and .txt."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Directory for DAY.html and DAY.txt; default: report.dir.", parser=folder_option("--out")
        ),
    ] = None,
    backtest: Annotated[bool, typer.Option(help="Compare with the backtest of the same day.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    store_url: StoreOption = None,
) -> None:
    """Write the report of a closed day (HTML and text) and print the text (or JSON)."""
    from maemae.engine.composition import open_existing_state_store
    from maemae.service.report import (
        REPORT_OPTION,
        compare_with_backtest,
        day_report,
        render_text,
        report_dir,
        write_report,
    )

    settings = load_config(config, store_url)
    chosen = lang or settings.report.lang
    if chosen not in ("ko", "en"):
        raise ConfigError(f"--lang {chosen!r}: expected ko or en")
    store = open_existing_state_store(settings)
    try:
        if day is None:
            results = store.daily_results()
            if not results:
                raise ConfigError(f"store {settings.store.url}: no closed day to report yet")
            wanted = results[-1].day
        else:
            wanted = option_date(day, "day")
        comparison = compare_with_backtest(settings, wanted) if backtest else None
        result = day_report(store, wanted, read_stock_names(settings), comparison)
    finally:
        store.close()
    # written before anything is printed: a folder that cannot take the files is one line and an empty stdout
    # (with --json too), not a report a script would take for done
    folder, option = (out, "--out") if out is not None else (report_dir(settings), REPORT_OPTION)
    html_path, _ = write_report(result, folder, chosen, option, settings.report.lang)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(render_text(result, chosen))  # type: ignore[arg-type]
    typer.echo(f"written: {html_path}")
