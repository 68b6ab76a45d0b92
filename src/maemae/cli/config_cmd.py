"""``maemae config ...``: check a configuration file."""

from __future__ import annotations

import typer

from maemae.cli.app import app

config_app = typer.Typer(help="Check and explain configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")
