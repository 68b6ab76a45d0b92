"""``AlertDispatcher``: alerts to every notifier without ever holding up trading.

``send`` only takes a decision and a queue slot, then returns: the trading loop never waits for a mail
server or a webhook. Each notifier has a thread and a queue of its own, so a slow or failing one delays
nobody else; a failure is retried with exponential backoff (``alerts.retries``, ``alerts.retry_backoff_s``),
then logged and dropped. The same alert (same ``rate_key``) goes out at most once per
``alerts.min_interval_s``: the ones held back in between are counted and the next one that goes out says how
many there were, so a flapping fault sends one message a minute, not hundreds.
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
    by_notifier: dict[str, int] = field(default_factory=dict)


class _Channel:
    """One notifier with its own queue and thread."""

    def __init__(
        self,
        notifier: Notifier,
        stats: DeliveryStats,
        lock: threading.Lock,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.notifier = notifier
        self.queue: queue.Queue[tuple[Alert, int] | None] = queue.Queue(QUEUE_SIZE)
        self._stats, self._lock = stats, lock
        self._retries, self._backoff, self._sleep = retries, backoff, sleep
        self.thread = threading.Thread(target=self._run, name=f"alerts-{notifier.name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            alert, suppressed = item
            self._deliver(alert, suppressed)
            self.queue.task_done()
        self.queue.task_done()

    def _deliver(self, alert: Alert, suppressed: int) -> None:
        for attempt in range(self._retries + 1):
            try:
                self.notifier.deliver(alert, suppressed)
            except Exception as error:  # a notifier's failure must never reach the trading loop
                if attempt == self._retries:
                    with self._lock:
                        self._stats.failed += 1
                    log.error(
                        "alert_failed", notifier=self.notifier.name, title=alert.title, error=repr(error)
                    )
                    return
                with self._lock:
                    self._stats.retried += 1
                self._sleep(min(self._backoff * 2**attempt, 300.0))
                continue
            with self._lock:
                self._stats.sent += 1
                name = self.notifier.name
                self._stats.by_notifier[name] = self._stats.by_notifier.get(name, 0) + 1
            return


class AlertDispatcher:
    def __init__(
        self,
        notifiers: Sequence[Notifier],
        *,
        min_interval_s: float = 60,
        retries: int = 5,
        retry_backoff_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
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
        """Deliver what is queued (up to ``timeout``), then stop the threads."""
        self.flush(timeout)
        for channel in self._channels:
            channel.queue.put(None)
        for channel in self._channels:
            channel.thread.join(timeout=1)


def dispatcher_for(config: AlertsConfig) -> AlertDispatcher:
    """The dispatcher the config describes (its notifiers' secrets read from the environment)."""
    return AlertDispatcher(
        build_notifiers(config),
        min_interval_s=config.min_interval_s,
        retries=config.retries,
        retry_backoff_s=config.retry_backoff_s,
    )
