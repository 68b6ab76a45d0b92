"""``AlertDispatcher``: alerts to every notifier without ever holding up trading.

``send`` only takes a decision and a queue slot, then returns: the trading loop never waits for a mail
server or a webhook. Each notifier has a thread and a queue of its own, so a slow or failing one delays
nobody else; a failure is retried with exponential backoff (``alerts.retries``, ``alerts.retry_backoff_s``),
then logged and dropped; what is still queued or being retried when the dispatcher closes is logged
(``alert_undelivered``, one record per notifier), never dropped silently. The same alert (same
``rate_key``) goes out at most once per ``alerts.min_interval_s``: the ones held back in between are counted
and the next one that goes out says how many there were, so a flapping fault sends one message a minute, not
hundreds.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from maemae.alerts.messages import Alert
from maemae.alerts.notifiers import Notifier, build_notifiers
from maemae.config.operations import AlertsConfig

log = structlog.get_logger("maemae.alerts")
QUEUE_SIZE = 1000


@dataclass(slots=True)
class DeliveryStats:
    sent: int = 0
    failed: int = 0  # given up after the retries
    retried: int = 0
    dropped: int = 0  # the notifier's queue was full
    undelivered: int = 0  # still queued or being retried when the dispatcher closed (logged, not sent)
    by_notifier: dict[str, int] = field(default_factory=dict)


# titles named in the log record of the alerts a notifier still had when the dispatcher closed
UNDELIVERED_TITLES = 5


class _Channel:
    """One notifier with its own queue and thread."""

    def __init__(
        self,
        notifier: Notifier,
        stats: DeliveryStats,
        lock: threading.Lock,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self.notifier = notifier
        self.queue: queue.Queue[tuple[Alert, int] | None] = queue.Queue(QUEUE_SIZE)
        self._stats, self._lock = stats, lock
        self._retries, self._backoff = retries, backoff
        self.closing = threading.Event()
        # without an injected sleep, a backoff wait ends as soon as the dispatcher closes
        self._sleep = sleep or self.closing.wait
        self.inflight: Alert | None = None  # the alert being delivered or retried (guarded by the lock)
        self.abandoned: list[Alert] = []  # taken from the queue after closing began, not delivered
        self.last_error = ""
        self.thread = threading.Thread(target=self._run, name=f"alerts-{notifier.name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            alert, suppressed = item
            if self.closing.is_set():
                with self._lock:
                    self.abandoned.append(alert)
            else:
                self._deliver(alert, suppressed)
            self.queue.task_done()
        self.queue.task_done()

    def _deliver(self, alert: Alert, suppressed: int) -> None:
        with self._lock:
            self.inflight = alert
        settled = False
        try:
            settled = self._attempts(alert, suppressed)
        finally:
            with self._lock:
                if not settled:
                    self.abandoned.append(alert)  # closing ended its retries: ``close`` logs it
                self.inflight = None

    def _attempts(self, alert: Alert, suppressed: int) -> bool:
        """Deliver with retries; True once sent or given up (and logged), False when closing stopped it."""
        for attempt in range(self._retries + 1):
            if self.closing.is_set():
                return False
            try:
                self.notifier.deliver(alert, suppressed)
            except Exception as error:  # a notifier's failure must never reach the trading loop
                self.last_error = repr(error)
                if attempt == self._retries:
                    with self._lock:
                        self._stats.failed += 1
                    log.error(
                        "alert_failed", notifier=self.notifier.name, title=alert.title, error=repr(error)
                    )
                    return True
                with self._lock:
                    self._stats.retried += 1
                self._sleep(min(self._backoff * 2**attempt, 300.0))
                continue
            with self._lock:
                self._stats.sent += 1
                name = self.notifier.name
                self._stats.by_notifier[name] = self._stats.by_notifier.get(name, 0) + 1
            return True
        return True

    def stop(self, timeout: float) -> list[Alert]:
        """End the thread's work and return the alerts it did not deliver: those it gave up on when closing
        began, those still queued, and the one it is still sending (if the thread does not end in time)."""
        self.closing.set()
        left: list[Alert] = []
        deadline = time.monotonic() + timeout
        while True:  # the thread and this loop share the queue: each alert lands in one list, never two
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            self.queue.task_done()
            if item is not None:
                left.append(item[0])
        self.queue.put(None)  # the queue is empty now: this never blocks
        self.thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            unsure = [self.inflight] if self.inflight is not None and self.thread.is_alive() else []
            return [*self.abandoned, *unsure, *left]


class AlertDispatcher:
    def __init__(
        self,
        notifiers: Sequence[Notifier],
        *,
        min_interval_s: float = 60,
        retries: int = 5,
        retry_backoff_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """``sleep``: how a retry waits (None: a wait that closing cuts short)."""
        self.stats = DeliveryStats()
        self._lock = threading.Lock()
        self._interval = min_interval_s
        self._monotonic = monotonic
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self.suppressed = 0
        self._channels = [
            _Channel(n, self.stats, self._lock, retries, retry_backoff_s, sleep) for n in notifiers
        ]

    def send(self, alert: Alert) -> None:
        """Queue ``alert`` for every notifier, unless the same one went out less than the interval ago."""
        key = alert.rate_key
        now = self._monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._held[key] = self._held.get(key, 0) + 1
            self.suppressed += 1
            return
        self._last[key] = now
        held = self._held.pop(key, 0)
        for channel in self._channels:
            try:
                channel.queue.put_nowait((alert, held))
            except queue.Full:
                with self._lock:
                    self.stats.dropped += 1

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued alert was delivered or given up; False if ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        for channel in self._channels:
            while channel.queue.unfinished_tasks:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop the threads; log what was not delivered.

        A notifier that keeps failing retries each alert for a minute (2 + 4 + 8 + 16 + 32 s), so at the end
        of a run most of its alerts are still queued when the wait ends. They used to vanish with the
        process, without a word; now each notifier that still held alerts writes one ``alert_undelivered``
        record naming how many, their kinds, the first titles and its last error.
        """
        self.flush(timeout)
        for channel in self._channels:
            left = channel.stop(timeout=1.0)
            if not left:
                continue
            with self._lock:
                self.stats.undelivered += len(left)
            kinds: dict[str, int] = {}
            for alert in left:
                kinds[alert.kind.value] = kinds.get(alert.kind.value, 0) + 1
            log.error(
                "alert_undelivered",
                notifier=channel.notifier.name,
                count=len(left),
                kinds=kinds,
                titles=[a.title for a in left[:UNDELIVERED_TITLES]],
                last_error=channel.last_error or None,
                reason=f"not delivered within the {timeout:g} s wait at close",
            )


def dispatcher_for(config: AlertsConfig) -> AlertDispatcher:
    """The dispatcher the config describes (its notifiers' secrets read from the environment)."""
    return AlertDispatcher(
        build_notifiers(config),
        min_interval_s=config.min_interval_s,
        retries=config.retries,
        retry_backoff_s=config.retry_backoff_s,
    )
