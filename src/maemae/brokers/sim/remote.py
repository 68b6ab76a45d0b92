"""The simulated exchange in a process of its own, and the broker adapter that talks to it.

A real broker outlives maemae: when maemae crashes, its orders keep working and fill at the exchange, and a
restarted maemae must find them there. To test that for real, the exchange runs in a separate process
(:func:`serve`) and maemae reaches it over a local socket (:class:`RemoteExchange`), through the same broker
port as every other adapter. The trader replaying a day feeds the bars (``start_day``, ``on_bar``,
``end_day``) the way a market would move; feeding a bar the exchange has already traded changes nothing, so
a restarted trader can replay the step it crashed in.

The protocol is ``multiprocessing.connection`` on 127.0.0.1 with an authentication key: each request is
``(method, args, now)``; the reply is ``("ok", result)`` or ``("error", exception)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

import structlog

from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.matching import MarketBar
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.errors import BrokerConnectionLost, ConfigError, MaemaeError, RetryableBrokerError, first_line
from maemae.krx.limits import PriceLimits
from maemae.ports.broker import (
    BrokerEvent,
    BrokerFill,
    BrokerOrder,
    CashBalance,
    Holding,
    OrderAck,
    OrderRequest,
    Quote,
)

Address = tuple[str, int]
log = structlog.get_logger("maemae.sim")

_PORT_METHODS = frozenset(
    {
        "submit",
        "cancel",
        "modify",
        "open_orders",
        "order_status",
        "find_orders",
        "fills_today",
        "orders_of_day",
        "cash",
        "holdings",
        "current_prices",
        "poll_events",
    }
)
_FEED_METHODS = frozenset(
    {"start_day", "limits", "open_bar", "on_bar", "end_day", "all_orders", "external_trade"}
)


class ExchangeHost:
    """The server side: one ``SimExchange`` whose clock is the time each request carries, and whose market
    feed is idempotent (a day started twice, or a bar fed twice, is traded once)."""

    def __init__(self, make_exchange: Callable[[Callable[[], datetime]], SimExchange]) -> None:
        self._now: datetime | None = None
        self.exchange = make_exchange(self.now)
        self._day: date | None = None
        self._traded: dict[StockCode, int] = {}
        self._opened: dict[StockCode, int] = {}
        self._ended: date | None = None

    def now(self) -> datetime:
        assert self._now is not None, "a request always carries its time"
        return self._now

    @property
    def day(self) -> date | None:
        return self._day

    def advance(self, now: datetime) -> None:
        """Move the exchange's clock to ``now``; it never goes back."""
        if self._now is None or now > self._now:
            self._now = now

    @property
    def clock_set(self) -> bool:
        return self._now is not None

    def handle(self, method: str, args: tuple[Any, ...], now: datetime) -> Any:
        if method not in _PORT_METHODS | _FEED_METHODS:
            raise RetryableBrokerError(f"sim server: unknown method {method!r}")
        self.advance(now)
        return (
            getattr(self, method)(*args) if method in _FEED_METHODS else getattr(self.exchange, method)(*args)
        )

    def start_day(self, day: date, base_prices: Mapping[StockCode, int]) -> None:
        if self._day != day:
            self._day, self._traded, self._opened = day, {}, {}
            self.exchange.start_day(day, base_prices)

    def limits(self, code: StockCode) -> PriceLimits | None:
        return self.exchange.limits(code)

    def open_bar(self, code: StockCode, bar: MarketBar) -> None:
        stamp = int(bar.start.timestamp() * 1_000_000)
        if max(self._opened.get(code, -1), self._traded.get(code, -1)) >= stamp:
            return
        self._opened[code] = stamp
        self.exchange.open_bar(code, bar)

    def on_bar(self, code: StockCode, bar: MarketBar) -> None:
        stamp = int(bar.start.timestamp() * 1_000_000)
        if self._traded.get(code, -1) >= stamp:
            return
        self._traded[code] = stamp
        self.exchange.on_bar(code, bar)

    def end_day(self) -> None:
        if self._ended != self._day:
            self._ended = self._day
            self.exchange.end_day()

    def all_orders(self) -> list[BrokerOrder]:
        return self.exchange.all_orders()

    def external_trade(self, code: StockCode, side: Side, quantity: int, price: int) -> str:
        return self.exchange.external_trade(code, side, quantity, price)


def serve(
    address: Address,
    authkey: bytes,
    make_exchange: Callable[[Callable[[], datetime]], SimExchange],
    ready: Callable[[Address], None] | None = None,
) -> None:
    """Serve one exchange until the process is stopped; traders may connect, die and reconnect.

    The address is bound before the exchange is built, so a port out of range or taken is refused in one
    line (``ConfigError``, exit 2) with nothing started, instead of ``OverflowError`` or ``OSError``
    tracebacks.
    """
    with listen(address, authkey) as listener:
        host = ExchangeHost(make_exchange)
        if ready is not None:
            ready(listener.address)
        while True:
            try:
                connection = listener.accept()
            except (AuthenticationError, EOFError, OSError) as error:
                # a stray caller (a browser, a port scan, a client with another key) is turned away alone:
                # the exchange, with every trader's orders and holdings, keeps serving
                log.warning("sim_connection_refused", reason=first_line(error))
                continue
            with connection:
                _serve_connection(host, connection)


def check_port(port: int) -> None:
    """``--port``: 0 (the system picks a free port, printed when listening) or 1..65535."""
    if not 0 <= port < 65_536:
        raise ConfigError(f"--port = {port}: expected a port number from 1 to 65535 (or 0: any free port)")


def listen(address: Address, authkey: bytes) -> Listener:
    """A listener bound to ``address``; a port out of range or one that cannot be bound is one line."""
    host, port = address
    check_port(port)
    try:
        return Listener(address, authkey=authkey)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigError(f"--port = {port}: cannot listen on {host}: {reason}") from None


def _serve_connection(host: ExchangeHost, connection: Connection) -> None:
    while True:
        try:
            method, args, now = connection.recv()
        except (EOFError, ConnectionError, OSError):
            return  # the trader went away (maybe killed): wait for the next one
        try:
            reply: tuple[str, Any] = ("ok", host.handle(method, args, now))
        except MaemaeError as error:
            reply = ("error", error)
        try:
            connection.send(reply)
        except (ConnectionError, OSError):
            return


# multiprocessing's connections have no timeouts of their own: a port that answers nothing (another service,
# a frozen `sim serve`) hung the run for good, holding its store's lock, instead of ending it with exit 7
CONNECT_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 60.0  # one call's reply; the slowest, a big book's close, takes well under a second


def _connect(address: Address, authkey: bytes) -> Connection:
    """``Client`` in a daemon thread, waited for at most ``CONNECT_TIMEOUT_S``: its handshake reads without
    a timeout, and a daemon thread left waiting does not keep the process from exiting."""
    outcome: list[Connection | BaseException] = []

    def connect() -> None:
        try:
            outcome.append(Client(address, authkey=authkey))
        except BaseException as error:  # raised in the caller's thread, as Client would have raised it
            outcome.append(error)

    thread = threading.Thread(target=connect, name="sim-exchange-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S)
    if not outcome:
        raise TimeoutError(f"no answer to the handshake in {CONNECT_TIMEOUT_S:g} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


class RemoteExchange:
    """The broker port (and the replay feed) over a connection to :func:`serve`."""

    name = "sim"

    def __init__(self, address: Address, authkey: bytes, clock: Callable[[], datetime]) -> None:
        self._connection = _connect(address, authkey)
        self._clock = clock

    def close(self) -> None:
        self._connection.close()

    def _call(self, method: str, *args: Any) -> Any:
        try:
            self._connection.send((method, args, self._clock()))
            if not self._connection.poll(REPLY_TIMEOUT_S):
                self._connection.close()  # a late reply must not be read as the next call's
                raise BrokerConnectionLost(f"sim exchange: no reply to {method} in {REPLY_TIMEOUT_S:g} s")
            status, value = self._connection.recv()
        except (EOFError, ConnectionError, OSError) as error:
            raise BrokerConnectionLost(f"sim exchange: connection lost ({error!r})") from None
        if status == "error":
            raise value
        return value

    # ----- the replay feed
    def start_day(self, day: date, base_prices: Mapping[StockCode, int]) -> None:
        self._call("start_day", day, dict(base_prices))

    def limits(self, code: StockCode) -> PriceLimits | None:
        result: PriceLimits | None = self._call("limits", code)
        return result

    def on_bar(self, code: StockCode, bar: MarketBar) -> None:
        self._call("on_bar", code, bar)

    def end_day(self) -> None:
        self._call("end_day")

    def all_orders(self) -> list[BrokerOrder]:
        result: list[BrokerOrder] = self._call("all_orders")
        return result

    def external_trade(self, code: StockCode, side: Side, quantity: int, price: int) -> str:
        """A trade outside maemae in the exchange's account (fault injection for paper runs and tests)."""
        result: str = self._call("external_trade", code, side, quantity, price)
        return result

    # ----- the broker port
    def submit(self, request: OrderRequest) -> OrderAck:
        result: OrderAck = self._call("submit", request)
        return result

    def cancel(self, broker_order_no: str, code: StockCode, quantity: int | None = None) -> OrderAck:
        result: OrderAck = self._call("cancel", broker_order_no, code, quantity)
        return result

    def modify(
        self, broker_order_no: str, code: StockCode, price: int, quantity: int | None = None
    ) -> OrderAck:
        result: OrderAck = self._call("modify", broker_order_no, code, price, quantity)
        return result

    def open_orders(self) -> list[BrokerOrder]:
        result: list[BrokerOrder] = self._call("open_orders")
        return result

    def order_status(self, broker_order_no: str) -> BrokerOrder | None:
        result: BrokerOrder | None = self._call("order_status", broker_order_no)
        return result

    def find_orders(self, code: StockCode, side: Side) -> list[BrokerOrder]:
        result: list[BrokerOrder] = self._call("find_orders", code, side)
        return result

    def fills_today(self) -> list[BrokerFill]:
        result: list[BrokerFill] = self._call("fills_today")
        return result

    def orders_of_day(self, day: date) -> list[BrokerOrder] | None:
        result: list[BrokerOrder] | None = self._call("orders_of_day", day)
        return result

    def cash(self) -> CashBalance:
        result: CashBalance = self._call("cash")
        return result

    def holdings(self) -> list[Holding]:
        result: list[Holding] = self._call("holdings")
        return result

    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]:
        result: dict[StockCode, Quote] = self._call("current_prices", list(codes))
        return result

    def poll_events(self) -> list[BrokerEvent]:
        result: list[BrokerEvent] = self._call("poll_events")
        return result
