"""A replayed paper day through the KIS adapter and the local KIS server with every fault injected: the day
completes and ends with maemae's book equal to the server's (the fault-free day:
tests/brokers/test_paper_parity.py)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time as wall
from collections.abc import Iterator
from datetime import date, datetime, time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any, ClassVar

import httpx
import pytest

from maemae.backtest.service import load_market
from maemae.brokers.kis.mock.app import MockSettings
from maemae.brokers.kis.mock.server import MockServer
from maemae.brokers.kis.mock.venue import KisMockVenue
from maemae.brokers.sim.matching import MarketBar
from maemae.cli import main
from maemae.config import MaemaeConfig
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.order_states import OrderState
from maemae.engine.books import book_differences
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.replay import run_persisted_replay
from maemae.execution.order_manager import SETTLED_BY_QUERY
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config
from tests.backtest.test_modes_parity import CONFIGS
from tests.brokers.kis.mock_process import kis_mock_process
from tests.engine.test_paper import _config, _wait_for_cursor

DAY = date(2025, 12, 3)
OUTSIDE = StockCode("137630")
EXTERNAL_SHARES = 50


class FaultyKisVenue(KisMockVenue):
    """The KIS venue whose server injects a fault at chosen market times."""

    schedule: ClassVar[list[tuple[time, dict[str, Any]]]] = [
        (time(9, 0), {"set": {"lost_replies": 2, "lost_reply_hold_s": 1.0}}),
        (time(9, 40), {"set": {"rate_limits": 4, "server_errors": 2}}),
        (time(10, 0), {"set": {"duplicate_notices": True, "reorder_notices": True}}),
        (time(10, 30), {"external": True}),
        (time(11, 0), {"drop_websockets": True}),
        (time(13, 0), {"expire_tokens": True}),
    ]

    def on_bar(self, code: StockCode, bar: MarketBar) -> None:
        super().on_bar(code, bar)
        while self.schedule and bar.start.time() >= self.schedule[0][0]:
            _, action = self.schedule.pop(0)
            if action.pop("external", False):
                self.external_trade(OUTSIDE, Side.BUY, EXTERNAL_SHARES, bar.close)
            else:
                response = httpx.post(self.rest.base_url + "/_mock/faults", json=action)
                response.raise_for_status()


@pytest.fixture
def faulty(market_root: Path, tmp_path: Path) -> Iterator[tuple[MaemaeConfig, MockServer]]:
    config = make_config(market_root, **CONFIGS["all_risk_rules"])
    market, _ = load_market(config, DAY, DAY)

    def make(clock: Any) -> Any:
        return make_sim_exchange(config, market.calendar, market.instruments, clock)

    server = MockServer(make, settings=MockSettings(token_interval_s=0.1)).start()
    yield config, server
    server.stop()


def test_paper_when_every_kis_fault_injected_then_day_completes_and_book_equals_server(
    faulty: tuple[MaemaeConfig, MockServer], tmp_path: Path
) -> None:
    config, server = faulty
    market, days = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
    kis = server.broker_config(config.broker.kis).model_copy(
        update={"token_cache": tmp_path / "token.json", "timeout_seconds": 0.5, "requests_per_second": 1000}
    )
    venue = FaultyKisVenue.from_config(
        kis,
        clock=clock.now,
        trade_codes=[str(c) for c in market.instruments],
        environ=server.environment(kis),
        sleep=lambda seconds: wall.sleep(
            min(seconds, 0.2)
        ),  # KIS's minute between tokens: the server's 0.1 s
    )
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        outcome = run_persisted_replay(config, market, days, venue, store, clock)
        engine = outcome.engine
        stats = httpx.get(server.base_url + "/_mock/stats").json()
        assert not venue.schedule  # every fault was injected
        assert stats["lost_replies"] == 2
        assert stats["rate_limited"] == 4
        assert stats["ws_dropped"] >= 1
        assert stats["tokens_issued"] == 2
        assert venue.stream is not None
        assert venue.stream.reconnects >= 1
        orders = list(engine.orders.orders.values())
        settled = [
            o for o in orders if any(f"{SETTLED_BY_QUERY} found at the broker" in t.note for t in o.history)
        ]
        assert len(settled) == 2  # the two orders whose replies were lost: found, not sent again
        sent = [o for o in orders if o.broker_order_no is not None]
        book = httpx.get(server.base_url + "/_mock/book").json()
        assert len({row["odno"] for row in book["orders"] if not row["orgn_odno"]}) == len(sent) + 1
        # the external shares: reconciled into the account quantity, never owned, never sold
        position = engine.portfolio.positions[OUTSIDE]
        assert position.account_quantity == position.owned_quantity + EXTERNAL_SHARES
        assert all(o.state is not OrderState.UNKNOWN for o in orders)
        # at the close maemae's book is the server's
        assert book_differences(engine.orders, engine.portfolio, venue, venue.all_orders()) == []
        assert store.verify_audit().ok
    finally:
        venue.close()
        store.close()


def test_paper_when_killed_then_resumes_against_the_kis_mock_process(
    market_root: Path, tmp_path: Path
) -> None:
    config_file = _config(market_root, tmp_path)
    maemae = [sys.executable, "-m", "maemae.cli"]
    with kis_mock_process(config_file) as url:
        paper = [*maemae, "paper", "--config", str(config_file), "--replay", DAY.isoformat()]
        paper += ["--broker", "kis-mock", "--exchange", url]
        first = subprocess.Popen([*paper, "--speed", "3000"], stdout=subprocess.PIPE, text=True)
        reached = _wait_for_cursor(f"sqlite:///{tmp_path}/state.db", 150, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = subprocess.run([*paper, "--speed", "0"], capture_output=True, text=True, timeout=180)
        assert second.returncode == 0, second.stderr
        assert f"resumed {DAY} at step" in second.stdout
        assert int(second.stdout.split("at step ")[1].split()[0]) >= reached
        assert "book: maemae's orders, holdings and cash equal the venue's" in second.stdout
        book = httpx.get(url + "/_mock/book").json()
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        saved = store.load(DAY)
        assert store.verify_audit().ok
        assert not [o for o in saved.orders if o.is_open]
        numbers = {o.broker_order_no for o in saved.orders if o.broker_order_no}
        assert numbers <= {row["odno"] for row in book["orders"]}  # every order sent once, none twice
        assert len(book["orders"]) == len(numbers) + sum(1 for r in book["orders"] if r["orgn_odno"])
    finally:
        store.close()


@pytest.mark.parametrize("server", ["nothing listening", "not the KIS server"])
def test_paper_when_the_kis_mock_url_does_not_answer_as_kis_mock_then_one_line(
    market_root: Path, tmp_path: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listening is a lost connection (exit 7: a supervisor may wait for the server to come up);
    a server that is not ``maemae kis-mock`` is a wrong --exchange (exit 2). Either is one error line,
    beside the log line of the alert it sends; the adapter's stream thread used to log the refused
    connection too, before anything was checked."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        if server == "nothing listening":
            url = f"http://127.0.0.1:{held.getsockname()[1]}"
            code = main(_kis_mock_paper(market_root, tmp_path, url))
        else:
            files = partial(_QuietFiles, directory=str(tmp_path))
            with ThreadingHTTPServer(("127.0.0.1", 0), files) as other:
                Thread(target=other.serve_forever, daemon=True).start()
                url = f"http://127.0.0.1:{other.server_address[1]}"
                try:
                    code = main(_kis_mock_paper(market_root, tmp_path, url))
                finally:
                    other.shutdown()
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if not line.startswith("[warning  ] alert ")]
    assert len(errors) == 1, lines
    if server == "nothing listening":
        assert code == 7
        assert errors[0].startswith(f"error: kis-mock {url}: cannot connect (")
        assert errors[0].endswith(
            "is `maemae kis-mock` running?; the state is saved: the same command goes on from it "
            "(--supervise restarts it by itself)"
        )
    else:
        assert code == 2
        assert errors[0] == (
            f"error: --exchange {url}: answered HTTP 404 where `maemae kis-mock` serves /_mock/stats: "
            "expected the URL of a running `maemae kis-mock`"
        )


def _kis_mock_paper(market_root: Path, tmp_path: Path, url: str) -> list[str]:
    config = _config(market_root, tmp_path)
    args = ["paper", "--config", str(config), "--replay", DAY.isoformat(), "--broker", "kis-mock"]
    return [*args, "--exchange", url, "--speed", "0"]


class _QuietFiles(SimpleHTTPRequestHandler):
    """An HTTP server that is not the KIS one (it answers 404 to /_mock/stats), logging nothing to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass
