"""SIGINT and SIGTERM while a replay runs, noted so that the run stops between two of its steps and says
where (``maemae paper`` at any speed, ``maemae run --replay`` at speed 0); and Ctrl-C at any other moment of
a trading run (loading before the day, the work after the close), said in one line too (:class:`CtrlC`)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from types import FrameType, TracebackType
from typing import Any

from maemae import ctrl_c
from maemae.errors import RunInterrupted
from maemae.wording import counted


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


class CtrlC:
    """Ctrl-C outside the day's own stop handling (:class:`StopSignals`, the asyncio loop's handler): while
    the run loads its market and recovers before the day, after the close while it checks the book and
    writes the report, or a second Ctrl-C that ends a step at once. Python raises it as a KeyboardInterrupt
    wherever the run is, which typer turned into exit 130 without a word; in this block it becomes
    ``RunInterrupted`` (exit 130) with ``line``, which the run moves on as it goes: what was interrupted and
    what is kept. Each change to the store is saved whole and a report is moved into place only once
    written, so the line never has a half-written state to own up to."""

    def __init__(self, line: str) -> None:
        self.line = line

    def __enter__(self) -> CtrlC:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            raise RunInterrupted(self.line) from None

    @contextmanager
    def uncut(self) -> Iterator[None]:
        """Work of the engine's compiled code (loading the market, building the engine and recovering its
        state, the book check): a KeyboardInterrupt raised inside it can abort the process
        (:mod:`maemae.ctrl_c`), so a Ctrl-C during it is held and raised once it is done, ending the run
        with ``line``. A second Ctrl-C still acts at once."""
        with ctrl_c.held():
            yield
            ctrl_c.honour()


def before_the_day(day: date) -> str:
    """A Ctrl-C before the day's first step: nothing was traded, so the same command runs the day, whatever
    its exchange (one inside the process had nothing to lose yet)."""
    return (
        f"{day}: interrupted by Ctrl-C before the day started: nothing traded, nothing half-saved; start the "
        "same command again to run the day"
    )


def stopped_line(
    day: date, by: signal.Signals, orders: int, fills: int, going_on: str, *, step: int | None = None
) -> str:
    """What a signal that :class:`StopSignals` noted left: where the day stopped (at ``step`` for a replay,
    which resumes there), the orders and fills it had, and whether the same command goes on with it."""
    at = "" if step is None else f" at step {step}"
    return (
        f"{day}: stopped before the close by {by.name}{at} after {counted(orders, 'order')} and "
        f"{counted(fills, 'fill')}; the state is saved{going_on}"
    )


def during_the_day(day: date, going_on: str) -> str:
    """A Ctrl-C that ended a step at once (the second one, while the first was being obeyed): the steps
    before it are saved, and ``going_on`` says whether the same command goes on, as the stop line does."""
    return (
        f"{day}: stopped before the close by Ctrl-C in the middle of a step; the store is consistent (each "
        f"change is saved whole){going_on}"
    )


def after_the_close(day: date) -> str:
    """A Ctrl-C after the close, while the run checks the book, writes the report and sends its last alerts:
    the day is saved as closed, so there is nothing to resume, and ``maemae report`` writes its report
    whether or not this run got to it."""
    return (
        f"{day}: the day is closed and saved (the store is consistent; nothing to resume), but Ctrl-C cut "
        f"short the book check and the end-of-day report: `maemae report --config F {day}` writes the report"
    )
