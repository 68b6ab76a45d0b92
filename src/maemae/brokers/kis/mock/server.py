"""Running the local KIS server: in a thread of this process (tests, ``maemae paper --broker kis-mock``) or
as ``maemae kis-mock`` in a process of its own. It listens on 127.0.0.1 only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import uvicorn

from maemae.brokers.kis.mock.account import MockAccount
from maemae.brokers.kis.mock.app import MockSettings, MockState, create_app
from maemae.brokers.kis.mock.port import check_port
from maemae.brokers.kis.mock.replay import MarketReplay
from maemae.brokers.sim.exchange import SimExchange
from maemae.config.broker import KisBrokerConfig
from maemae.data.store import BarStore
from maemae.domain.codes import StockCode
from maemae.errors import ConfigError

LOOPBACK = "127.0.0.1"


class MockServer:
    """The server on a background thread; ``start`` returns once it accepts connections."""

    def __init__(
        self,
        make_exchange: Callable[[Callable[[], datetime]], SimExchange],
        *,
        settings: MockSettings | None = None,
        history: BarStore | None = None,
        names: Mapping[StockCode, str] | None = None,
        port: int = 0,
        replay: MarketReplay | None = None,
    ) -> None:
        check_port(LOOPBACK, port)  # one line for a bad or taken port, before anything starts
        self.settings = settings or MockSettings()
        account = MockAccount(
            make_exchange, account=self.settings.account, hts_id=self.settings.hts_id, names=names
        )
        self.state = MockState(account, self.settings, history, replay)
        config = uvicorn.Config(
            create_app(self.state),
            host=LOOPBACK,
            port=port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            ws_ping_interval=None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="kis-mock", daemon=True)
        self.port = port

    def start(self, timeout: float = 10.0) -> MockServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"kis-mock: the server did not start on {LOOPBACK}:{self.port}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def serve_forever(self, ready: Callable[[str], None]) -> None:
        """Run in this thread until interrupted (``maemae kis-mock``); ``ready`` gets the base URL."""
        self.start()
        ready(self.base_url)
        try:
            self._thread.join()
        except KeyboardInterrupt:
            self.stop()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{LOOPBACK}:{self.port}/tryitout"

    def broker_config(self, base: KisBrokerConfig | None = None) -> KisBrokerConfig:
        """A KIS broker config pointed at this server (paper or real as the server is)."""
        config = base or KisBrokerConfig()
        return config.model_copy(
            update={"base_url": self.base_url, "ws_url": self.ws_url, "paper": self.settings.paper}
        )

    def environment(self, base: KisBrokerConfig | None = None) -> dict[str, str]:
        """The environment variables the adapter reads its secrets from, holding this server's."""
        return mock_environment(base or KisBrokerConfig(), self.settings)


def mock_environment(config: KisBrokerConfig, settings: MockSettings | None = None) -> dict[str, str]:
    """The 'secrets' of a local KIS server, under the variable names ``config`` reads: never real ones."""
    settings = settings or MockSettings()
    return {
        config.app_key_env: settings.app_key,
        config.app_secret_env: settings.app_secret,
        config.account_env: settings.account,
        config.hts_id_env: settings.hts_id,
    }
