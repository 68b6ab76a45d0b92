"""A dashboard served by uvicorn on a free 127.0.0.1 port, for an instance over the shared sample market."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from maemae.config import MaemaeConfig, load_config
from maemae.engine.composition import open_state_store
from maemae.logs import configure_logging
from maemae.store.repository import SqlStateStore
from maemae.web.app import Dashboard, create_app
from maemae.web.server import build_dashboard
from tests.engine.test_run import _config as run_config
from tests.support.named_book import save_book, write_names

DAY = "2025-12-03"


def write_config(root: Path, directory: Path, run_args: list[str]) -> Path:
    """The instance of ``maemae run``'s tests, with its log, its token and the Start button's arguments."""
    args = ", ".join(f'"{a}"' for a in run_args)
    web = f"""
[logging]
dir = "{directory}/log"
console = false

[web]
token_file = "{directory}/web-token"
lang = "en"
run_args = [{args}]
"""
    return run_config(root, directory, web)


@dataclass
class Served:
    url: str
    token: str
    config: MaemaeConfig
    config_file: Path
    dashboard: Dashboard

    def log_lines(self) -> str:
        return "".join(p.read_text(encoding="utf-8") for p in sorted(self.config.logging.dir.glob("*.jsonl")))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_dashboard(config_file: Path) -> Iterator[Served]:
    config = load_config(config_file)
    configure_logging(config.logging)
    store = open_state_store(config)
    dashboard = build_dashboard(config, config_file, store)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(dashboard), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.05)
    token = config.web.token_file.read_text(encoding="utf-8").strip()
    try:
        yield Served(f"http://127.0.0.1:{port}", token, config, config_file, dashboard)
    finally:
        if dashboard.process.state().running:
            dashboard.process.stop()
        server.should_exit = True
        thread.join(10)
        store.close()


@pytest.fixture
def served(market_root: Path, tmp_path: Path) -> Iterator[Served]:
    """A dashboard whose Start button replays DAY at 600x."""
    yield from serve_dashboard(write_config(market_root, tmp_path, ["--replay", DAY, "--speed", "600"]))


@pytest.fixture
def served_fast(market_root: Path, tmp_path: Path) -> Iterator[Served]:
    """A dashboard whose Start button replays DAY as fast as the machine goes (a whole day in seconds)."""
    yield from serve_dashboard(write_config(market_root, tmp_path, ["--replay", DAY, "--speed", "0"]))


def serve_named_book(directory: Path, data_root: Path) -> Iterator[Served]:
    """A dashboard over ``named_book``'s saved day (no run), its names from the data root ``data_root``."""
    config_file = write_config(data_root, directory, [])
    store = SqlStateStore(f"sqlite:///{directory}/state.db")
    try:
        save_book(store)
    finally:
        store.close()
    yield from serve_dashboard(config_file)


@pytest.fixture
def served_named(tmp_path: Path) -> Iterator[Served]:
    """A dashboard over a saved day whose stocks the instrument list names (one name hostile, one code
    without a name)."""
    write_names(tmp_path / "market")
    yield from serve_named_book(tmp_path, tmp_path / "market")
