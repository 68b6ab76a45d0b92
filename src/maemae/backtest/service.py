"""``run_backtest``: one backtest from a config, with its results written to a directory.

The CLI's ``maemae backtest`` and ``maemae compare`` and the tests all go through here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import structlog

from maemae import ctrl_c
from maemae.backtest.market import BacktestMarket
from maemae.backtest.metrics import Metrics, compute_metrics
from maemae.backtest.outputs import (
    failed_write,
    publish,
    staged,
    write_equity,
    write_orders,
    write_summary,
    write_text_atomically,
    write_trades,
)
from maemae.backtest.report_html import render_report, run_settings
from maemae.backtest.runner import BacktestRecorder, BacktestRunner, Progress
from maemae.config import MaemaeConfig
from maemae.data.bar_cache import MappedBarCache
from maemae.data.bars import BarArrays, Timeframe, day_ns
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.engine.composition import Engine, build_backtest_engine, make_calendar
from maemae.errors import ConfigError, DataError
from maemae.wording import counted, where_relative

log = structlog.get_logger("maemae.backtest")

# the fewest sessions a run without a start leaves before its first day: more than the built-in daily
# strategy's window (SMADaily's long average, 20 sessions by default), so a run's default days are the same
# whatever its window up to 60; a strategy that needs more gets its own history_days() (``warmup_sessions``)
WARMUP_SESSIONS = 60

# shows the user one line about the run (the CLI prints it); the warning logged with it says ``shown``, so the
# console does not print the same thing again (maemae.logs)
Notice = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class BacktestResult:
    metrics: Metrics
    out_dir: Path | None
    days: tuple[date, date]
    engine: Engine
    recorder: BacktestRecorder


def load_market(
    config: MaemaeConfig,
    start: date | None,
    end: date | None,
    *,
    backtest: bool = False,
    notice: Notice | None = None,
) -> tuple[BacktestMarket, list[date]]:
    """The stored market for the run, and the trading days to run (after the daily strategy's warm-up).

    ``backtest``: the market of a backtest, on the bars ``backtest.bars`` names; paper trading and the
    exchange servers always trade minute bars. ``notice`` is told, in one line, when the run starts with
    less daily history than it asked for.
    """
    check_date_order(config, start, end)
    calendar = make_calendar(config)
    store = _open_store(config)
    cache = _mapped_cache(config, store) if backtest else None
    daily = store.read_many(store.codes(Timeframe.DAY), Timeframe.DAY, cache=cache)
    stamps = [bars.ts for bars in daily.values() if len(bars)]
    if not stamps:
        raise _no_daily_bars(config, store)
    first = _to_date(min(int(ts[0]) for ts in stamps))
    last = _to_date(max(int(ts[-1]) for ts in stamps))
    asked = _named_bounds(config, start, end)
    (start_name, start), (end_name, asked_end) = asked
    end = min(asked_end or last, last)
    sessions = [d for d in calendar.sessions(first, end) if d >= first]
    if start is None:  # leave the daily strategy its warm-up
        warmup = warmup_sessions(config)
        days = sessions[warmup:] if len(sessions) > warmup else sessions[len(sessions) // 2 :]
    else:
        days = [d for d in sessions if d >= start]
    if not days:
        raise _no_days_in(config, asked, first, last) or NoTradingDays(
            f"{_range_named(asked, first, end)}: no KRX session in that range; data.root = "
            f"{str(config.data.root)!r} holds daily bars from {first} to {last}: expected a range with a "
            "trading day"
        )
    if backtest:
        _check_universe(config, daily, notice)
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
        raise NoTradingDays(f"backtest: no stored trading days between {days[0]} and {days[-1]}")
    if start is not None and start < first:
        _warn_no_history(config, f"{start_name} {start}", traded[0], notice)
    if asked_end is not None and asked_end > last:
        _warn_no_later_days(config, f"{end_name} {asked_end}", traded[-1], notice)
    return market, traded


def warmup_sessions(config: MaemaeConfig) -> int:
    """Sessions a run without a start leaves before its first day: what the daily strategy needs
    (``history_days()``), and never fewer than :data:`WARMUP_SESSIONS`, so the built-ins' runs keep their
    days."""
    return max(WARMUP_SESSIONS, _history_days(config))


def _history_days(config: MaemaeConfig) -> int:
    """The daily bars the configured daily strategy decides on (0 without one: nothing to warm up)."""
    from maemae.strategy.loader import load_daily

    spec = config.strategies.daily
    return 0 if spec is None else load_daily(spec).history_days()


def _named_bounds(
    config: MaemaeConfig, start: date | None, end: date | None
) -> tuple[tuple[str, date | None], tuple[str, date | None]]:
    """The run's first and last day as the user set them, each named where it came from (``--start`` over
    ``backtest.start``), so an error line points at the value to change."""
    first = ("--start", start) if start else ("backtest.start", config.backtest.start)
    last = ("--end", end) if end else ("backtest.end", config.backtest.end)
    return first, last


class NoTradingDays(DataError):
    """The store holds bars, but no trading day of the range asked for: the one loading error a caller may
    word for itself (``paper --replay`` of a day without minute bars); any other is the store's problem."""


def _no_days_in(
    config: MaemaeConfig, asked: tuple[tuple[str, date | None], ...], first: date, last: date
) -> NoTradingDays | None:
    """The line for a range the user gave that misses the stored days (``first`` to ``last``) altogether,
    naming the range as given and the days there are; None when the range meets them (the loader's own
    reason then stands: no session in the overlap)."""
    given = [(name, value) for name, value in asked if value is not None]
    bounds = dict(given)
    low = bounds.get("--start") or bounds.get("backtest.start") or first
    high = bounds.get("--end") or bounds.get("backtest.end") or last
    if not given or (low <= last and high >= first):
        return None
    return NoTradingDays(
        f"{_range_named(asked, first, last)}: no stored trading day in that range; data.root = "
        f"{str(config.data.root)!r} holds daily bars from {first} to {last}"
    )


def _range_named(asked: tuple[tuple[str, date | None], ...], first: date, last: date) -> str:
    """The range as the user gave it (``--start 2025-04-05 --end 2025-04-06``), or the stored days the run
    fell back to when it gave none."""
    given = [f"{name} {value}" for name, value in asked if value is not None]
    return " ".join(given) if given else f"backtest {first}..{last}"


def check_date_order(config: MaemaeConfig, start: date | None, end: date | None) -> None:
    """Refuse a start after the end, naming both: the loader's first check, so ``backtest``, ``compare`` and
    ``sweep`` say the same (an output folder a refused run made is removed again: ``outputs.staged``)."""
    (start_name, first), (end_name, last) = _named_bounds(config, start, end)
    if first is not None and last is not None and first > last:
        raise ConfigError(
            f"{start_name} {first} is after {end_name} {last}: expected a start on or before the end"
        )


def _open_store(config: MaemaeConfig) -> BarStore:
    """The bar store at ``data.root``; a root that is missing (a typo) or a file is its own line, not the
    "no bars" one, which would send the user to make data they may already have elsewhere."""
    root = config.data.root
    if not root.exists():
        raise DataError(
            f"data.root = {str(root)!r}: no such folder{where_relative(root)}; expected the market-data "
            "folder (make one with "
            f"`maemae data sample --dir {root}` or `maemae data import --csv FILE --dir {root}`)"
        )
    if not root.is_dir():
        raise DataError(f"data.root = {str(root)!r}: is a file; expected the market-data folder")
    return BarStore(root)


def _no_daily_bars(config: MaemaeConfig, store: BarStore) -> DataError:
    """Why the store has no daily bars to run on: none at all, or minute bars alone (a minute-only CSV
    import). The run's days, its universe and the daily strategy all come from daily bars, and no maemae
    command builds them from minute bars, so the line says where to get them."""
    root = str(config.data.root)
    if store.codes(Timeframe.MINUTE):
        return DataError(
            f"data.root = {root!r}: holds minute bars but no daily bars; expected daily bars too (the run's "
            "days, universe and daily strategy come from them, and `maemae data import` does not build them "
            "from minute bars): import a daily CSV with `maemae data import --timeframe day` or fetch them "
            "with `maemae data fetch`"
        )
    return DataError(
        f"data.root = {root!r}: no bars stored; expected daily bars (make them with "
        f"`maemae data sample --dir {root}` or `maemae data import`)"
    )


def _warn_no_history(config: MaemaeConfig, start: str, first_day: date, notice: Notice | None) -> None:
    """A start (``--start 2024-01-02``) before the first stored day runs from that day with no daily history
    before it, so the daily strategy's first weeks decide on less than its ``history_days()``: said once in
    the log, once to the user, with the strategy's own number (a fixed 60 misled for a strategy needing 1)."""
    needed = _history_days(config)
    log.warning(
        "start_before_stored_history",
        start=start,
        first_stored_day=str(first_day),
        history_days=needed,
        data_root=str(config.data.root),
        shown=notice is not None,
    )
    if notice is not None:
        shorter = (
            f", with no stored session before it; the daily strategy decides on {counted(needed, 'session')}"
            if needed
            else ""
        )
        notice(f"{start} is before the first stored day: the run starts on {first_day}{shorter}")


def _warn_no_later_days(config: MaemaeConfig, end: str, last_day: date, notice: Notice | None) -> None:
    """An end (``--end 2026-01-10``) after the last stored day runs to that day: a run shorter than asked
    must not read as the whole range. Said once in the log, once to the user, as a start before the data
    is."""
    log.warning(
        "end_after_stored_days",
        end=end,
        last_stored_day=str(last_day),
        data_root=str(config.data.root),
        shown=notice is not None,
    )
    if notice is not None:
        notice(f"{end} is after the last stored day: the run ends on {last_day}")


def _warn_bare_days(recorder: BacktestRecorder, days: list[date], notice: Notice | None) -> None:
    """Sessions of a minute-bar run on which the universe had no minute bars (minute bars stored for some
    days only): the minute strategy traded on the others alone, and a Sharpe of one order read as the whole
    run's. Said once in the log, once to the user; only for a run that tells the user (``notice``), as
    ``_warn_short_history``: a sweep's trials would log it once a trial."""
    bare = recorder.bare_days
    if notice is None or not bare:
        return
    log.warning(
        "sessions_without_minute_bars", sessions=len(bare), of=len(days), first=str(bare[0]), shown=True
    )
    notice(
        f"{len(bare)} of {counted(len(days), 'session')} {'has' if len(bare) == 1 else 'have'} no minute "
        f"bars for the universe (the first {bare[0]}): the minute strategy trades only on the others"
    )


def _warn_short_history(
    config: MaemaeConfig, market: BacktestMarket, first_day: date, needed: int, notice: Notice | None
) -> None:
    """A run whose first day has fewer stored sessions before it than the daily strategy's window
    (``history_days``) decides on a short history, or not at all, until the window fills: its first weeks
    trade differently from the same days in a longer run. Said once in the log, once to the user. A start
    before the first stored day has its own line (``_warn_no_history``). Only for a run that tells the user
    (``notice``): a comparison's policies and a sweep's trials would log it once a run."""
    if notice is None:
        return
    stored = [int(bars.ts[0]) for bars in market.daily.values() if len(bars)]
    first_stored = _to_date(min(stored))
    if first_stored >= first_day:
        return  # the start before the stored days has been said
    before = len(market.trading_days(first_stored, first_day - timedelta(days=1)))
    if before >= needed:
        return
    log.warning(
        "short_daily_history",
        first_day=str(first_day),
        stored_sessions_before=before,
        history_days=needed,
        data_root=str(config.data.root),
        shown=True,
    )
    notice(
        f"the run starts on {first_day} with {before} stored sessions before it, fewer than the daily "
        f"strategy's {needed}: it decides on a shorter history until {needed} have passed"
    )


def _check_universe(config: MaemaeConfig, daily: dict[StockCode, BarArrays], notice: Notice | None) -> None:
    """A fixed universe none of whose codes is stored, with no stored safe asset either, would run every day
    and trade nothing, ending with 0 orders and exit 0 as if the strategy had chosen not to trade: that is an
    error. With the safe asset stored the run still parks idle cash in it. Some codes missing is a warning (a
    stock listed during the period, a typo among many), as is a missing safe asset: idle cash then stays
    cash. Each is logged, and said to the user (``notice``): a run on fewer stocks than asked for must not
    read as one on all of them."""
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
            log.warning("universe_codes_not_stored", codes=missing, data_root=root, shown=notice is not None)
            if notice is not None:
                left = len(universe.codes) - len(missing)
                trades = f"trades the other {left}" if left else "only parks idle cash in the safe asset"
                notice(
                    f"universe.codes: {', '.join(missing)} not stored under data.root = {root!r}: the run "
                    f"{trades} (`maemae data info` lists them)"
                )
    if safe is not None and safe not in stored:
        log.warning(
            "safe_asset_not_stored", safe_asset_code=str(safe), data_root=root, shown=notice is not None
        )
        if notice is not None:
            notice(
                f"universe.safe_asset_code = '{safe}' not stored under data.root = {root!r}: idle cash "
                "stays cash"
            )


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
    notice: Notice | None = None,
) -> BacktestResult:
    """One backtest; ``loaded`` is a market already in memory with its days (a sweep runs many trials on
    one load). ``out_dir`` is checked before the run, and its files are replaced as a set after it
    (:mod:`maemae.backtest.outputs`); ``out_option`` names where it came from in an error line. A run refused
    for its dates or data leaves no folder it made behind."""
    if out_dir is None:
        market, days = loaded or load_market(config, start, end, backtest=True, notice=notice)
        return _run(config, market, days, every_bar, progress, notice)
    with staged(out_dir, out_option) as staging:
        market, days = loaded or load_market(config, start, end, backtest=True, notice=notice)
        result = _run(config, market, days, every_bar, progress, notice)
        try:
            write_outputs(staging, title, result, market, days)
        except OSError as error:
            raise failed_write(out_dir, out_option, error) from None
        ctrl_c.honour()  # the last moment to be interrupted: after it the set is in place, the run complete
        publish(staging, out_dir, out_option)
    return replace(result, out_dir=out_dir)


def _run(
    config: MaemaeConfig,
    market: BacktestMarket,
    days: list[date],
    every_bar: bool | None,
    progress: Progress | None,
    notice: Notice | None = None,
) -> BacktestResult:
    """The run itself, on a loaded market: no files."""
    engine = build_backtest_engine(config, market.calendar, market.instruments, days[0])
    _warn_short_history(config, market, days[0], engine.daily.history_days(), notice)
    runner = BacktestRunner(
        engine, market, every_bar=config.backtest.every_bar if every_bar is None else every_bar
    )
    ctrl_c.honour()  # one pressed while the market loaded
    recorder = runner.run(days, _honouring_ctrl_c(progress))
    engine.kernel.detach()
    if config.backtest.bars == "minute":
        _warn_bare_days(recorder, days, notice)
    denials = Counter(record.reason.value for record in engine.gate.denials)
    metrics = compute_metrics(
        config.backtest.initial_cash,
        [record.equity for record in recorder.days],
        recorder.fills,
        list(engine.portfolio.realised_by_order.values()),
        denials,
    )
    return BacktestResult(metrics, None, (days[0], days[-1]), engine, recorder)


def _honouring_ctrl_c(progress: Progress | None) -> Progress:
    """The runner's callback after each day, raising first a Ctrl-C held back (:mod:`maemae.ctrl_c`): the
    point of the compiled day loop where interpreted code runs once a simulated day, so a Ctrl-C ends the run
    within a day's work, and outside compiled code."""

    def each_day(done: int, total: int) -> None:
        ctrl_c.honour()
        if progress is not None:
            progress(done, total)

    return each_day


def write_outputs(
    out_dir: Path, title: str, result: BacktestResult, market: BacktestMarket, days: list[date]
) -> None:
    """Every output file of the run into ``out_dir`` (a staging folder: :func:`run_backtest`'s, or one
    policy's folder in a comparison's), from the market and days it ran on."""
    metrics, engine, recorder = result.metrics, result.engine, result.recorder
    write_summary(
        out_dir / "summary.json",
        metrics,
        {
            "start": days[0],
            "end": days[-1],
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
    kernel = engine.kernel
    html = render_report(
        f"{title}, {days[0]} to {days[-1]} ({counted(len(days), 'session')})",
        metrics,
        recorder.days,
        recorder.fills,
        daily,
        names,
        strategy_errors=kernel.strategy_errors,
        first_strategy_error=kernel.first_strategy_error,
        settings=run_settings(engine.config, engine.daily, engine.minute),
    )
    write_text_atomically(out_dir / "report.html", html)
