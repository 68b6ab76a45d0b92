"""``maemae kis-mock`` in a process of its own, as a user starts it beside a paper run: the exchange outlives
a run that is killed or restarted."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def kis_mock_process(config_file: Path) -> Iterator[str]:
    """The server on a free port of 127.0.0.1, for the block; its URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "maemae.cli", "kis-mock", "--config", str(config_file), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("kis-mock listening on http://127.0.0.1:"), line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        server.kill()
        server.wait(10)
