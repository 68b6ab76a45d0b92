"""pykrx (KRX's own data pages): raw and adjusted daily bars, and the listed codes of a day.

Used calls (pykrx's documented API): ``stock.get_market_ohlcv(fromdate, todate, ticker, adjusted=...)``,
a frame indexed by date with the columns 시가 고가 저가 종가 거래량 and, for raw prices, 거래대금;
``stock.get_market_ticker_list(date, market=...)`` and ``stock.get_market_ticker_name(ticker)``;
``stock.get_etf_ticker_list(date)``, ``stock.get_etn_ticker_list(date)`` and their ``..._ticker_name``.
pykrx has no delisting dates: a code missing from a later list is simply not listed then (use
FinanceDataReader for the delisted list).
"""

from __future__ import annotations

from datetime import date
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from maemae.data.instruments import Instrument
from maemae.data.sources.base import (
    FACTOR_COLUMN,
    SourceBars,
    empty_bars,
    library_failure,
    load_library,
    require_columns,
)
from maemae.data.sources.krx_codes import instrument_type_of
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market

RAW_COLUMNS = ("시가", "고가", "저가", "종가", "거래량")
VALUE_COLUMN = "거래대금"
MARKETS = {Market.KOSPI: "KOSPI", Market.KOSDAQ: "KOSDAQ"}


class PykrxSource:
    name = "pykrx"
    requests_per_second = 1.0  # KRX blocks clients that ask too fast

    def __init__(self, library: ModuleType | Any | None = None) -> None:
        self._stock = (library or load_library("pykrx", "pykrx")).stock

    def daily(self, code: StockCode, start: date, end: date) -> SourceBars:
        raw = self._call("get_market_ohlcv", f"{start:%Y%m%d}", f"{end:%Y%m%d}", str(code), adjusted=False)
        if raw.empty:
            return empty_bars(code)
        require_columns(raw, RAW_COLUMNS, self.name, f"daily bars of {code}")
        adjusted = self._call(
            "get_market_ohlcv", f"{start:%Y%m%d}", f"{end:%Y%m%d}", str(code), adjusted=True
        )
        frame = pd.DataFrame(
            {
                "ts": _kst_days(raw.index),
                "open": raw["시가"].to_numpy(np.int64),
                "high": raw["고가"].to_numpy(np.int64),
                "low": raw["저가"].to_numpy(np.int64),
                "close": raw["종가"].to_numpy(np.int64),
                "volume": raw["거래량"].to_numpy(np.int64),
            }
        )
        frame["value"] = (
            raw[VALUE_COLUMN].to_numpy(np.int64)
            if VALUE_COLUMN in raw.columns
            else frame["close"] * frame["volume"]
        )
        if not adjusted.empty and "종가" in adjusted.columns:
            adjusted_close = adjusted["종가"].reindex(raw.index).to_numpy(np.float64)
            factor = adjusted_close / frame["close"].to_numpy(np.float64)
            frame[FACTOR_COLUMN] = np.where(np.isfinite(factor) & (factor > 0), factor, 1.0)
        return SourceBars(code, frame)

    def instruments(self, market: Market | None, on: date) -> list[Instrument]:
        day = f"{on:%Y%m%d}"
        found: list[Instrument] = []
        for each, label in MARKETS.items():
            if market is not None and market is not each:
                continue
            for ticker in self._call("get_market_ticker_list", day, market=label):
                code = StockCode(str(ticker))
                name = str(self._call("get_market_ticker_name", str(ticker)))
                found.append(Instrument(code, name, each, instrument_type_of(code, name)))
        if market in (None, Market.KOSPI):  # KRX lists ETFs and ETNs on the KOSPI market
            for kind, listing, naming in (
                (InstrumentType.ETF, "get_etf_ticker_list", "get_etf_ticker_name"),
                (InstrumentType.ETN, "get_etn_ticker_list", "get_etn_ticker_name"),
            ):
                for ticker in self._call(listing, day):
                    code = StockCode(str(ticker))
                    found.append(Instrument(code, str(self._call(naming, str(ticker))), Market.KOSPI, kind))
        return found

    def _call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """Call the library; whatever it raises is one line naming the call (``library_failure``): a changed
        or blocked KRX page fails its parsing, no network fails in requests (OSErrors)."""
        try:
            return getattr(self._stock, function)(*args, **kwargs)
        except Exception as error:
            raise library_failure(f"pykrx {function}{args[:3]}", error, "KRX") from None


def _kst_days(index: pd.Index) -> pd.Series:
    days = pd.to_datetime(index)
    if days.tz is None:
        days = days.tz_localize(KST)
    return pd.Series(days.tz_convert(KST).normalize())
