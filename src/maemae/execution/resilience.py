"""Broker faults handled in one place: rate limits per bucket, read retries, a circuit breaker for orders.

``ResilientBroker`` wraps any broker adapter behind the same port, so the order manager and recovery get the
same guarantees from the simulator, KIS and Creon:

* **Rate limits.** Every request takes a token from its bucket (orders, or queries) before it leaves; when the
  bucket is empty the call waits for the next token instead of being refused by the broker.
* **Retries for reads only.** A query that fails with ``RetryableBrokerError`` is tried again with exponential
  backoff (tenacity), up to a limit, then the error goes up: an account that could not be read is unknown.
  Order requests are **never** retried here: a submit that may have been sent is settled by a query
  (``SubmitOutcomeUnknown``), never by sending it again.
* **Circuit breaker.** After N rejected orders in a row (a wrong account, a halted market, a strategy bug)
  new orders are refused locally for a cool-down, so a loop does not hammer the broker with doomed orders;
  the first order after the cool-down is a trial: accepted closes the circuit, rejected opens it again.

Time and sleep are injected, so the tests run in milliseconds and the live loop uses the real ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from maemae.config.execution import ResilienceConfig
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.errors import OrderRejected, RetryableBrokerError
from maemae.pacing import Monotonic, Sleep, TokenBucket
from maemae.ports.broker import (
    Broker,
    BrokerEvent,
    BrokerFill,
    BrokerOrder,
    CashBalance,
    Holding,
    OrderAck,
    OrderRequest,
    Quote,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RateLimits:
    """A broker's request budget per bucket (KIS: 20/s real, about 2/s paper; Creon: 20 orders and 60
    queries per 15 s). The simulator has none."""

    orders_per_second: float
    orders_burst: int
    queries_per_second: float
    queries_burst: int


class _Unlimited:
    def take(self) -> float:
        return 0.0


@dataclass(slots=True)
class CircuitBreaker:
    """Opens after ``threshold`` consecutive rejects; stays open ``cooldown_s`` seconds."""

    threshold: int
    cooldown_s: float
    monotonic: Monotonic
    rejects_in_a_row: int = 0
    open_until: float | None = None

    def check(self) -> None:
        if self.open_until is not None and self.monotonic() < self.open_until:
            left = self.open_until - self.monotonic()
            raise OrderRejected(
                f"circuit open after {self.rejects_in_a_row} rejected orders in a row: "
                f"new orders paused for {left:.0f} s more"
            )

    def record(self, rejected: bool) -> None:
        if not rejected:
            self.rejects_in_a_row, self.open_until = 0, None
            return
        self.rejects_in_a_row += 1
        if self.rejects_in_a_row >= self.threshold:
            self.open_until = self.monotonic() + self.cooldown_s

    @property
    def is_open(self) -> bool:
        return self.open_until is not None and self.monotonic() < self.open_until


class ResilientBroker:
    """The broker port with rate limits, read retries and the reject circuit breaker (module docstring)."""

    def __init__(
        self,
        broker: Broker,
        config: ResilienceConfig,
        limits: RateLimits | None = None,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.inner = broker
        self.name = broker.name
        self.config = config
        self._sleep = sleep
        self.orders_bucket: TokenBucket | _Unlimited = _Unlimited()
        self.queries_bucket: TokenBucket | _Unlimited = _Unlimited()
        if limits is not None:
            self.orders_bucket = TokenBucket(limits.orders_per_second, limits.orders_burst, monotonic, sleep)
            self.queries_bucket = TokenBucket(
                limits.queries_per_second, limits.queries_burst, monotonic, sleep
            )
        self.breaker = CircuitBreaker(
            config.reject_breaker_threshold, config.reject_breaker_cooldown_s, monotonic
        )
        self.retries = 0  # reads tried again, for the run's report

    # ----- orders: limited, never retried
    def submit(self, request: OrderRequest) -> OrderAck:
        self.breaker.check()
        self.orders_bucket.take()
        try:
            ack = self.inner.submit(request)
        except OrderRejected:
            self.breaker.record(rejected=True)
            raise
        self.breaker.record(rejected=False)
        return ack

    def cancel(self, broker_order_no: str, code: StockCode, quantity: int | None = None) -> OrderAck:
        self.orders_bucket.take()
        return self.inner.cancel(broker_order_no, code, quantity)

    def modify(
        self, broker_order_no: str, code: StockCode, price: int, quantity: int | None = None
    ) -> OrderAck:
        self.orders_bucket.take()
        return self.inner.modify(broker_order_no, code, price, quantity)

    # ----- queries: limited and retried
    def _read(self, call: Callable[[], T]) -> T:
        def attempt() -> T:
            self.queries_bucket.take()
            return call()

        retrying = Retrying(
            retry=retry_if_exception_type(RetryableBrokerError),
            stop=stop_after_attempt(self.config.read_attempts),
            wait=wait_exponential(
                multiplier=self.config.retry_backoff_s, max=self.config.retry_backoff_max_s
            ),
            sleep=self._sleep,
            before_sleep=lambda _state: self._count_retry(),
            reraise=True,
        )
        return retrying(attempt)  # reraise=True: the broker's own error when the attempts run out

    def _count_retry(self) -> None:
        self.retries += 1

    def open_orders(self) -> list[BrokerOrder]:
        return self._read(self.inner.open_orders)

    def order_status(self, broker_order_no: str) -> BrokerOrder | None:
        return self._read(lambda: self.inner.order_status(broker_order_no))

    def find_orders(self, code: StockCode, side: Side) -> list[BrokerOrder]:
        return self._read(lambda: self.inner.find_orders(code, side))

    def fills_today(self) -> list[BrokerFill]:
        return self._read(self.inner.fills_today)

    def orders_of_day(self, day: date) -> list[BrokerOrder] | None:
        return self._read(lambda: self.inner.orders_of_day(day))

    def cash(self) -> CashBalance:
        return self._read(self.inner.cash)

    def holdings(self) -> list[Holding]:
        return self._read(self.inner.holdings)

    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]:
        return self._read(lambda: self.inner.current_prices(codes))

    def poll_events(self) -> list[BrokerEvent]:
        # a read like the others: some adapters (KIS) query the broker to turn notices into events, and
        # keep what they drained when that query fails, so a retry loses nothing
        return self._read(self.inner.poll_events)
