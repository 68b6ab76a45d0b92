"""When Ctrl-C acts in maemae: never half-way through work that must be whole.

Python raises ``KeyboardInterrupt`` wherever the main thread stands when its SIGINT handler runs. Two places
cannot take it there:

* **The engine's mypyc-compiled loops** (:mod:`maemae.compiled`): in the middle of a C-level step whose error
  path takes any pending exception for a failed allocation, the process aborts with mypyc's ``fatal: out of
  memory`` (SIGABRT), before any ``finally`` or ``except`` runs, and leaves its staging folder behind. Inside
  :func:`held`, a Ctrl-C is only noted; :func:`honour`, called from interpreted code at points a run passes
  often (every simulated day, before a set of outputs is moved into place), raises it there, so the usual
  clean-up and the command's one line follow. Noting the first Ctrl-C puts the previous handler back: if it is
  not honoured quickly (a step that hangs), a second one interrupts at once, as it would without maemae.
* **A data command writing the market store**, which prepares every new file first (``data.staging``) and
  then puts them in place with renames, a few milliseconds. A library can lose a Ctrl-C before that: numpy's
  string-to-integer cast ran the handler inside its loop and dropped the ``KeyboardInterrupt``, so an import
  interrupted then wrote everything and exited 0. So :func:`noting` notes every Ctrl-C while it raises it as
  usual, and :func:`commit_point` stops on a noted one even if it never surfaced; during the renames a Ctrl-C
  is held, the store gets all of them, and the command ends as if the key had been pressed just after.

A person's answer at a prompt is the opposite case: nothing is half-done while the terminal waits, and a run's
own handlers (the ones above, :class:`~maemae.engine.stop_signals.StopSignals`, asyncio's) only note a Ctrl-C
for a loop that cannot look while the prompt blocks it, so the key did nothing. :func:`acting` lets it
interrupt the wait at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
        not _main_thread()
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


@contextmanager
def acting() -> Iterator[None]:
    """Ctrl-C raises ``KeyboardInterrupt`` at once inside the block, whatever handler the process has (on
    the main thread; a process started with Ctrl-C ignored keeps ignoring it), for a wait on a person: the
    confirmation of a live order, which must be refusable by the key that stops everything else."""
    if not _main_thread() or signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None):
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _main_thread() -> bool:
    """Signal handlers can be set, and signals arrive, on the main thread only."""
    return threading.current_thread() is threading.main_thread()


# ----- a data command writing the market store
@dataclass(slots=True)
class _CtrlC:
    noting: bool = False  # inside noting
    pressed: bool = False  # a Ctrl-C came, noted
    holding: bool = False  # inside commit_point: noted only


_state = _CtrlC()


def _on_ctrl_c(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    _state.pressed = True
    if not _state.holding:
        raise KeyboardInterrupt


@contextmanager
def noting() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt as usual, and is also noted for :func:`commit_point`, for the
    whole of a command that writes the store."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_ctrl_c)
    _state.noting, _state.pressed = True, False
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _state.noting = _state.pressed = False


@contextmanager
def commit_point() -> Iterator[None]:
    """The block that puts prepared files in place. A Ctrl-C noted before it, even one a library
    swallowed, stops the command here (KeyboardInterrupt), nothing changed; one during it is held until the
    block is done, so the block is never cut short: the command then ends normally, as after the key
    (outside :func:`noting`, a caller's own code, it is raised once the block is done)."""
    if _state.pressed:
        raise KeyboardInterrupt
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_ctrl_c)
    _state.holding = True
    try:
        yield
    finally:
        _state.holding = False
        signal.signal(signal.SIGINT, previous)
    if _state.pressed and not _state.noting:
        _state.pressed = False
        raise KeyboardInterrupt
