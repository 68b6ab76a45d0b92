"""The brokers as market-data sources (``maemae data fetch --source kis|creon``): daily and minute history.

How far back: KIS serves daily bars for years and minute bars for about a year (``inquire-time-
dailychartprice``); Creon's ``StockChart`` about two years of minutes by community reports (unverified,
docs/brokers/creon.md). Neither gives the stock list, nor adjustment factors: take the list from pykrx or
FinanceDataReader. The adapters pace their own requests (KIS's request budget, Creon's request gate).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

import pandas as pd

from maemae.data.instruments import Instrument
from maemae.data.sources.base import SourceBars, SourceError
from maemae.domain.codes import StockCode
from maemae.domain.enums import Market
from maemae.errors import BrokerConnectionLost, BrokerError, ConfigError


class HistoryBroker(Protocol):
    def daily_bars(self, code: StockCode, start: date, end: date) -> pd.DataFrame: ...

    def minute_bars(self, code: StockCode, day: date) -> pd.DataFrame: ...


class BrokerHistory:
    """A broker adapter (``KisBroker``, ``CreonBroker``) seen as a source of bars."""

    requests_per_second = 0.0  # the adapter paces itself

    def __init__(self, name: str, broker: HistoryBroker, close: Callable[[], None] | None = None) -> None:
        self.name, self.broker, self._close = name, broker, close

    def daily(self, code: StockCode, start: date, end: date) -> SourceBars:
        return SourceBars(code, self._ask(lambda: self.broker.daily_bars(code, start, end), code))

    def minutes(self, code: StockCode, day: date) -> SourceBars:
        return SourceBars(code, self._ask(lambda: self.broker.minute_bars(code, day), code))

    def instruments(self, market: Market | None, on: date) -> list[Instrument]:
        raise ConfigError(
            f"--source {self.name} gives no stock list: fetch the list with --source pykrx or fdr "
            "(--market), then the bars by --codes"
        )

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def _ask(self, read: Callable[[], pd.DataFrame], code: StockCode) -> pd.DataFrame:
        """A failed read fails that code (the run goes on, and a rerun fetches just the failed codes); but
        no connection to the broker fails every code alike, so it stops the run as it is, a broker error
        with its own exit code (7), not a list of codes failed for bad data (2). The codes done so far stay
        done: the run resumes after them."""
        try:
            return read()
        except BrokerConnectionLost:
            raise
        except BrokerError as error:
            raise SourceError(f"{self.name} bars of {code}: {error}") from None
