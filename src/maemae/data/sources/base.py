"""What every market-data source gives maemae, in one shape.

A source returns **raw** prices (as traded: the tick and limit rules apply to them) in ``BAR_COLUMNS``, and,
where it can, the adjustment factor of each day (adjusted close / raw close: below 1 before a split or a
bonus issue), so a backtest may choose adjusted prices without losing the raw ones. Source libraries are
imported only when used: maemae runs without them, and the tests stand in for them with recorded replies.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import Protocol, runtime_checkable

import pandas as pd

from maemae.data.bars import BAR_COLUMNS
from maemae.data.instruments import Instrument
from maemae.domain.codes import StockCode
from maemae.domain.enums import Market
from maemae.errors import ConfigError, DataError

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


def load_library(module: str, package: str) -> ModuleType:
    """Import a source library, or say in one line how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"data source {package}: the library is not installed: pip install {package} "
            '(or pip install -e ".[sources]")'
        ) from None


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
