"""What every market-data source gives maemae, in one shape.

A source returns **raw** prices (as traded: the tick and limit rules apply to them) in ``BAR_COLUMNS``, and,
where it can, the adjustment factor of each day (adjusted close / raw close: below 1 before a split or a
bonus issue), so a backtest may choose adjusted prices without losing the raw ones. Source libraries are
imported only when used: maemae runs without them, and the tests stand in for them with recorded replies.
"""

from __future__ import annotations

import importlib
import socket
from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import Protocol, runtime_checkable

import pandas as pd

from maemae.data.bars import BAR_COLUMNS
from maemae.data.instruments import Instrument
from maemae.domain.codes import StockCode
from maemae.domain.enums import Market
from maemae.errors import ConfigError, DataError, first_line

FACTOR_COLUMN = "factor"


class SourceError(DataError):
    """A source failed (network, blocked access, a changed reply): nothing of that request is stored."""


@dataclass(frozen=True, slots=True)
class SourceBars:
    """One code's bars: ``BAR_COLUMNS`` (raw prices) plus ``factor`` when the source knows it."""

    code: StockCode
    frame: pd.DataFrame

    @property
    def has_factors(self) -> bool:
        return FACTOR_COLUMN in self.frame.columns


@runtime_checkable
class BarSource(Protocol):
    name: str
    requests_per_second: float  # the source's own limit, or a polite rate for a web site

    def daily(self, code: StockCode, start: date, end: date) -> SourceBars: ...

    def instruments(self, market: Market | None, on: date) -> list[Instrument]:
        """The listed codes of ``market`` (None: all) as of ``on``, with the delisted ones where known."""
        ...


@runtime_checkable
class MinuteSource(BarSource, Protocol):
    """A source with minute history (the brokers: KIS about a year, Creon about two years)."""

    def minutes(self, code: StockCode, day: date) -> SourceBars: ...


# How this project installs an extra: uv into .venv, as `make setup` does (the venv has no pip of its own).
# --inexact keeps the dev tools `make setup` put there; `make setup` syncs the dev extra alone, so after it
# runs again (pyproject.toml or uv.lock changed) this command is needed again.
INSTALL_SOURCES = (
    "UV_PROJECT_ENVIRONMENT=.venv .tools/bin/uv sync --frozen --inexact --extra dev --extra sources"
)


class SourceUnreachable(SourceError):
    """A source's library could not reach its server (no network, refused, timed out). Exits with the
    lost-connection code (7), as a broker source does, so a script tells "try again later" from bad data;
    within a run it fails the code it was asked for, as any source error does."""

    exit_code = 7


def load_library(module: str, package: str) -> ModuleType:
    """Import a source library, or say in one line why it cannot be used: not installed (the module itself
    is missing), or installed but failing to import (a module it needs is missing, or it raises)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is not None and module.split(".")[0] != error.name.split(".")[0]:
            raise ConfigError(
                f"data source {package}: the library is installed but does not import: it needs the module "
                f"{error.name!r}, which is not installed (install the sources extra again: {INSTALL_SOURCES})"
            ) from None
        raise ConfigError(
            f"data source {package}: the library is not installed: install the sources extra "
            f"({INSTALL_SOURCES}; docs/data.md)"
        ) from None
    except Exception as error:  # a library's own import code can raise anything; it is one line to the user
        raise ConfigError(
            f"data source {package}: the library is installed but does not import: {_named(error)}"
        ) from None


def library_failure(what: str, error: Exception, server: str) -> SourceError:
    """What a source library's call that raised becomes, each in one line naming ``what`` was asked of
    ``server`` (the site the library reads): an unreadable reply for the parsing errors (an HTML block page
    where JSON was expected: requests' JSONDecodeError is a ValueError, and an OSError too, so it is asked
    first); ``SourceUnreachable`` when a failure to connect is the cause (a library may hide one behind an
    error of its own, such as FinanceDataReader's UnboundLocalError after a failed request); otherwise the
    library's own failure (an HTTP error status among them: the server answered)."""
    if isinstance(error, KeyError | ValueError):
        return SourceError(f"{what}: unreadable reply from {server} ({_named(error)})")
    cause = _connection_cause(error)
    if cause is not None:
        return SourceUnreachable(f"{what}: {server} did not answer ({_named(cause)})")
    return SourceError(f"{what}: the library failed ({_named(error)})")


# requests' and urllib3's names for a failure to connect or to hear back; they are OSErrors, but so are an
# HTTP error status and a reply that is not JSON, which mean the server answered
_UNREACHABLE_NAMES = frozenset(
    {"ConnectionError", "ConnectTimeout", "ReadTimeout", "Timeout", "NewConnectionError"}
)


def _connection_cause(error: BaseException) -> BaseException | None:
    """The first failure to connect among ``error`` and the errors it was raised from or while handling."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ConnectionError | TimeoutError | socket.gaierror) or (
            type(current).__name__ in _UNREACHABLE_NAMES
        ):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _named(error: BaseException) -> str:
    """The library's error type and its first line: the type says more than the text alone for a source
    library's failures (``JSONDecodeError: Expecting value``)."""
    name = type(error).__name__
    return f"{name}: {first_line(error)}" if str(error).strip() else name


def empty_bars(code: StockCode) -> SourceBars:
    columns = {name: pd.Series(dtype="int64") for name in BAR_COLUMNS}
    columns["ts"] = pd.Series(dtype="datetime64[ns, Asia/Seoul]")
    return SourceBars(code, pd.DataFrame(columns))


def require_columns(frame: pd.DataFrame, wanted: tuple[str, ...], source: str, what: str) -> None:
    """A reply whose columns changed is refused in one line naming what is missing."""
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        raise SourceError(
            f"{source} {what}: the reply has no column(s) {', '.join(missing)} "
            f"(got {', '.join(map(str, frame.columns)) or 'none'}): the library's format changed"
        )
