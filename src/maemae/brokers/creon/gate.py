"""``RequestGate``: every Creon request goes through here, one at a time.

Creon counts requests in two buckets over 15 seconds (ref 2.3): orders and account queries (20) and quotes
and charts (60), plus at most 400 real-time subscriptions. Before each request the gate asks Creon how many
are left (``GetLimitRemainCount``) and, when none, waits ``LimitRequestRemainTime``; an order request that
still returns 4 was not sent and is sent again after the wait. Other results become maemae's error family:

====================================  ==========================================================
Creon says                            maemae raises
====================================  ==========================================================
``IsConnect`` 0                       ``BrokerConnectionLost`` (persist and exit; restart)
``BlockRequest`` 1 on an order        ``SubmitOutcomeUnknown`` (it may have gone: settle by query)
``BlockRequest`` 1 on a query         ``RetryableBrokerError``
``BlockRequest`` 2                    ``OrderRejected`` (cancelled in Creon's confirmation dialog)
``GetDibStatus`` -1 on an order       ``OrderRejected`` with ``GetDibMsg1``
``GetDibStatus`` -1 on a query        ``RetryableBrokerError`` with ``GetDibMsg1``
====================================  ==========================================================
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from maemae.brokers.creon import protocol
from maemae.errors import (
    BrokerConnectionLost,
    OrderRejected,
    RetryableBrokerError,
    SubmitOutcomeUnknown,
)

LIMIT_RETRIES = 5


class RequestGate:
    def __init__(self, cybos: Any, sleep: Callable[[float], None]) -> None:
        self.cybos = cybos
        self.sleep = sleep
        self.lock = threading.RLock()
        self.waits = 0  # times a request waited for the limit (tests and benchmarks read it)
        self.subscriptions = 0

    def connected(self) -> bool:
        return bool(self.cybos.IsConnect)

    def require_connection(self, what: str) -> None:
        if not self.connected():
            raise BrokerConnectionLost(f"Creon {what}: Creon Plus is not connected (CpCybos.IsConnect = 0)")

    def request(self, target: Any, what: str, *, kind: int, order: bool = False) -> None:
        """``BlockRequest`` on ``target`` within the limits; raises the error family on failure."""
        with self.lock:
            self.require_connection(what)
            for _ in range(LIMIT_RETRIES):
                self._wait_for_budget(kind)
                result = int(target.BlockRequest())
                if result == protocol.RQ_LIMIT:  # not sent: wait and send again
                    self._wait()
                    continue
                self._check(target, result, what, order)
                return
            raise RetryableBrokerError(
                f"Creon {what}: still over the request limit after {LIMIT_RETRIES} waits"
            )

    def pages(self, target: Any, what: str, *, kind: int) -> Any:
        """Request, then yield once per page while ``Continue`` says there is more."""
        self.request(target, what, kind=kind)
        yield target
        while int(target.Continue):
            self.request(target, what, kind=kind)
            yield target

    def subscribe(self, target: Any, what: str) -> None:
        with self.lock:
            left = int(self.cybos.GetLimitRemainCount(protocol.LT_SUBSCRIBE))
            if left <= 0 or self.subscriptions >= protocol.SUBSCRIPTION_LIMIT:
                raise RetryableBrokerError(f"Creon {what}: no real-time subscription left (at most 400)")
            target.Subscribe()
            self.subscriptions += 1

    def _wait_for_budget(self, kind: int) -> None:
        if int(self.cybos.GetLimitRemainCount(kind)) <= 0:
            self._wait()

    def _wait(self) -> None:
        self.waits += 1
        remain_ms = int(self.cybos.LimitRequestRemainTime)
        self.sleep(max(remain_ms, 50) / 1000)

    def _check(self, target: Any, result: int, what: str, order: bool) -> None:
        if result == protocol.RQ_COMMUNICATION:
            self.require_connection(what)
            if order:
                raise SubmitOutcomeUnknown(f"Creon {what}: communication failure; the order may have gone")
            raise RetryableBrokerError(f"Creon {what}: communication failure")
        if result == protocol.RQ_CONFIRM_CANCELLED:
            raise OrderRejected(f"Creon {what}: cancelled in Creon Plus's order confirmation dialog")
        if result != protocol.RQ_OK:
            message = f"Creon {what}: BlockRequest returned {result}: {target.GetDibMsg1()}"
            raise SubmitOutcomeUnknown(message) if order else RetryableBrokerError(message)
        status = int(target.GetDibStatus())
        if status == protocol.DIB_OK:
            return
        message = f"Creon {what}: {str(target.GetDibMsg1()).strip()} (GetDibStatus {status})"
        if status == protocol.DIB_ERROR:
            raise OrderRejected(message) if order else RetryableBrokerError(message)
        raise SubmitOutcomeUnknown(message) if order else RetryableBrokerError(message)  # 1: still waiting
