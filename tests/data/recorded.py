"""Stand-ins for pykrx and FinanceDataReader that answer from the recorded replies in ``fixtures/``, with the
failures the real libraries show (no network, a blocked or changed page, an empty answer)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

FIXTURES = Path(__file__).parent / "fixtures"


class Faults:
    """Per code, what the next request for it does: "http", "blocked", "columns" or "empty" (used once)."""

    def __init__(self) -> None:
        self.next: dict[str, str] = {}

    def take(self, code: str) -> str | None:
        return self.next.pop(code, None)


def _dated(path: Path, index: str, start: str, end: str) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame()  # what both libraries give for a code they do not know
    frame = pd.read_csv(path, dtype={index: str}).set_index(index)
    frame.index = pd.to_datetime(frame.index)
    frame.index.name = index
    return frame[(frame.index >= pd.Timestamp(start)) & (frame.index <= pd.Timestamp(end))]


def _fail(fault: str | None, frame: pd.DataFrame) -> pd.DataFrame:
    if fault == "http":
        # requests' ConnectionError is an OSError, as this one is
        raise ConnectionError("HTTPConnectionPool(host='data.krx.co.kr'): Max retries exceeded")
    if fault == "blocked":  # KRX answers a blocked client with an HTML page the library cannot parse as JSON
        raise ValueError("Expecting value: line 1 column 1 (char 0)")
    if fault == "columns":
        return frame.rename(columns={frame.columns[0]: "open_price"})
    if fault == "empty":
        return frame.iloc[0:0]
    return frame


class RecordedPykrx:
    """``pykrx`` with its ``stock`` module: only the functions maemae calls."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.faults = Faults()
        tickers = pd.read_csv(FIXTURES / "pykrx" / "tickers.csv", dtype=str)
        self.stock = SimpleNamespace(
            get_market_ohlcv=self.get_market_ohlcv,
            get_market_ticker_list=lambda date, market="KOSPI": self._count(
                "tickers", list(tickers[tickers.market == market].ticker)
            ),
            get_market_ticker_name=lambda ticker: dict(zip(tickers.ticker, tickers.name, strict=True))[
                ticker
            ],
            get_etf_ticker_list=lambda date: list(tickers[tickers.market == "ETF"].ticker),
            get_etf_ticker_name=lambda ticker: dict(zip(tickers.ticker, tickers.name, strict=True))[ticker],
            get_etn_ticker_list=lambda date: list(tickers[tickers.market == "ETN"].ticker),
            get_etn_ticker_name=lambda ticker: dict(zip(tickers.ticker, tickers.name, strict=True))[ticker],
        )

    def _count(self, name: str, value: Any) -> Any:
        self.calls[name] += 1
        return value

    def get_market_ohlcv(
        self, fromdate: str, todate: str, ticker: str, freq: str = "d", adjusted: bool = True
    ) -> pd.DataFrame:
        self.calls[f"ohlcv:{ticker}"] += 1
        kind = "adjusted" if adjusted else "raw"
        frame = _dated(FIXTURES / "pykrx" / f"ohlcv_{ticker}_{kind}.csv", "날짜", fromdate, todate)
        return _fail(self.faults.take(ticker) if not adjusted else None, frame)


class RecordedFdr:
    """``FinanceDataReader``: ``DataReader`` and ``StockListing``."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.faults = Faults()

    def DataReader(self, symbol: str, start: str, end: str) -> pd.DataFrame:  # noqa: N802 (the library's name)
        self.calls[f"reader:{symbol}"] += 1
        frame = _dated(FIXTURES / "fdr" / f"datareader_{symbol}.csv", "Date", start, end)
        return _fail(self.faults.take(symbol), frame)

    def StockListing(self, market: str) -> pd.DataFrame:  # noqa: N802
        self.calls[f"listing:{market}"] += 1
        name = {"KRX": "listing_krx", "KRX-DELISTING": "listing_delisting", "ETF/KR": "listing_etf"}[market]
        key = "Code" if market == "KRX" else "Symbol"
        return _fail(
            self.faults.take(market), pd.read_csv(FIXTURES / "fdr" / f"{name}.csv", dtype={key: str})
        )
