"""``maemae dashboard``: the web dashboard of an instance (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maemae.cli.app import app
from maemae.cli.store_option import StoreOption
from maemae.config import load_config
from maemae.logs import configure_logging


@app.command()
def dashboard(
    config: Annotated[Path, typer.Option("--config", "-c", help="The TOML config file of the instance.")],
    host: Annotated[str | None, typer.Option(help="Address to bind; default web.host (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port; default web.port (8700).")] = None,
    store_url: StoreOption = None,
) -> None:
    """Serve the dashboard: status, equity, positions, orders, alerts, log, parameters, and the start, stop,
    halt and resume buttons. Every page needs the token in web.token_file (created on the first start)."""
    from maemae.engine.composition import open_existing_state_store
    from maemae.web.app import create_app
    from maemae.web.server import build_dashboard, check_port_free, is_loopback, serve

    settings = load_config(config, store_url)
    host = host or settings.web.host
    port = port or settings.web.port
    check_port_free(host, port)
    # an existing store only: a dashboard that created one would show an empty instance for a mistyped
    # store.url, and its Halt would stop nothing (docs/operations.md)
    store = open_existing_state_store(settings)
    configure_logging(settings.logging)
    board = build_dashboard(settings, config, store, store_url)
    if not is_loopback(host):
        typer.echo(
            f"warning: the dashboard listens on {host}, not only this machine: put TLS in front of it",
            err=True,
        )
    typer.echo(f"dashboard: http://{host}:{port}/  (token: {settings.web.token_file})")
    try:
        serve(create_app(board), host, port)
    finally:
        store.close()
