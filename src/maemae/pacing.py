"""Pacing requests: a token bucket shared by the broker adapters and the market-data sources.

It lives at the top of the package, with the error family, because both the trading layers and the data layer
need it and neither may depend on the other.
"""

from __future__ import annotations

from collections.abc import Callable

Monotonic = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """``rate`` requests per second on average, bursts up to ``burst``; ``take`` waits for a token."""

    def __init__(self, rate: float, burst: int, monotonic: Monotonic, sleep: Sleep) -> None:
        self.rate, self.burst = rate, burst
        self._monotonic, self._sleep = monotonic, sleep
        self._tokens = float(burst)
        self._stamp = monotonic()

    def take(self) -> float:
        """Take one token; returns how long it waited."""
        now = self._monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        wait = (1 - self._tokens) / self.rate
        self._sleep(wait)
        self._tokens, self._stamp = 0.0, now + wait
        return wait
