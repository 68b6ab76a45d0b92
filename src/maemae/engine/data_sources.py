"""Which market-data source ``maemae data fetch|update --source`` names, made ready to use."""

from __future__ import annotations

from maemae.brokers.history import BrokerHistory
from maemae.config import MaemaeConfig
from maemae.data.sources.base import BarSource
from maemae.data.sources.fdr_source import FdrSource
from maemae.data.sources.pykrx_source import PykrxSource
from maemae.engine.clock import WallClock
from maemae.errors import ConfigError

SOURCES = ("pykrx", "fdr", "kis", "creon")


def open_source(name: str, config: MaemaeConfig | None) -> BarSource:
    """The source; the brokers need the config (``--config``) for their account and keys."""
    if name == "pykrx":
        return PykrxSource()
    if name == "fdr":
        return FdrSource()
    if name not in SOURCES:
        raise ConfigError(f"--source {name!r}: expected one of {', '.join(SOURCES)}")
    if config is None:
        raise ConfigError(f"--source {name}: needs --config (the broker's account and keys)")
    clock = WallClock()
    if name == "kis":
        from maemae.brokers.kis.adapter import KisBroker

        kis = KisBroker.from_config(
            config.broker.kis.model_copy(update={"websocket": False}), clock=clock.now
        )
        return BrokerHistory("kis", kis, kis.close)
    from maemae.brokers.creon.adapter import CreonBroker
    from maemae.brokers.creon.com import Win32Runtime

    return BrokerHistory("creon", CreonBroker(Win32Runtime(), clock=clock.now, config=config.broker.creon))
