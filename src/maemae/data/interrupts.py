"""Ctrl-C while a data command writes the store: it stops the command before the store changes, or comes
too late to stop it, never half-way.

A command that writes the store prepares every new file first (``data.staging``) and then puts them in
place with renames, a few milliseconds. Two things made Ctrl-C unreliable before that point. Python raises
it where the main thread happens to be, and a library can lose it there: numpy's string-to-integer cast ran
the handler inside its loop and dropped the KeyboardInterrupt, so an import interrupted then wrote
everything and exited 0. So :func:`noting_ctrl_c` also notes every Ctrl-C, and :func:`commit_point` stops
on a noted one even if it never surfaced. And during the renames a Ctrl-C is held: the store gets all of
them, and the command ends as if the key had been pressed just after.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType


@dataclass(slots=True)
class _CtrlC:
    noting: bool = False  # inside noting_ctrl_c
    pressed: bool = False  # a Ctrl-C came, noted
    holding: bool = False  # inside commit_point: noted only


_state = _CtrlC()


def _on_ctrl_c(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    _state.pressed = True
    if not _state.holding:
        raise KeyboardInterrupt


def _main_thread() -> bool:
    """Signal handlers can be set, and signals arrive, on the main thread only."""
    return threading.current_thread() is threading.main_thread()


@contextmanager
def noting_ctrl_c() -> Iterator[None]:
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
    (outside :func:`noting_ctrl_c`, a caller's own code, it is raised once the block is done)."""
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
