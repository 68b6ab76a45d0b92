"""Structured logging (DESIGN 4): JSON lines to a file per KST day, plus readable lines on the console.

Every record carries ``ts`` (KST, ISO 8601), ``level`` and ``event``, and whatever context the caller bound
(``order_id``, ``code``, ``reason`` ...), so an order's story can be pulled out of the log with one grep.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

from maemae.config.operations import LoggingConfig
from maemae.domain.clock_time import KST

LEVELS = logging.getLevelNamesMapping()


def _kst_timestamp(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event["ts"] = datetime.now(KST).isoformat(timespec="milliseconds")
    return event


class DailyJsonLines:
    """Appends each record as one JSON line to ``<dir>/maemae-YYYY-MM-DD.jsonl`` for the record's KST day."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._day = ""
        self._file: TextIO | None = None

    def write(self, record: MutableMapping[str, Any]) -> None:
        day = str(record.get("ts", ""))[:10]
        if day != self._day or self._file is None:
            if self._file is not None:
                self._file.close()
            self._day = day
            self._file = (self.directory / f"maemae-{day}.jsonl").open("a", encoding="utf-8")
        self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def configure_logging(config: LoggingConfig) -> DailyJsonLines:
    """Route structlog to the daily JSON file and (optionally) the console; returns the file sink.

    A ``logging.dir`` that cannot be made or written is refused here, in one line (exit 2): this runs as a
    command starts, and the first record would otherwise end it in a traceback, or a trading day half-way.
    """
    from maemae.backtest.outputs import check_out_dir  # here: importing it costs every command's start

    check_out_dir(config.dir, "logging.dir", ())
    sink = DailyJsonLines(config.dir)
    console = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    level = getattr(logging, config.level.upper())
    console_level = getattr(logging, config.console_level.upper())

    def fan_out(logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
        sink.write(dict(event))
        record_level = LEVELS.get(str(event.get("level", "")).upper(), logging.INFO)
        if (
            config.console and record_level >= console_level
        ):  # sys.stderr is looked up now: tests and daemons may have replaced it
            print(console(logger, method, dict(event)), file=sys.stderr)
        raise structlog.DropEvent

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
