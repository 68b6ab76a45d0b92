"""Rate limits, read retries and the reject circuit breaker, on a fake clock (no real sleeping)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from maemae.config.execution import ResilienceConfig
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.errors import FatalBrokerError, OrderRejected, RetryableBrokerError, SubmitOutcomeUnknown
from maemae.execution.resilience import RateLimits, ResilientBroker
from maemae.pacing import TokenBucket
from maemae.ports.broker import CashBalance, OrderAck, OrderRequest

AT = datetime(2025, 12, 3, 9, 30, tzinfo=KST)
REQUEST = OrderRequest("o1", StockCode("005930"), Side.BUY, 1, OrderType.LIMIT, 70_000)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


class Scripted:
    """A broker whose calls answer from a script: an exception to raise or a value to return."""

    name = "scripted"

    def __init__(self, **scripts: list[Any]) -> None:
        self.scripts = scripts
        self.calls: dict[str, int] = {}

    def _next(self, method: str) -> Any:
        self.calls[method] = self.calls.get(method, 0) + 1
        outcome = self.scripts[method].pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def submit(self, request: OrderRequest) -> OrderAck:
        return self._next("submit")  # type: ignore[no-any-return]

    def cash(self) -> CashBalance:
        return self._next("cash")  # type: ignore[no-any-return]


def _resilient(broker: Scripted, clock: FakeTime, **settings: Any) -> ResilientBroker:
    limits = RateLimits(orders_per_second=5, orders_burst=5, queries_per_second=2, queries_burst=2)
    return ResilientBroker(
        broker,  # type: ignore[arg-type]
        ResilienceConfig(**settings),
        limits,
        clock.monotonic,
        clock.sleep,
    )


def test_token_bucket_when_burst_spent_then_waits_for_the_next_token() -> None:
    clock = FakeTime()
    bucket = TokenBucket(5, 5, clock.monotonic, clock.sleep)
    assert [bucket.take() for _ in range(5)] == [0.0] * 5
    assert bucket.take() == pytest.approx(0.2)
    assert bucket.take() == pytest.approx(0.2)
    clock.now += 10  # idle: the bucket refills up to its burst, not beyond
    assert [bucket.take() for _ in range(5)] == [0.0] * 5
    assert bucket.take() == pytest.approx(0.2)


def test_read_when_retryable_failures_then_tried_again_with_backoff() -> None:
    clock = FakeTime()
    broker = Scripted(
        cash=[RetryableBrokerError("timeout"), RetryableBrokerError("EGW00201"), CashBalance(5, 5)]
    )
    resilient = _resilient(broker, clock, retry_backoff_s=0.5)
    assert resilient.cash() == CashBalance(5, 5)
    assert broker.calls["cash"] == 3
    assert resilient.retries == 2
    assert clock.slept == [0.5, 1.0]


def test_read_when_failures_outlast_the_attempts_then_the_error_goes_up() -> None:
    clock = FakeTime()
    broker = Scripted(cash=[RetryableBrokerError(f"timeout {n}") for n in range(4)])
    with pytest.raises(RetryableBrokerError, match="timeout 3"):
        _resilient(broker, clock, read_attempts=4).cash()
    assert broker.calls["cash"] == 4


def test_reads_when_more_than_the_query_budget_then_paced_by_the_bucket() -> None:
    clock = FakeTime()
    broker = Scripted(cash=[CashBalance(n, n) for n in range(4)])
    resilient = _resilient(broker, clock)
    assert [resilient.cash().deposit for _ in range(4)] == [0, 1, 2, 3]
    assert clock.slept == [0.5, 0.5]  # 2 a second, a burst of 2


def test_read_when_fatal_error_then_not_retried() -> None:
    broker = Scripted(cash=[FatalBrokerError("bad credentials")])
    with pytest.raises(FatalBrokerError):
        _resilient(broker, FakeTime()).cash()
    assert broker.calls["cash"] == 1


@pytest.mark.parametrize("error", [RetryableBrokerError("reset"), SubmitOutcomeUnknown("no reply")])
def test_submit_when_it_fails_then_never_sent_again(error: Exception) -> None:
    broker = Scripted(submit=[error, OrderAck("S1", AT)])
    with pytest.raises(type(error)):
        _resilient(broker, FakeTime()).submit(REQUEST)
    assert broker.calls["submit"] == 1


def test_breaker_when_rejects_in_a_row_then_orders_paused_until_cooldown_then_trial() -> None:
    clock = FakeTime()
    broker = Scripted(
        submit=[OrderRejected("insufficient cash")] * 3 + [OrderRejected("still"), OrderAck("S9", AT)]
    )
    resilient = _resilient(broker, clock, reject_breaker_threshold=3, reject_breaker_cooldown_s=60)
    for _ in range(3):
        with pytest.raises(OrderRejected, match="insufficient cash"):
            resilient.submit(REQUEST)
    with pytest.raises(OrderRejected, match="circuit open after 3 rejected orders in a row"):
        resilient.submit(REQUEST)
    assert broker.calls["submit"] == 3  # refused locally: nothing reached the broker
    clock.now += 61
    with pytest.raises(OrderRejected, match="still"):  # the trial order is rejected: open again
        resilient.submit(REQUEST)
    assert resilient.breaker.is_open
    clock.now += 61
    assert resilient.submit(REQUEST).broker_order_no == "S9"
    assert not resilient.breaker.is_open
    assert resilient.breaker.rejects_in_a_row == 0
