"""backtrader and backtesting.py on case (a): the same stock, the same minute bars, the same signal logic.

Both frameworks get maemae's own indicator arrays (the daily SMA signal with the live price as today's close,
and RSI over yesterday's and today's minute bars), so what is measured is each framework's bar loop, order
handling and broker. The rules: buy when not holding, the daily signal is BUY and RSI crosses up through 30;
sell everything at RSI >= 70, on a daily SELL, or 5 % below the entry price. Their fill models differ from
maemae's KRX fill model (next-bar open, no ticks, no limits, no volume cap), so trade counts differ too.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.report import Figures
from maemae.data.bars import BarArrays, Timeframe
from maemae.data.store import BarStore
from maemae.strategy.indicators import rsi_series
from maemae.strategy.sma_daily import SMADaily, SMADailyParams

CASH = 100_000_000
COMMISSION = 0.00015


def _signals(root: Path, traded_days: int = 250) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The case-(a) stock's minute bars of the traded days, with the daily signal and the two-day RSI of every
    bar (computed with the warm-up days before them, as maemae does)."""
    store = BarStore(root)
    code = next(c for c in store.codes(Timeframe.MINUTE) if c != "357870")
    minute = store.read_frame(code, Timeframe.MINUTE)
    daily = store.read_arrays(code, Timeframe.DAY)
    strategy = SMADaily(SMADailyParams())
    days = minute["ts"].dt.date.to_numpy()
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    signal = np.zeros(len(minute), dtype=np.int8)
    rsi = np.full(len(minute), np.nan)
    closes = minute["close"].to_numpy(np.int64)
    for d, start in enumerate(starts):
        stop = starts[d + 1] if d + 1 < len(starts) else len(minute)
        history: BarArrays = daily.slice(max(0, d - strategy.history_days()), d)
        signal[start:stop] = strategy.evaluate_day(
            code,
            history.close,
            history.volume,
            closes[start:stop],
            np.cumsum(minute["volume"].to_numpy()[start:stop]),
        )
        window_start = starts[d - 1] if d else start
        rsi[start:stop] = rsi_series(closes[window_start:stop], 14)[start - window_start :]
    first = starts[-traded_days] if len(starts) > traded_days else 0
    frame = minute.iloc[first:].rename(columns=str.capitalize).set_index("Ts")
    frame.index = frame.index.tz_localize(None)
    return frame[["Open", "High", "Low", "Close", "Volume"]].astype(float), signal[first:], rsi[first:]


def bench_backtesting_py(work: Path) -> Figures:
    from backtesting import Backtest, Strategy

    frame, signal, rsi = _signals(work / "engine-a")

    class RsiTiming(Strategy):
        def init(self) -> None:
            self.entry = 0.0

        def next(self) -> None:
            i = len(self.data) - 1
            price = self.data.Close[-1]
            if not self.position:
                if i and signal[i] == 1 and rsi[i - 1] < 30 <= rsi[i]:
                    self.buy(size=max(1, int(CASH / 10 // price)))
                    self.entry = price
            elif rsi[i] >= 70 or signal[i] == -1 or price <= self.entry * 0.95:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = Backtest(frame, RsiTiming, cash=CASH, commission=COMMISSION, finalize_trades=True)
        started = time.perf_counter()
        stats = test.run()
        seconds = time.perf_counter() - started
    return {
        "bars": len(frame),
        "wall time (s)": seconds,
        "bars per second": len(frame) / seconds,
        "trades": int(stats["# Trades"]),
    }


def bench_backtrader(work: Path) -> Figures:
    import backtrader as bt

    frame, signal, rsi = _signals(work / "engine-a")

    class RsiTiming(bt.Strategy):
        def __init__(self) -> None:
            self.entry = 0.0
            self.trades = 0

        def next(self) -> None:
            i = len(self) - 1
            price = self.data.close[0]
            if not self.position:
                if i and signal[i] == 1 and rsi[i - 1] < 30 <= rsi[i]:
                    self.buy(size=max(1, int(CASH / 10 // price)))
                    self.entry = price
                    self.trades += 1
            elif rsi[i] >= 70 or signal[i] == -1 or price <= self.entry * 0.95:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes))
    cerebro.addstrategy(RsiTiming)
    cerebro.broker.setcash(CASH)
    cerebro.broker.setcommission(commission=COMMISSION)
    started = time.perf_counter()
    (result,) = cerebro.run()
    seconds = time.perf_counter() - started
    return {
        "bars": len(frame),
        "wall time (s)": seconds,
        "bars per second": len(frame) / seconds,
        "entries": result.trades,
    }
