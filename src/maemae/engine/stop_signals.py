"""SIGINT and SIGTERM while a replay runs, noted so that the run stops between two of its steps and says
where (``maemae paper`` at any speed, ``maemae run --replay`` at speed 0)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any


class StopSignals:
    """SIGINT and SIGTERM while the replay runs: noted, so the replay stops between two saved steps and says
    where, rather than dying silently (Ctrl-C) or unannounced (SIGTERM). A paced wait ends at once on one.
    The first signal puts the previous handlers back, so a second one acts as it would without maemae (a
    step that hangs can still be stopped); a signal the process was started to ignore stays ignored."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._arrived = threading.Event()
        self._previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():  # Python handles signals there only
            for number in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(number) is not signal.SIG_IGN:
                    self._previous[number] = signal.signal(number, self._note)
        return self

    def __exit__(self, *_: object) -> None:
        self._restore()

    def _note(self, number: int, _frame: FrameType | None) -> None:
        self.received = signal.Signals(number)
        self._restore()  # first: a second signal ends the process, even if the wake-up below were to hang
        self._arrived.set()

    def _restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def sleep(self, seconds: float) -> None:
        self._arrived.wait(seconds)
