"""``maemae data ...``: market-data store commands."""

from __future__ import annotations

import typer

from maemae.cli.app import app

data_app = typer.Typer(help="Import, generate and inspect market data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
