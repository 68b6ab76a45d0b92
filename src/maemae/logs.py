"""Structured logging (DESIGN 4): JSON lines to a file per KST day, plus readable lines on the console.

Every record carries ``ts`` (KST, ISO 8601), ``level`` and ``event``, and whatever context the caller bound
(``order_id``, ``code``, ``reason`` ...), so an order's story can be pulled out of the log with one grep.

A record logged with ``shown=True`` is one the user has just been told in words of the command's own (its
``warning:`` or ``error:`` line): the file keeps it as any other, the console leaves it out, so the terminal
says each thing once. The log folder and file are made with the first record: a command that fails on its
input before logging anything leaves no empty ``var/log`` behind.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import MutableMapping
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

from maemae.config.operations import LoggingConfig
from maemae.domain.clock_time import KST
from maemae.errors import ConfigError

LEVELS = logging.getLevelNamesMapping()


def _kst_timestamp(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event["ts"] = datetime.now(KST).isoformat(timespec="milliseconds")
    return event


SHOWN = "shown"  # a record's key: the user was told it directly, so the console does not repeat it


class DailyJsonLines:
    """Appends each record as one JSON line to ``<dir>/maemae-YYYY-MM-DD.jsonl`` for the record's KST day.
    The folder and the file are made when the first record comes, not before: a command that ends without
    logging anything (refused on its input, most often) leaves nothing behind."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._day = ""
        self._file: TextIO | None = None

    def write(self, record: MutableMapping[str, Any]) -> None:
        day = str(record.get("ts", ""))[:10]
        if day != self._day or self._file is None:
            if self._file is not None:
                self._file.close()
            self._day = day
            self.directory.mkdir(parents=True, exist_ok=True)
            self._file = (self.directory / f"maemae-{day}.jsonl").open("a", encoding="utf-8")
        self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _check_dir(directory: Path) -> None:
    """Refuse, in one line (exit 2), a ``logging.dir`` that could not be made or written, without making
    it: the nearest part of the path that exists must be a folder this process may write in."""
    nearest = next(path for path in (directory, *directory.parents) if os.path.lexists(path))
    if not nearest.is_dir():
        what = "is a file; expected a folder (existing, or one to create)"
        if nearest != directory:
            what = f"{str(nearest)!r} is a file; expected a folder"
        raise ConfigError(f"logging.dir {str(directory)!r}: {what}")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise ConfigError(f"logging.dir {str(directory)!r}: no permission to create or write files there")


def configure_logging(config: LoggingConfig) -> DailyJsonLines:
    """Route structlog to the daily JSON file and (optionally) the console; returns the file sink.

    A ``logging.dir`` that cannot be made or written is refused here: this runs as a command starts, and the
    first record would otherwise end it in a traceback, or a trading day half-way. It is checked, not made:
    the first record makes it."""
    _check_dir(config.dir)
    sink = DailyJsonLines(config.dir)
    console = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    level = getattr(logging, config.level.upper())
    console_level = getattr(logging, config.console_level.upper())

    def fan_out(logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
        shown = bool(event.pop(SHOWN, False))
        sink.write(dict(event))
        record_level = LEVELS.get(str(event.get("level", "")).upper(), logging.INFO)
        if config.console and not shown and record_level >= console_level:
            # sys.stderr is looked up now: tests and daemons may have replaced it
            print(console(logger, method, dict(event)), file=sys.stderr)
        raise structlog.DropEvent

    _route_library_records()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _kst_timestamp,
            structlog.processors.format_exc_info,
            fan_out,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.ReturnLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    return sink


class _LibraryRecords(logging.Handler):
    """A library's own log records (websockets' keep-alive, httpx) into maemae's log, one record each with
    the error's repr: with no handler, Python's last resort printed them on the terminal, a traceback among
    the run's lines."""

    def emit(self, record: logging.LogRecord) -> None:
        facts: dict[str, Any] = {"library": record.name, "message": record.getMessage()}
        if record.exc_info and record.exc_info[1] is not None:
            facts["error"] = repr(record.exc_info[1])
        structlog.get_logger("maemae.library").log(record.levelno, "library_log", **facts)


def _route_library_records() -> None:
    """Once per process: warnings and errors of every library's logger go to :class:`_LibraryRecords`."""
    root = logging.getLogger()
    if not any(isinstance(handler, _LibraryRecords) for handler in root.handlers):
        root.addHandler(_LibraryRecords(logging.WARNING))
