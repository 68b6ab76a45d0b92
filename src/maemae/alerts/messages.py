"""The alert types (SPEC 4: failure, error, fill, stop, end of day; plus halts and reconciliation
differences) and how one reads as text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class AlertKind(StrEnum):
    ERROR = "error"  # something failed: a lost broker connection, a refused login, a strategy bug
    FILL = "fill"  # an order of maemae's filled (in part or in full)
    STOP = "stop"  # an exit rule sold: stop loss, trailing stop, time-cut, portfolio stop
    HALT = "halt"  # trading stopped or resumed: the kill switch, the portfolio stop, the circuit breaker
    RECONCILIATION = "reconciliation"  # maemae's book and the broker's differed; how it was settled
    REPORT = "report"  # the end-of-day summary


@dataclass(frozen=True, slots=True)
class Alert:
    """One message. ``key`` says which alerts are "the same" for rate limiting (default: kind and title).
    ``shown``: the command also tells the user on its terminal (the error a run stops on is its ``error:``
    line), so the log notifier keeps its record off the console."""

    kind: AlertKind
    title: str
    text: str
    at: datetime
    key: str = ""
    shown: bool = False

    @property
    def rate_key(self) -> str:
        return self.key or f"{self.kind.value}:{self.title}"

    def subject(self) -> str:
        return f"[maemae] {self.kind.value}: {self.title}"

    def body(self, suppressed: int = 0) -> str:
        more = f"\n({suppressed} more like this were held back by the rate limit)" if suppressed else ""
        return f"{self.text}\n{self.at:%Y-%m-%d %H:%M:%S} KST{more}"


class AlertSink(Protocol):
    """What the engine needs: hand over an alert and go on (delivery happens elsewhere)."""

    def send(self, alert: Alert) -> None: ...


class NoAlerts:
    """Alerts dropped (backtests)."""

    def send(self, alert: Alert) -> None:
        return None
