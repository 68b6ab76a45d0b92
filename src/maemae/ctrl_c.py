"""Ctrl-C held back while the engine's compiled loops run, and raised at the next safe point instead.

Python raises ``KeyboardInterrupt`` wherever the main thread stands when its SIGINT handler runs. Inside the
engine's mypyc-compiled modules (:mod:`maemae.compiled`) that can be the middle of a C-level step whose error
path takes any pending exception for a failed allocation: the process then aborts with mypyc's ``fatal: out
of memory`` (SIGABRT), before any ``finally`` or ``except`` runs, and leaves its staging folder behind.

Inside :func:`held`, a Ctrl-C is only noted; :func:`honour`, called from interpreted code at points a run
passes often (every simulated day, before a set of outputs is moved into place), raises it there, so the
usual clean-up and the command's one line follow. Noting the first Ctrl-C puts the previous handler back: if
it is not honoured quickly (a step that hangs), a second one interrupts at once, as it would without maemae.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

_Handler = Callable[[int, FrameType | None], Any] | int | None


class _Request:
    """The state of the one :func:`held` block that may be active (signal handlers are per process)."""

    noted: bool = False
    previous: _Handler = None


def _note(_number: int, _frame: FrameType | None) -> None:
    _Request.noted = True
    signal.signal(signal.SIGINT, _Request.previous)  # a second Ctrl-C acts at once


@contextmanager
def held() -> Iterator[None]:
    """Note a Ctrl-C instead of raising it, for :func:`honour` to raise. Only the main thread can set a
    handler; a process started with Ctrl-C ignored keeps ignoring it, and a nested block is the outer one's.
    A Ctrl-C noted but never honoured (pressed after the last safe point: the work was complete) is dropped
    on leaving, with the previous handler back."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None, _note)
        or _Request.noted
    ):
        yield
        return
    _Request.previous = signal.signal(signal.SIGINT, _note)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is _note:
            signal.signal(signal.SIGINT, _Request.previous)
        _Request.noted = False
        _Request.previous = None


def honour() -> None:
    """Raise the Ctrl-C :func:`held` noted, if any, as the ``KeyboardInterrupt`` Python would have raised;
    nothing otherwise (outside :func:`held` too)."""
    if _Request.noted:
        _Request.noted = False
        raise KeyboardInterrupt
