"""``maemae db ...`` and ``maemae audit ...``: the state database's schema, backups and audit chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from maemae.cli.app import app
from maemae.config import load_config
from maemae.errors import ConfigError

db_app = typer.Typer(help="The state database: schema migrations and backups.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file; its store.url is used.")
]
UrlOption = Annotated[str | None, typer.Option("--url", help="Database URL (instead of --config).")]


def _url(config: Path | None, url: str | None) -> str:
    if (config is None) == (url is None):
        raise ConfigError("give exactly one of --config FILE or --url URL")
    if url is not None:
        from maemae.config.operations import IN_MEMORY_REFUSAL, in_memory
        from maemae.store.database import parse_url

        if in_memory(parse_url(url)):  # refused as a config's store.url is
            raise ConfigError(f"--url {url!r}: {IN_MEMORY_REFUSAL}")
        return url
    assert config is not None
    return load_config(config).store.url


@db_app.command("migrate")
def migrate(config: ConfigOption = None, url: UrlOption = None) -> None:
    """Create the database, or bring its schema to this maemae's newest revision."""
    from maemae.store.database import describe
    from maemae.store.database import migrate as run_migrations

    target = _url(config, url)
    before, after = run_migrations(target)
    if before == after:
        typer.echo(f"{describe(target)}: schema already at {after}")
    else:
        typer.echo(f"{describe(target)}: schema {before or 'empty'} -> {after}")


@db_app.command("backup")
def backup(
    to: Annotated[Path, typer.Option("--to", help="The backup file to create (must not exist).")],
    config: ConfigOption = None,
    url: UrlOption = None,
) -> None:
    """Copy the database consistently, even while maemae runs (SQLite online backup, or pg_dump)."""
    from maemae.store.repository import SqlStateStore

    source = _url(config, url)
    _check_backup_target(to)
    # an existing store only (like status, report, audit verify): nothing is made for one that is not there;
    # allow_older: a store on an older schema is backed up as it is, e.g. before ``maemae db migrate``
    store = SqlStateStore(source, create=False, allow_older=True)
    try:
        store.backup(to)
    finally:
        store.close()
    typer.echo(f"backup written: {to}")


def _check_backup_target(to: Path) -> None:
    """``--to`` must name a new file in a folder that exists (docs/state.md).

    It is the user's option, so anything else is bad input (exit 2) naming it, judged before the store is
    opened so nothing else is judged first. The store refuses an existing target too, but as a store error
    (exit 6), which sent the user looking at the database instead of at the command line.
    """
    shown = f"--to {str(to)!r}"
    if to.is_dir():
        raise ConfigError(f"{shown}: {to} is a folder: expected the name of a new file for the backup")
    if to.exists() or to.is_symlink():
        raise ConfigError(
            f"{shown}: {to} already exists: expected the name of a new file (a backup never overwrites one)"
        )
    if to.parent.exists() and not to.parent.is_dir():
        raise ConfigError(f"{shown}: {to.parent} is a file, not a folder: expected a file in a folder")
    if not to.parent.is_dir():
        raise ConfigError(f"{shown}: directory {to.parent} does not exist: create it first")


@audit_app.command("verify")
def verify(
    config: ConfigOption = None,
    url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check the audit log's hash chain; exit 1 and name the first tampered or missing record."""
    from maemae.store.repository import SqlStateStore

    store = SqlStateStore(_url(config, url), create=False)
    try:
        result = store.verify_audit()
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps({"records": result.records, "ok": result.ok, "problem": result.problem}))
    elif result.ok:
        typer.echo(f"audit log intact: {result.records} records")
    else:
        typer.echo(f"audit log broken: {result.problem}", err=True)
    if not result.ok:
        raise typer.Exit(1)
