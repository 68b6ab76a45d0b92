"""``KisMockVenue``: the KIS adapter, plus the market feed of the local KIS server, as a simulated venue.

A replayed paper day through KIS (``maemae paper --broker kis-mock``) trades through the real adapter over
HTTP and the WebSocket, exactly as it would trade with KIS; only the market moves differently: the replay
driver feeds the day's bars to the server's control API (``/_mock/feed``) instead of the market moving by
itself. Bars are sent in one request per step, just before the next KIS request (or poll), and the adapter
is told to read the day's orders after every feed, so the replay does not depend on when notices arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import httpx

from maemae.brokers.kis.adapter import KisBroker
from maemae.brokers.kis.rest import KisRest
from maemae.brokers.kis.stream import KisStream
from maemae.brokers.sim.matching import MarketBar
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.errors import BrokerConnectionLost, ConfigError
from maemae.krx.limits import PriceLimits
from maemae.ports.broker import (
    BrokerEvent,
    BrokerOrder,
)


def check_kis_mock(url: str) -> None:
    """Asks the server at ``url`` for the local KIS server's statistics before the adapter connects: a
    server that is not running, or is not ``maemae kis-mock``, is then one line. Without it the adapter's
    stream thread and its alert each logged the refused connection before the run's own error line."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/_mock/stats", timeout=5)
    except httpx.HTTPError as error:
        raise BrokerConnectionLost(
            f"kis-mock {url}: cannot connect ({error}): is `maemae kis-mock` running?"
        ) from None
    if response.status_code != 200:
        raise ConfigError(
            f"--exchange {url}: answered HTTP {response.status_code} where `maemae kis-mock` serves "
            "/_mock/stats: expected the URL of a running `maemae kis-mock`"
        )


class KisMockVenue(KisBroker):
    """Build it like the adapter (``KisMockVenue.from_config``); the control API is on the same server."""

    def __init__(
        self,
        rest: KisRest,
        *,
        clock: Callable[[], datetime],
        stream: KisStream | None = None,
        order_poll_seconds: float = 10.0,
    ) -> None:
        super().__init__(rest, clock=clock, stream=stream, order_poll_seconds=order_poll_seconds)
        self._control = httpx.Client(base_url=rest.base_url, timeout=60)
        rest.before_request = self._flush  # every KIS request first delivers the bars that are due
        self._bars: list[dict[str, Any]] = []
        self._limits: dict[StockCode, PriceLimits] = {}
        self._server_time: datetime | None = None

    def close(self) -> None:
        self._control.close()
        super().close()

    # ----- the replay feed
    def start_day(self, day: date, base_prices: Mapping[StockCode, int]) -> None:
        self._flush()
        self._post(
            "/_mock/feed/start_day",
            {"day": day.isoformat(), "base_prices": {str(c): p for c, p in base_prices.items()}},
        )
        limits = self._get("/_mock/feed/limits")
        self._limits = {StockCode(c): PriceLimits(upper=u, lower=lo) for c, (u, lo) in limits.items()}

    def limits(self, code: StockCode) -> PriceLimits | None:
        return self._limits.get(code)

    def on_bar(self, code: StockCode, bar: MarketBar) -> None:
        self._bars.append(
            {
                "code": str(code),
                "start": bar.start.isoformat(),
                "open": bar.open,
                "high": bar.high,
                "low": bar.low,
                "close": bar.close,
                "volume": bar.volume,
                "upper": bar.limits.upper,
                "lower": bar.limits.lower,
                "closing_auction": bar.closing_auction,
            }
        )

    def end_day(self) -> None:
        self._flush()
        self._post("/_mock/feed/end_day", {})
        self.request_sync()

    def all_orders(self) -> list[BrokerOrder]:
        self._flush()
        return self._day_orders()

    def external_trade(self, code: StockCode, side: Side, quantity: int, price: int) -> str:
        """A trade in the account made outside maemae (fault injection for paper runs and tests)."""
        self._flush()
        reply = self._post(
            "/_mock/external_trade",
            {"code": str(code), "side": side.value, "quantity": quantity, "price": price},
        )
        return str(reply["odno"])

    def _flush(self) -> None:
        """Deliver the bars fed since the last request, or at least the time: the server's clock is the
        replay's (an order sent at 09:05 must reach an exchange that knows it is 09:05)."""
        now = self._clock()
        if self._bars:
            bars, self._bars = self._bars, []
            self._post("/_mock/feed/bars", {"bars": bars})
            if self._queried.working:  # only working orders can have traded on these bars
                self.request_sync()
        elif now != self._server_time:
            self._post("/_mock/feed/clock", {})
        self._server_time = now

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = self._control.post(path, json={"now": self._clock().isoformat(), **body})
        except httpx.HTTPError as error:
            raise BrokerConnectionLost(f"kis-mock {path}: {error!r}") from None
        response.raise_for_status()
        return response.json()

    def _get(self, path: str) -> Any:
        try:
            response = self._control.get(path)
        except httpx.HTTPError as error:
            raise BrokerConnectionLost(f"kis-mock {path}: {error!r}") from None
        response.raise_for_status()
        return response.json()

    def poll_events(self) -> list[BrokerEvent]:
        self._flush()  # the bars must reach the server even when no query follows
        return super().poll_events()
