"""``FakeCreon``: what stands behind the fake COM objects: a logged-in Creon Plus and Daishin's server.

The order book, matching, cash, T+2 settlement and holdings are the simulated exchange's (``brokers.sim``)
behind a :class:`~maemae.brokers.sim.fed.FedExchange`; this module adds what Creon does its own way:
integer order numbers (a modify gets a new one), per-fill ``CpConclusion`` events (a partial fill is several
events), the request limits with their return codes (an order request over 20 per 15 s returns 4 and is not
sent; a quote request over 60 per 15 s waits inside the call), at most 400 subscriptions, and the faults a
Creon session has: a lost connection (every request fails with 1 and ``IsConnect`` is 0), refusals
(``GetDibStatus`` -1 with a message), events lost in transit.

The request limits count seconds on :class:`LimitTime`, which moves with the market clock and with every
wait of the adapter: Creon's 15-second window is wall time, which keeps moving while a client waits.

Events are queued and delivered only when the subscribing thread pumps its COM messages
(``FakeRuntime.pump``), as with a real STA COM server.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from maemae.brokers.creon import protocol
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.fed import FedExchange
from maemae.brokers.sim.matching import MarketBar
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.ports.broker import BrokerFill, BrokerOrder, BrokerOrderStatus, OrderUpdate

Headers = dict[int, Any]


@dataclass(slots=True)
class FakeFaults:
    """Faults to inject; each count is used up as it fires."""

    refuse_orders: int = 0  # the next order requests end with GetDibStatus -1 (a server refusal)
    lost_events: int = 0  # the next CpConclusion events never arrive
    limit_hits: int = 0  # the next order requests return 4 (over the limit, not sent)
    lost_replies: int = 0  # the next new orders are placed but the request returns 1 (communication failure)


@dataclass(slots=True)
class _Extra:
    """What Creon shows about an order that the simulated exchange does not keep."""

    amount: int = 0
    original: int = 0
    kind: str = protocol.KIND_NORMAL
    rejection: str = ""


@dataclass(slots=True)
class _Buckets:
    """Request times per limit type, on the fake's own clock (seconds)."""

    times: dict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))


class LimitTime:
    """The wall time Creon's request limits count on, as the fake lives it: seconds that only move forward.

    A replay's market clock stands for the wall clock of the day replayed, so a day at ``--speed 0`` or 60
    gets the budget the live day had (on the real monotonic clock, the ~1,100 account queries of a sample
    day squeezed into seconds would take a quarter of an hour of waiting). But the market clock stands
    still while the adapter waits, and after the day's last bar: counted on it alone, the checks after the
    close spent the budget and no wait brought it back. So these seconds move with every forward move of
    the market clock and with every wait of the adapter (``wait``: its ``sleep`` in a replay), as wall time
    moves while a real client waits; a backward move (today's date, then the replayed day's) adds nothing.
    """

    def __init__(self, market: Callable[[], datetime]) -> None:
        self._market = market
        self._last: datetime | None = None
        self._seconds = 0.0

    def __call__(self) -> float:
        now = self._market()
        if self._last is not None and now > self._last:
            self._seconds += (now - self._last).total_seconds()
        if self._last is None or now != self._last:
            self._last = now  # a backward move (the clock set to the replayed day) adds nothing
        return self._seconds

    def wait(self, seconds: float) -> None:
        """The adapter waited ``seconds`` for the budget: that much time passed."""
        self._seconds += max(0.0, seconds)


class FakeCreon(FedExchange):
    def __init__(
        self,
        make_exchange: Callable[[Callable[[], datetime]], SimExchange],
        *,
        account: str = "333000111",
        goods: str = "01",
        admin: bool = True,
        trade_init: int = 0,
        limit_clock: Callable[[], float] | None = None,
        limit_window_s: float = protocol.LIMIT_WINDOW_S,
        sleep: Callable[[float], None] | None = None,
        names: Mapping[StockCode, str] | None = None,
        market_clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(make_exchange)
        self.market_clock = market_clock  # the time a request arrives at (a replay's clock)
        self.account, self.goods = account, goods
        self.admin, self.trade_init_result = admin, trade_init
        self.connected = True
        self.faults = FakeFaults()
        self.names = dict(names or {})
        self.window = limit_window_s
        self.limit_time = LimitTime(lambda: self.now)
        self._limit_clock = limit_clock or self.limit_time
        self._sleep = sleep
        self._buckets = _Buckets()
        self.subscriptions = 0
        self.requests: dict[str, int] = defaultdict(int)  # ProgID -> BlockRequest calls (tests count them)
        self.events: deque[tuple[str, Headers]] = deque()  # (ProgID, headers), waiting for a pump
        self._extra: dict[int, _Extra] = defaultdict(_Extra)

    # ----- time
    @property
    def now(self) -> datetime:
        return self.host.now() if self.host.clock_set else datetime.now(KST)

    def tick(self) -> None:
        """A request arrives: the exchange's clock moves to the market's time."""
        if self.market_clock is not None:
            self.host.advance(self.market_clock())

    # ----- limits (ref 2.3)
    def wait(self, seconds: float) -> None:
        """A client waited ``seconds`` for the budget (the adapter's ``sleep`` in a replay): on Creon's wall
        clock that time has passed, while the replay's market clock has not moved."""
        self.limit_time.wait(seconds)

    def remain_count(self, kind: int) -> int:
        if kind == protocol.LT_SUBSCRIBE:
            return protocol.SUBSCRIPTION_LIMIT - self.subscriptions
        return self._limit(kind) - len(self._window(kind))

    def remain_time_ms(self) -> int:
        """Until the fullest bucket frees a request (Creon's ``LimitRequestRemainTime``)."""
        waits = [
            self._window(kind)[0] + self.window - self._limit_clock()
            for kind in (protocol.LT_TRADE_REQUEST, protocol.LT_NONTRADE_REQUEST)
            if self.remain_count(kind) <= 0
        ]
        return max(0, int(max(waits, default=0.0) * 1000))

    def take(self, kind: int) -> bool:
        """Count one request; False when it is over the limit (an order request is then not sent)."""
        if self.remain_count(kind) <= 0:
            if kind == protocol.LT_NONTRADE_REQUEST and self._sleep is not None:
                self._sleep(self.remain_time_ms() / 1000)  # quotes: Creon waits inside the call
                self._window(kind)
            else:
                return False
        self._buckets.times[kind].append(self._limit_clock())
        return True

    def _window(self, kind: int) -> deque[float]:
        times = self._buckets.times[kind]
        while times and times[0] <= self._limit_clock() - self.window:
            times.popleft()
        return times

    @staticmethod
    def _limit(kind: int) -> int:
        return protocol.TRADE_LIMIT if kind == protocol.LT_TRADE_REQUEST else protocol.QUOTE_LIMIT

    # ----- the market feed (a replay driver's calls: ``FedExchange``)
    def publish_bar(self, code: StockCode, bar: MarketBar) -> None:
        self.events.append((protocol.STOCK_CUR, self._trade_headers(code, bar)))

    def external_trade(self, code: StockCode, side: Side, quantity: int, price: int, now: datetime) -> int:
        return creon_number(self.place_external_trade(code, side, quantity, price, now))

    def disconnect(self) -> None:
        """The HTS lost its connection: requests fail with 1, ``IsConnect`` is 0, events stop."""
        self.connected = False
        self.events.clear()

    # ----- orders and queries, as the objects ask
    def order_rows(self) -> list[tuple[BrokerOrder, _Extra]]:
        return [
            (order, self._extra[creon_number(order.broker_order_no)])
            for order in self.host.exchange.all_orders()
        ]

    def extra(self, number: int) -> _Extra:
        return self._extra[number]

    def event(self, headers: Headers) -> None:
        if self.faults.lost_events > 0:
            self.faults.lost_events -= 1
            return
        self.events.append((protocol.CONCLUSION, {protocol.EVENT_ACCOUNT: self.account, **headers}))

    def drain(self) -> None:
        """The exchange's fills and cancellations as Creon's per-fill events."""
        for happened in self.host.exchange.poll_events():
            number = creon_number(happened.broker_order_no)
            view = self.host.exchange.order_status(happened.broker_order_no)
            if view is None:
                continue
            if isinstance(happened, BrokerFill):
                self._extra[number].amount += happened.quantity * happened.price
                self.event(
                    conclusion(
                        view,
                        number,
                        protocol.STATUS_FILL,
                        happened.quantity,
                        happened.price,
                        self.balance(view.code),
                    )
                )
            elif isinstance(happened, OrderUpdate) and happened.status is BrokerOrderStatus.CANCELLED:
                headers = conclusion(
                    view,
                    number,
                    protocol.STATUS_CONFIRM,
                    happened.cancelled_quantity,
                    0,
                    self.balance(view.code),
                )
                headers[protocol.EVENT_KIND] = protocol.KIND_CANCEL
                headers[protocol.EVENT_ORIGINAL] = number
                self.event(headers)

    def balance(self, code: StockCode) -> int:
        held = {h.code: h.quantity for h in self.host.exchange.holdings()}
        return held.get(code, 0)

    def _trade_headers(self, code: StockCode, bar: MarketBar) -> Headers:
        bars = self.minutes[code]
        base = self.base_prices.get(code, bar.open)
        return {
            protocol.CUR_CODE: protocol.creon_code(code),
            protocol.CUR_CHANGE: bar.close - base,
            protocol.CUR_OPEN: bars[0].open,
            protocol.CUR_HIGH: max(b.high for b in bars),
            protocol.CUR_LOW: min(b.low for b in bars),
            protocol.CUR_VOLUME: sum(b.volume for b in bars),
            protocol.CUR_PRICE: bar.close,
            protocol.CUR_TIME: int(f"{bar.start:%H%M%S}"),
            protocol.CUR_SESSION: protocol.CUR_REGULAR,
        }


def creon_number(sim_number: str) -> int:
    return int(sim_number.lstrip("S"))


def sim_number(number: int) -> str:
    return f"S{number:07d}"


def conclusion(
    view: BrokerOrder, number: int, status: str, quantity: int, price: int, balance: int
) -> Headers:
    """A CpConclusion event's headers (ref 2.5)."""
    return {
        protocol.EVENT_QUANTITY: quantity,
        protocol.EVENT_PRICE: price,
        protocol.EVENT_NUMBER: number,
        protocol.EVENT_ORIGINAL: 0,
        protocol.EVENT_CODE: protocol.creon_code(view.code),
        protocol.EVENT_SIDE: protocol.SIDE_CODES[view.side],
        protocol.EVENT_STATUS: status,
        protocol.EVENT_KIND: protocol.KIND_NORMAL,
        protocol.EVENT_PRICE_TYPE: protocol.PRICE_TYPES.get(view.order_type, "01"),
        protocol.EVENT_BALANCE: balance,
    }
