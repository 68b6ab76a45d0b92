"""``run_backtest``: one backtest from a config, with its results written to a directory.

The CLI's ``maemae backtest`` and ``maemae compare`` and the tests all go through here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import structlog

from maemae.backtest.market import BacktestMarket
from maemae.backtest.metrics import Metrics, compute_metrics
from maemae.backtest.outputs import (
    discard,
    failed_write,
    open_staging,
    publish,
    write_equity,
    write_orders,
    write_summary,
    write_text_atomically,
    write_trades,
)
from maemae.backtest.report_html import render_report
from maemae.backtest.runner import BacktestRecorder, BacktestRunner, Progress
from maemae.config import MaemaeConfig
from maemae.data.bar_cache import MappedBarCache
from maemae.data.bars import BarArrays, Timeframe, day_ns
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.engine.composition import Engine, build_backtest_engine, make_calendar
from maemae.errors import DataError

log = structlog.get_logger("maemae.backtest")

WARMUP_SESSIONS = 60


@dataclass(frozen=True, slots=True)
class BacktestResult:
    metrics: Metrics
    out_dir: Path | None
    days: tuple[date, date]
    engine: Engine
    recorder: BacktestRecorder


def load_market(
    config: MaemaeConfig, start: date | None, end: date | None, *, backtest: bool = False
) -> tuple[BacktestMarket, list[date]]:
    """The stored market for the run, and the trading days to run (after the daily strategy's warm-up).

    ``backtest``: the market of a backtest, on the bars ``backtest.bars`` names; paper trading and the
    exchange servers always trade minute bars.
    """
    calendar = make_calendar(config)
    store = BarStore(config.data.root)
    cache = _mapped_cache(config, store) if backtest else None
    daily = store.read_many(store.codes(Timeframe.DAY), Timeframe.DAY, cache=cache)
    stamps = [bars.ts for bars in daily.values() if len(bars)]
    if not stamps:
        raise DataError(
            f"data.root = {str(config.data.root)!r}: no bars stored; run `maemae data sample` first"
        )
    first = _to_date(min(int(ts[0]) for ts in stamps))
    last = _to_date(max(int(ts[-1]) for ts in stamps))
    start = start or config.backtest.start
    end = min(end or config.backtest.end or last, last)
    sessions = [d for d in calendar.sessions(first, end) if d >= first]
    if start is None:  # leave the daily strategy its warm-up (SPEC 2 loads 60 sessions before the open)
        days = (
            sessions[WARMUP_SESSIONS:] if len(sessions) > WARMUP_SESSIONS else sessions[len(sessions) // 2 :]
        )
    else:
        days = [d for d in sessions if d >= start]
    if not days:
        raise DataError(f"backtest: no stored trading days between {start or first} and {end}")
    if backtest:
        _check_universe(config, daily)
        if config.backtest.bars == "minute":
            _check_minute_bars(config, store, days[0], days[-1])
    market = BacktestMarket(
        store,
        calendar,
        days[0],
        days[-1],
        daily=daily,
        adjusted=config.data.adjusted_history,
        minute_budget_bytes=config.backtest.minute_memory_mib * 2**20,
        stream_sessions=config.backtest.stream_sessions,
        bars=config.backtest.bars if backtest else "minute",
        cache=cache,
    )
    traded = market.trading_days(days[0], days[-1])
    if not traded:
        raise DataError(f"backtest: no stored trading days between {days[0]} and {days[-1]}")
    return market, traded


def _check_universe(config: MaemaeConfig, daily: dict[StockCode, BarArrays]) -> None:
    """A fixed universe none of whose codes is stored, with no stored safe asset either, would run every day
    and trade nothing, ending with 0 orders and exit 0 as if the strategy had chosen not to trade: that is an
    error. With the safe asset stored the run still parks idle cash in it. Some codes missing is a warning (a
    stock listed during the period, a typo among many), as is a missing safe asset: idle cash then stays
    cash."""
    universe = config.universe
    stored = {code for code, bars in daily.items() if len(bars)}
    root = str(config.data.root)
    safe = universe.safe_asset_code
    if universe.selector == "fixed":
        missing = [str(code) for code in universe.codes if code not in stored]
        if len(missing) == len(universe.codes) and (safe is None or safe not in stored):
            raise DataError(
                f"universe.codes = {missing}: none of them, nor the safe asset, has bars under data.root = "
                f"{root!r}; expected at least one stored code (`maemae data info` lists them)"
            )
        if missing:
            log.warning("universe_codes_not_stored", codes=missing, data_root=root)
    if safe is not None and safe not in stored:
        log.warning("safe_asset_not_stored", safe_asset_code=str(safe), data_root=root)


def _check_minute_bars(config: MaemaeConfig, store: BarStore, first: date, last: date) -> None:
    """A minute-bar backtest on a store without minute bars for its period (a pykrx import, `maemae data
    sample --daily-only`) has nothing to trade on and would end with 0 orders and exit 0: an error naming
    the way out. Minute bars for only some of the days are fine."""
    if any(store.has_minute_year(year) for year in range(first.year, last.year + 1)):
        return
    raise DataError(
        f"backtest.bars = 'minute': data.root = {str(config.data.root)!r} holds no minute bars for "
        f"{first}..{last}; store minute bars there, or set backtest.bars = 'day' to trade on daily bars alone"
    )


def _mapped_cache(config: MaemaeConfig, store: BarStore) -> MappedBarCache | None:
    """The backtest's mapped cache (docs/data.md), or None when it is off. Paper replays and the exchange
    servers read Parquet: a replay reads a day, which a year's copy would not speed up, and a server running
    for days would hold copies that ``maemae data update`` makes stale."""
    mib = config.backtest.mapped_cache_mib
    if not mib:
        return None
    return MappedBarCache(store.root, mib * 2**20, config.backtest.mapped_cache_dir)


def _to_date(ns: int) -> date:
    return datetime.fromtimestamp(ns / 1e9, tz=KST).date()


def run_backtest(
    config: MaemaeConfig,
    *,
    start: date | None = None,
    end: date | None = None,
    out_dir: Path | None = None,
    every_bar: bool | None = None,
    progress: Progress | None = None,
    title: str = "maemae backtest",
    loaded: tuple[BacktestMarket, list[date]] | None = None,
    out_option: str = "out_dir",
) -> BacktestResult:
    """One backtest; ``loaded`` is a market already in memory with its days (a sweep runs many trials on
    one load). ``out_dir`` is checked before the run, and its files are replaced as a set after it
    (:mod:`maemae.backtest.outputs`); ``out_option`` names where it came from in an error line."""
    staging = None if out_dir is None else open_staging(out_dir, out_option)
    try:
        market, days = loaded or load_market(config, start, end, backtest=True)
        engine = build_backtest_engine(config, market.calendar, market.instruments, days[0])
        runner = BacktestRunner(
            engine, market, every_bar=config.backtest.every_bar if every_bar is None else every_bar
        )
        recorder = runner.run(days, progress)
        denials = Counter(record.reason.value for record in engine.gate.denials)
        metrics = compute_metrics(
            config.backtest.initial_cash,
            [record.equity for record in recorder.days],
            recorder.fills,
            list(engine.portfolio.realised_by_order.values()),
            denials,
        )
        if out_dir is not None and staging is not None:
            try:
                _write(staging, title, metrics, engine, recorder, market, days)
            except OSError as error:
                raise failed_write(out_dir, out_option, error) from None
            publish(staging, out_dir, out_option)
    finally:
        if staging is not None:
            discard(staging)
    return BacktestResult(metrics, out_dir, (days[0], days[-1]), engine, recorder)


def _write(
    out_dir: Path,
    title: str,
    metrics: Metrics,
    engine: Engine,
    recorder: BacktestRecorder,
    market: BacktestMarket,
    days: list[date],
) -> None:
    """Every output file of the run into ``out_dir`` (the staging folder)."""
    write_summary(
        out_dir / "summary.json",
        metrics,
        {
            "start": days[0],
            "end": days[-1],
            "sessions": len(days),
            "strategy_errors": engine.kernel.strategy_errors,
        },
    )
    write_trades(out_dir / "trades.csv", recorder.fills)
    write_orders(out_dir / "orders.csv", engine.orders.orders.values())
    write_equity(out_dir / "equity.csv", recorder.days)
    lo, hi = day_ns(days[0]), day_ns(days[-1]) + 1
    traded = {fill.code for fill in recorder.fills}
    daily = {}
    for code in traded:
        bars = market.daily.get(code)
        if bars is not None:
            a, b = np.searchsorted(bars.ts, [lo, hi])
            daily[code] = bars.slice(int(a), int(b))
    names = {code: item.name for code, item in market.instruments.items()}
    html = render_report(title, metrics, recorder.days, recorder.fills, daily, names)
    write_text_atomically(out_dir / "report.html", html)
