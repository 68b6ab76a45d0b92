"""FinanceDataReader: daily bars, the KRX listing and the delisted codes with their dates.

Used calls (FinanceDataReader's documented API): ``DataReader(symbol, start, end)``, a frame indexed by
``Date`` with Open High Low Close Volume (Change); ``StockListing("KRX")`` (Code, Name, Market),
``StockListing("KRX-DELISTING")`` (Symbol, Name, Market, ListingDate, DelistingDate) and
``StockListing("ETF/KR")`` (Symbol, Name). Its KRX prices are taken as raw (as traded); it gives no
adjustment factors.
"""

from __future__ import annotations

from datetime import date
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from maemae.data.instruments import Instrument
from maemae.data.sources.base import SourceBars, empty_bars, library_failure, load_library, require_columns
from maemae.data.sources.krx_codes import instrument_type_of
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.errors import InvalidStockCode

PRICE_COLUMNS = ("Open", "High", "Low", "Close", "Volume")
MARKETS = {"KOSPI": Market.KOSPI, "KOSDAQ": Market.KOSDAQ, "KOSDAQ GLOBAL": Market.KOSDAQ}


class FdrSource:
    name = "fdr"
    requests_per_second = 2.0

    def __init__(self, library: ModuleType | Any | None = None) -> None:
        self._fdr = library or load_library("FinanceDataReader", "finance-datareader")

    def daily(self, code: StockCode, start: date, end: date) -> SourceBars:
        raw = self._call("DataReader", str(code), start.isoformat(), end.isoformat())
        if raw.empty:
            return empty_bars(code)
        require_columns(raw, PRICE_COLUMNS, self.name, f"daily bars of {code}")
        days = pd.to_datetime(raw.index)
        days = days.tz_localize(KST) if days.tz is None else days.tz_convert(KST)
        frame = pd.DataFrame(
            {
                "ts": pd.Series(days.normalize()),
                "open": raw["Open"].to_numpy(np.int64),
                "high": raw["High"].to_numpy(np.int64),
                "low": raw["Low"].to_numpy(np.int64),
                "close": raw["Close"].to_numpy(np.int64),
                "volume": raw["Volume"].to_numpy(np.int64),
            }
        )
        frame["value"] = frame["close"] * frame["volume"]  # FinanceDataReader gives no traded value
        return SourceBars(code, frame)

    def instruments(self, market: Market | None, on: date) -> list[Instrument]:
        listing = self._call("StockListing", "KRX")
        require_columns(listing, ("Code", "Name", "Market"), self.name, "StockListing('KRX')")
        found: dict[StockCode, Instrument] = {}
        for row in listing.itertuples(index=False):
            kind = MARKETS.get(str(row.Market))
            if kind is None or (market is not None and kind is not market):
                continue  # KONEX and the rest: not traded by maemae
            code = _code(row.Code)
            if code is not None:
                found[code] = Instrument(code, str(row.Name), kind, instrument_type_of(code, str(row.Name)))
        delisted = self._call("StockListing", "KRX-DELISTING")
        require_columns(
            delisted, ("Symbol", "Name", "Market", "ListingDate", "DelistingDate"), self.name, "KRX-DELISTING"
        )
        for row in delisted.itertuples(index=False):
            kind = MARKETS.get(str(row.Market))
            code = _code(row.Symbol)
            if kind is None or code is None or (market is not None and kind is not market) or code in found:
                continue
            found[code] = Instrument(
                code,
                str(row.Name),
                kind,
                instrument_type_of(code, str(row.Name)),
                listed=_day(row.ListingDate),
                delisted=_day(row.DelistingDate),
            )
        if market in (None, Market.KOSPI):
            etfs = self._call("StockListing", "ETF/KR")
            require_columns(etfs, ("Symbol", "Name"), self.name, "StockListing('ETF/KR')")
            for row in etfs.itertuples(index=False):
                code = _code(row.Symbol)
                if code is not None:
                    found[code] = Instrument(code, str(row.Name), Market.KOSPI, InstrumentType.ETF)
        return sorted(found.values(), key=lambda item: item.code)

    def _call(self, function: str, *args: Any) -> Any:
        """Call the library; whatever it raises is one line naming the call (``library_failure``): without
        a network FinanceDataReader's listing raised an UnboundLocalError from its own code."""
        try:
            return getattr(self._fdr, function)(*args)
        except Exception as error:
            raise library_failure(f"FinanceDataReader {function}{args}", error, "the site it reads") from None


def _code(value: Any) -> StockCode | None:
    try:
        return StockCode(str(value).strip().zfill(6))
    except (InvalidStockCode, ValueError):
        return None


def _day(value: Any) -> date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value) in ("", "NaT"):
        return None
    return pd.Timestamp(value).date()
