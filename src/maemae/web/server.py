"""Composition of the dashboard for a config file, and serving it with uvicorn."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI

from maemae.config import MaemaeConfig
from maemae.errors import ConfigError
from maemae.ports.state import StateStore
from maemae.service.names import stock_names
from maemae.web.app import Dashboard
from maemae.web.auth import Credentials, load_or_create_token
from maemae.web.process import TradingProcess

log = structlog.get_logger("maemae.web")


def build_dashboard(
    config: MaemaeConfig, config_file: Path, store: StateStore, store_option: str | None = None
) -> Dashboard:
    """The token (created on first start), the Start button's process and the stock names for ``config``.
    An instrument list that cannot be read is logged and leaves the names blank: the dashboard serves.
    ``store_option``: the dashboard's ``--store``, handed on to the run its Start button starts, so that the
    run trades in the store the dashboard shows."""
    token = load_or_create_token(config.web.token_file)
    run_args = [*config.web.run_args, *(["--store", store_option] if store_option is not None else [])]
    process = TradingProcess(config_file, run_args, config.logging.dir / "dashboard-run.out")
    names = stock_names(config.data.root, lambda line: log.warning("stock_names_unread", problem=line))
    return Dashboard(config, store, Credentials(token), process, names)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port_free(host: str, port: int, field: str = "--port / web.port") -> None:
    """One line (exit 2) instead of a traceback when the port is out of range or the address is taken.

    Made before the store is opened and uvicorn starts, so a dashboard that cannot listen leaves nothing
    behind. A port outside 1..65535 used to reach ``bind`` and end in ``OverflowError``; a taken one in
    uvicorn's ``OSError``.
    """
    if not 0 < port < 65_536:
        raise ConfigError(f"{field} = {port}: expected a port number from 1 to 65535")
    # the address family uvicorn picks for ``host``, so the probe binds the way the server will
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: old connections pass
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(f"{field} = {port}: cannot listen on {host}: {error.strerror}") from None


def serve(app: FastAPI, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
