"""The local KIS server's port, checked before the server starts.

uvicorn reports a bad port from its own thread: a port out of range ends in an ``OverflowError`` traceback
from ``bind``, a taken one in an ``ERROR:`` log line, and the caller then only learns that the server did
not start. Checked here first, either is one line (exit 2) and nothing is started.
"""

from __future__ import annotations

import socket

from maemae.errors import ConfigError


def check_port(host: str, port: int) -> None:
    """Refuse a port outside 0..65535 (0: the system picks a free one) or one ``host`` cannot listen on."""
    if not 0 <= port <= 65_535:
        raise ConfigError(
            f"kis-mock --port {port}: expected a port number from 1 to 65535 (or 0 for any free one)"
        )
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(
                f"kis-mock --port {port}: cannot listen on {host}: {error.strerror or error}"
            ) from None
