"""The trading day on a clock (SPEC 2): the live loop of paper and live trading.

The same kernel, risk gate, order manager and portfolio as the backtest and the replay; what differs is only
*when* they are called and where prices come from. On a trading day the scheduler runs:

=====================================  =====================================================================
when                                   what
=====================================  =====================================================================
before the open (``pre_open``)         select the universe (the selector's stocks, the safe asset, what is
                                       held), load 60 sessions of daily bars and yesterday's minute bars
every ``price_refresh_s`` (10 s)       refresh the universe's prices in batched calls; update today's
                                       daily bar and the forming minute bar (``engine.forming``); on a
                                       simulated exchange, the trading since the last refresh is a bar
                                       the working orders trade against
every ``daily_eval_s`` (1 min)         the daily strategy on the live price as today's close
every ``minute_eval_s`` (10 s)         fills and order updates; unfilled timeouts; exits and the minute
                                       strategy on today's and yesterday's minute bars; portfolio stop
every ``reconcile_s`` (1 min)          cash, holdings and open orders against the broker (audited)
after the close                        the closing print, the last fills, the day's results saved, done
=====================================  =====================================================================

Timers at the same moment run in that order. Each cycle first obeys the kill switch and changed parameters,
and settles any order whose reply was lost. On a day KRX does not trade nothing runs; special days (a late
open on the first session of the year, the CSAT day) follow ``krx.sessions``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import structlog

from maemae.alerts.messages import Alert, AlertKind, AlertSink, NoAlerts
from maemae.backtest.market import BacktestMarket
from maemae.brokers.sim.matching import MarketBar
from maemae.brokers.sim.venue import SimulatedVenue
from maemae.config import MaemaeConfig
from maemae.data.bars import BarArrays
from maemae.data.instruments import listing
from maemae.data.universe import Selector, Universe, select_stocks
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.domain.minute_bar import MinuteBar
from maemae.engine.alerting import DayWatch, TradeAlerts, alert_day_closed, alert_differences
from maemae.engine.composition import Core
from maemae.engine.forming import MINUTE, FormingMinutes
from maemae.engine.kernel import CodeDay
from maemae.engine.live_state import COUNTS, LIVE_DAY_DOCUMENT, SavedDay, SavedStock, saved_day
from maemae.engine.operator import OperatorSwitch
from maemae.engine.params import ParamsWatcher
from maemae.engine.persistence import StateRecorder
from maemae.engine.quotes import PriceSource, TodaySoFar
from maemae.engine.recovery import in_doubt, reconcile_and_record, settle_in_doubt
from maemae.engine.scheduler import Scheduler
from maemae.errors import HOOK_FAILURES, BrokerConnectionLost, BrokerError, StoreError, first_line
from maemae.execution.reconciliation import ShortfallWatch
from maemae.krx.calendar import TradingCalendar
from maemae.krx.limits import PriceLimits, price_limits
from maemae.krx.sessions import SessionSchedule, session_schedule
from maemae.krx.ticks import tick_table
from maemae.ports.broker import Quote
from maemae.ports.state import StateStore
from maemae.risk.state import TradingState
from maemae.strategy.api import DailyInput, DailyStrategy, MinuteStrategy, Signal, evaluated

log = structlog.get_logger("maemae.live")

PRE_OPEN_LEAD = timedelta(minutes=10)  # the universe is prepared this long before the open
# the share of a price refresh's interval that asking the broker's minute chart may take at a refresh: the
# cycles between (the fills, the exits) go on while the chart of a large universe comes in, stock by stock
CHART_SHARE = 0.6
CLOSE_GRACE = timedelta(seconds=30)  # the closing print is read this long after the close

# priorities of timers due at the same moment: prices first, then the daily signal, then decisions
_PRICES, _DAILY, _MINUTE, _RECONCILE, _CLOSE = range(5)


@dataclass(slots=True)
class _Stock:
    code: StockCode
    kind: InstrumentType
    market: Market
    history: BarArrays  # completed daily bars, oldest first
    yesterday: BarArrays  # yesterday's minute bars
    limits: PriceLimits
    base: int
    minutes: FormingMinutes = field(default_factory=FormingMinutes)
    signal: Signal = Signal.NONE
    last_snapshot: datetime | None = None
    # today's bars before this run's start, or of a pause, are still to come from the broker's chart: those
    # that began after ``chart_after`` (None: from the open); until then only the exit rules judge the stock
    chart_due: bool = False
    chart_after: datetime | None = None


def _no_orders() -> tuple[int, int]:
    return 0, 0


@dataclass(slots=True)
class DayReport:
    """What the day did so far. ``orders`` and ``fills`` are counted from the order manager when read, so a
    day stopped before the close (Ctrl-C, the dashboard's Stop) reports what happened, orders restored from
    an earlier run of the day included, instead of the zeros a count made only at the close gave."""

    day: date
    cycles: int = 0
    refreshes: int = 0
    completed_bars: int = 0
    equity: int | None = None  # at the close; None while the day has not closed
    halted_cycles: int = 0
    closed: bool = False
    totals: Callable[[], tuple[int, int]] = field(default=_no_orders, repr=False, compare=False)

    @property
    def orders(self) -> int:
        """Orders sent to the broker today (denied ones not counted)."""
        return self.totals()[0]

    @property
    def fills(self) -> int:
        """Fills of today's orders."""
        return self.totals()[1]


def live_cursor(day: date, at: datetime) -> dict[str, object]:
    """Where a live day stands (the runtime document ``cursor``): the day and the last cycle's time."""
    return {"driver": "live", "day": day.isoformat(), "at": at.isoformat()}


def resume_time(cursor: Mapping[str, object], day: date) -> datetime | None:
    """The time of the last cycle of ``day`` saved in ``cursor``; None when it holds another day. A cursor of
    a replay (``maemae paper``) is refused: each driver needs its own store."""
    if not cursor:
        return None
    if cursor.get("driver") != "live":
        raise StoreError(
            f"the state database holds a replay of {cursor.get('day')} (`maemae paper`): "
            "give `maemae run` its own store.url"
        )
    if cursor.get("day") != day.isoformat():
        return None
    return datetime.fromisoformat(str(cursor["at"]))


def refuse_an_earlier_day(where: str, held: date, day: date) -> None:
    """A run of ``day`` on a store that has already traded a later day ``held`` is refused: its orders,
    holdings, cash and risk state are those after ``held``, so a run of ``day`` would trade on a book from
    its future, and a replay skipped every day up to ``held`` and printed that day's figures as the run's."""
    if held > day:
        raise StoreError(
            f"store {where} has traded up to {held}, a later day than {day}, and a run cannot go back on the "
            f"same book: run {held} or a later day, or give {day} a new store.url"
        )


def day_universe(
    config: MaemaeConfig,
    market: BacktestMarket,
    selector: Selector,
    day: date,
    holdings: list[StockCode],
) -> Universe:
    """The day's universe (SPEC 2): the selector's stocks (at most 100), the safe asset, what is held."""
    universe = config.universe
    return select_stocks(
        day,
        market.daily,
        market.instruments,
        selector,
        max_stocks=universe.max_stocks,
        safe_asset=universe.safe_asset_code,
        holdings=holdings,
    )


def day_codes(
    config: MaemaeConfig,
    market: BacktestMarket,
    selector: Selector,
    day: date,
    holdings: list[StockCode],
    started: list[StockCode] | None,
) -> list[StockCode]:
    """The day's universe: the one an earlier run of the day ``started`` with (a stock sold since stays in
    it) and what is held now, or, at the day's first start, the selector's pick (``day_universe``)."""
    if started is not None:
        return list(dict.fromkeys([*started, *holdings]))
    return list(day_universe(config, market, selector, day, holdings).codes)


class LiveDay:
    """One trading day of the live loop on ``scheduler``'s clock."""

    def __init__(
        self,
        core: Core,
        *,
        day: date,
        market: BacktestMarket,
        selector: Selector,
        calendar: TradingCalendar,
        store: StateStore,
        recorder: StateRecorder,
        prices: PriceSource | None = None,
        feed: SimulatedVenue | None = None,
        on_close: Callable[[DayReport], None] | None = None,
        today_so_far: TodaySoFar | None = None,
        alerts: AlertSink | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        """``prices`` defaults to the broker; ``feed`` is the simulated exchange to trade on, when the orders
        go to one (paper trading on the simulated exchange); ``today_so_far`` gives the minute bars a run
        restarted during the day missed (without it, today's bars start at the restart); ``timer`` measures
        how long asking for them takes at a refresh (``CHART_SHARE``)."""
        self.core = core
        self.prices: PriceSource = prices or core.broker
        self.config: MaemaeConfig = core.config
        self.day = day
        self.market = market
        self.selector = selector
        self.calendar = calendar
        self.recorder = recorder
        self.feed = feed
        self.on_close = on_close
        self.today_so_far = today_so_far
        self.timer = timer
        self.stocks: dict[StockCode, _Stock] = {}
        self.report = DayReport(day, totals=self._today_totals)
        self.schedule: SessionSchedule | None = session_schedule(day, calendar)
        self.alerts: AlertSink = alerts or NoAlerts()
        TradeAlerts(core.orders, self.alerts, fills=self.config.alerts.fills)
        self._watch = DayWatch(core.kernel, self.alerts)
        self._switch = OperatorSwitch(
            store, core.kernel, recorder, self.config.execution.halt_file, self.alerts
        )
        self._params = ParamsWatcher(store, self.config, core.kernel, recorder, self._use_strategies)
        self._shortfalls = ShortfallWatch()
        self.closed = False
        # an earlier run of the day stopped half-way: its memory of the day, to go on from exactly
        self._saved = saved_day(store, day)
        self._no_chart = False  # the broker failed to give today's bars before this start: not asked again
        self._charted_at: datetime | None = None  # when the chart was last asked for the stocks due
        self._parked = self._saved.parked if self._saved else False
        if self._saved:
            for name, count in self._saved.counts.items():
                setattr(self.report, name, count)

    # ----- scheduling
    def plan(self, scheduler: Scheduler) -> bool:
        """Put the day's timers on ``scheduler``; False when KRX does not trade that day."""
        schedule = self.schedule
        if schedule is None:
            return False
        execution = self.config.execution
        now = scheduler.clock.now()
        last = schedule.closing_auction - timedelta(seconds=1)
        scheduler.at(max(schedule.open - PRE_OPEN_LEAD, now), self.prepare, name="prepare", priority=_PRICES)
        cadences = (
            (execution.price_refresh_s, self.refresh, "prices", _PRICES),
            (execution.daily_eval_s, self.evaluate_daily, "daily", _DAILY),
            (execution.minute_eval_s, self.cycle, "minute", _MINUTE),
            (execution.reconcile_s, self.reconcile, "reconcile", _RECONCILE),
        )
        for seconds, callback, name, priority in cadences:
            interval = timedelta(seconds=seconds)
            start = self._first_due(interval, schedule.open, now)
            if start <= last:  # a start in the closing auction (or after the close) waits for the close
                scheduler.every(interval, callback, start=start, end=last, name=name, priority=priority)
        if self._between_two_refreshes(now, schedule.open, last):
            # the minute running now has a bar from its first snapshot: at the next refresh it may be over,
            # and its volume would go to the next minute's bar
            scheduler.at(now, self.refresh, name="prices at the start", priority=_PRICES)
        # a start after the close (a day stopped before it) closes the day at once, after the preparation
        scheduler.at(max(schedule.close + CLOSE_GRACE, now), self.close, name="close", priority=_CLOSE)
        return True

    def _between_two_refreshes(self, now: datetime, open_: datetime, last: datetime) -> bool:
        """A start during the session off the price refresh's grid, other than a replay going on from its
        last saved cycle (which took that minute's snapshots before its stop)."""
        if not open_ < now <= last or self._goes_on_in_place(now):
            return False
        refresh = timedelta(seconds=self.config.execution.price_refresh_s)
        return self._first_due(refresh, open_, now) != now

    def _goes_on_in_place(self, now: datetime) -> bool:
        """A replay going on from its last saved cycle's moment: it missed nothing since."""
        return self._saved is not None and now <= self._saved.at

    def _first_due(self, interval: timedelta, open_: datetime, now: datetime) -> datetime:
        """A timer's first moment: on its grid from the open (open + k × interval), not before ``now``, and
        after the saved cycle of a run of the day stopped half-way, whose moments that run has done: a
        restarted day goes on at the moments the unbroken day would have run."""
        steps = max(0, -((open_ - now) // interval))  # the ceiling of (now - open) / interval
        if self._saved is not None and open_ + steps * interval <= self._saved.at:
            steps = (self._saved.at - open_) // interval + 1
        return open_ + steps * interval

    # ----- before the open
    def prepare(self, now: datetime) -> None:
        """Select the universe and load its history; open the day for the kernel (and the exchange)."""
        if self.stocks:
            return
        core = self.core
        held = [p.code for p in core.portfolio.held()]
        started = list(self._saved.stocks) if self._saved else None
        codes = day_codes(self.config, self.market, self.selector, self.day, held, started)
        history_days = core.daily.history_days()
        previous = self.calendar.previous_session(self.day)
        bases: dict[StockCode, int] = {}
        loaded: dict[StockCode, tuple[BarArrays, BarArrays]] = {}
        for code in codes:
            history = self.market.history.daily_before(code, self.day, history_days)
            if not len(history):
                continue  # never traded before today: nothing to judge it by
            # on the grid, a quiet minute a flat bar: as today's bars form from snapshots and as a backtest
            # lays them, so the minute strategy's indicators run over the same bars in both
            loaded[code] = (history, self.market.minute_day_on_grid(code, previous))
            bases[code] = int(history.close[-1])
        if self.feed is not None:
            self.feed.start_day(self.day, bases)
        for code, (history, yesterday) in loaded.items():
            kind, market = listing(self.market.instruments.get(code))
            limits = (self.feed.limits(code) if self.feed else None) or price_limits(
                bases[code], self.day, kind, market
            )
            self.stocks[code] = _Stock(code, kind, market, history, yesterday, limits, bases[code])
            self._today_before(self.stocks[code], now)
        self._fill_in(now)
        core.kernel.start_day(self.day, now, self._code_days(), self.price_of)

    def _today_before(self, stock: _Stock, now: datetime) -> None:
        """Today's bars before this start: as the stopped run of the day left them (the restart trades on the
        same bars), with the minutes of a pause or those its chart had not yet given; or, at a first start
        during the day, those so far. The chart's are asked by ``_fill_in``."""
        saved = self._saved
        kept = saved.stocks.get(stock.code) if saved is not None else None
        if saved is not None and kept is not None:
            stock.minutes.restore(saved.bars.get(stock.code, []), kept.forming, kept.volume_seen)
            stock.signal, stock.last_snapshot = kept.signal, kept.last_snapshot
            stock.chart_due, stock.chart_after = kept.chart_due, kept.chart_after
            if not stock.chart_due:
                self._after_a_pause(stock, now)
        elif self.today_so_far is not None and self.schedule is not None and now > self.schedule.open:
            stock.chart_due = True
            stock.last_snapshot = now

    def _after_a_pause(self, stock: _Stock, now: datetime) -> None:
        """A restart some time after the stop (on the clock): the broker's bars of the whole minutes it
        missed, the minute forming at the stop among them, are due."""
        if self._goes_on_in_place(now):
            return
        minutes = stock.minutes
        forming = minutes.forming
        last = forming or (minutes.completed[-1] if minutes.completed else None)
        if last is not None and last.start + MINUTE > now:
            return  # the last bar's minute has not ended: there is nothing whole to ask for
        stock.chart_due = True
        stock.chart_after = forming.start - MINUTE if forming else (last.start if last else None)

    def _fill_in(self, now: datetime) -> None:
        """Ask the chart for the stocks whose bars of today are due (``_today_before``), held ones first,
        then those with a buy signal (``_ranking_signal``), until ``CHART_SHARE`` of a refresh's interval is
        spent; the others are asked at the next refreshes. A start with a universe the broker's pacing lets
        through in time (a restart after a short pause, or any replay) has every chart before its first
        cycle."""
        due = [s for s in self.stocks.values() if s.chart_due]
        if not due or now == self._charted_at:  # a start's first refresh: ``prepare`` has just asked
            return
        self._charted_at = now
        portfolio = self.core.portfolio
        due.sort(key=lambda s: (portfolio.owned(s.code) == 0, self._ranking_signal(s) != Signal.BUY, s.code))
        budget = CHART_SHARE * self.config.execution.price_refresh_s
        started = self.timer()
        for stock in due:
            bars = self._today_bars(stock.code, now, stock.chart_after)
            stock.minutes.fill_in(bars)
            stock.chart_due = False
            if self._no_chart:  # the broker cannot give them: every stock goes on with the bars it builds
                for other in due:
                    other.chart_due = False
                return
            if self.timer() - started >= budget:
                break
        left = sum(1 for s in due if s.chart_due)
        if left:
            log.info("today_bars_pending", at=now.isoformat(), stocks_left=left, stocks=len(due))

    def _ranking_signal(self, stock: _Stock) -> Signal:
        """The daily signal a stock's chart is ranked by: its own once it has had a price today. Before that
        (the first refresh of a first start during the day, when the charts are asked before any price) no
        evaluation has run, so the daily strategy is asked once here with yesterday's close standing for
        today's, as if the price had not moved: the stocks it would buy get their bars, and so their first
        minute decisions, before the rest of a universe the broker's pacing lets through over several
        refreshes. The signal is not kept; an error is left for the daily evaluation to report."""
        if stock.minutes.last_price is not None:
            return stock.signal
        data = DailyInput(stock.code, stock.history.close, stock.history.volume, stock.base, 0)
        try:
            return evaluated(self.core.daily, data)
        except HOOK_FAILURES:
            return Signal.NONE

    def _today_bars(self, code: StockCode, now: datetime, after: datetime | None) -> list[MinuteBar]:
        """The minute bars of ``code`` that began after ``after`` and ended by ``now``, from the stored day
        or the broker's minute chart. A broker that cannot give them is asked no more this start (each
        stock's call would wait out the same failure): the day goes on with the bars it builds from here, and
        the operator is told. A lost connection ends the run as it does anywhere (exit 7: the supervisor
        restarts it)."""
        if self.today_so_far is None or self._no_chart:
            return []
        try:
            return self.today_so_far(code, now, after)
        except BrokerConnectionLost:
            raise
        except BrokerError as error:
            self._no_chart = True
            text = (
                f"today's minute bars before {now:%H:%M} could not be read ({first_line(error)}): "
                "the day's bars start at this start"
            )
            log.warning("today_bars_unavailable", code=str(code), error=first_line(error))
            self.alerts.send(Alert(AlertKind.ERROR, "minute chart unavailable", text, now))
            return []

    # ----- every few seconds
    def refresh(self, now: datetime) -> None:
        """Batched prices for the universe → today's bars; completed minute bars to the simulated
        exchange."""
        self.prepare(now)
        self._fill_in(now)
        quotes = self.prices.current_prices(list(self.stocks))
        self.report.refreshes += 1
        self._take(quotes, now, closing=False)

    def _take(self, quotes: Mapping[StockCode, Quote], now: datetime, *, closing: bool) -> None:
        """Snapshots into today's minute bars; on a simulated exchange, the trading since the previous
        snapshot (its price path and volume) is one bar the working orders trade against."""
        trades: list[tuple[StockCode, MarketBar]] = []
        for code, quote in quotes.items():
            stock = self.stocks.get(code)
            if stock is None or quote.price <= 0:
                continue
            previous = stock.minutes.last_price
            volume_before = stock.minutes.volume_seen
            if stock.minutes.update(quote.price, quote.volume, now, closing=closing) is not None:
                self.report.completed_bars += 1
            if closing and stock.minutes.finish() is not None:
                self.report.completed_bars += 1
            if previous is not None and stock.last_snapshot is not None:
                price = quote.price
                trades.append(
                    (
                        code,
                        MarketBar(
                            stock.last_snapshot,
                            previous,
                            max(previous, price),
                            min(previous, price),
                            price,
                            max(quote.volume - volume_before, 0),
                            stock.limits,
                            closing_auction=closing,
                        ),
                    )
                )
            stock.last_snapshot = now
        if self.feed is not None:
            for code, bar in trades:
                self.feed.on_bar(code, bar)

    def _use_strategies(self, daily: DailyStrategy, minute: MinuteStrategy, now: datetime) -> None:
        """Trade on with strategies whose parameters changed while running (``engine.params``): each stock's
        daily bars loaded again when ``daily`` asks for another number of them, and the daily signals
        evaluated with it at once, not at the next ``daily_eval_s``."""
        core = self.core
        days = daily.history_days()
        if days != core.daily.history_days():
            for stock in self.stocks.values():
                stock.history = self.market.history.daily_before(stock.code, self.day, days)
        core.daily, core.minute = daily, minute
        self.evaluate_daily(now)

    def evaluate_daily(self, now: datetime) -> None:
        """The daily strategy on the live price as today's close (SPEC 3)."""
        daily = self.core.daily
        for stock in self.stocks.values():
            price = stock.minutes.last_price
            if price is None:
                continue
            data = DailyInput(
                stock.code, stock.history.close, stock.history.volume, price, stock.minutes.volume_today
            )
            try:
                stock.signal = evaluated(daily, data)
            except HOOK_FAILURES as error:  # a strategy bug: no daily signal until it evaluates again
                self.core.kernel.strategy_failed(daily.name, "evaluate", stock.code, error, daily.evaluate)
                stock.signal = Signal.NONE

    def cycle(self, now: datetime) -> None:
        """Fills, timeouts, then exits and the minute strategy for every stock with a price."""
        core = self.core
        self.report.cycles += 1
        self._params.poll(now)
        if self._switch.poll(now) is not TradingState.ACTIVE:
            self.report.halted_cycles += 1
        core.orders.process_events()
        core.orders.check_timeouts(now)
        kernel = core.kernel
        kernel.data = self._code_days()
        if not self._parked and self.config.universe.safe_asset_code:
            buys = sum(1 for s in self.stocks.values() if s.signal == Signal.BUY)
            kernel.park_safe_asset(now, buys, self.price_of)
            self._parked = True
        kernel.follow_through(now, self.price_of)
        for code in sorted(kernel.data):
            data, stock = kernel.data[code], self.stocks[code]
            if len(data.bars) <= data.today_start:
                continue  # no price today yet
            if stock.chart_due:  # a hole in its bars of today: the minute strategy waits for the chart
                kernel.check_exits(code, len(data.bars) - 1, now, self.price_of)
            else:
                kernel.on_bar(code, len(data.bars) - 1, now, stock.signal, self.price_of)
        kernel.check_portfolio_stop(now, self.price_of)
        self._watch.check(now)
        if in_doubt(core.orders):
            settle_in_doubt(core.orders, core.orders.broker, now)
        unsaved = {code: stock.minutes.take_unsaved() for code, stock in self.stocks.items()}
        self.recorder.checkpoint(
            live_cursor(self.day, now),
            valued=(now, self.price_of),
            documents={LIVE_DAY_DOCUMENT: self._memory(now).document()},
            minute_bars={code: bars for code, (_, bars) in unsaved.items()},
            rewritten={code for code, (rewrite, _) in unsaved.items() if rewrite},
        )

    def reconcile(self, now: datetime) -> None:
        lines = reconcile_and_record(
            self.core.kernel, self.core.orders.broker, self.recorder, now, self._shortfalls, self.price_of
        )
        alert_differences(self.alerts, lines, now)

    # ----- after the close
    def close(self, now: datetime) -> None:
        """The closing print, the last fills, the day's results; the day is over: the kernel lets go of its
        bars and logs its repeated strategy errors with their counts, before ``on_close`` hands the day on
        (nothing after the close reads the bars: the book check and the day's report are of the store, the
        orders and the book)."""
        if self.closed:
            return
        core = self.core
        if self.stocks:
            quotes = self.prices.current_prices(list(self.stocks))
            self._take(quotes, self.schedule.close if self.schedule else now, closing=True)
        if self.feed is not None:
            self.feed.end_day()
        core.orders.process_events()
        prices = {p.code: self.price_of(p.code) for p in core.portfolio.held()}
        equity = core.portfolio.equity(prices.__getitem__)
        self.recorder.close_day(self.day, now, equity, prices)
        core.kernel.close_day()
        self.report.equity = equity
        self.closed = self.report.closed = True
        alert_day_closed(
            self.alerts,
            self.day,
            now,
            orders=self.report.orders,
            fills=self.report.fills,
            equity=equity,
            start_equity=core.gate.state.day_start_equity,
        )
        if self.on_close is not None:
            self.on_close(self.report)

    # ----- helpers
    def _memory(self, now: datetime) -> SavedDay:
        """What a restart of the day needs from this cycle (``engine.live_state``)."""
        report = self.report
        return SavedDay(
            self.day,
            now,
            self._parked,
            {name: getattr(report, name) for name in COUNTS},
            {
                code: SavedStock(
                    stock.signal,
                    stock.minutes.forming,
                    stock.minutes.volume_seen,
                    stock.last_snapshot,
                    stock.chart_due,
                    stock.chart_after,
                )
                for code, stock in self.stocks.items()
            },
        )

    def _today_totals(self) -> tuple[int, int]:
        """Today's orders sent to the broker and their fills, as the order manager holds them now."""
        today = [o for o in self.core.orders.orders.values() if o.created_at.date() == self.day]
        return sum(1 for o in today if o.broker_order_no is not None), sum(len(o.fill_ids) for o in today)

    def price_of(self, code: StockCode) -> int:
        stock = self.stocks.get(code)
        if stock is None:
            return 0
        return stock.minutes.last_price or stock.base

    def _code_days(self) -> dict[StockCode, CodeDay]:
        return {
            code: CodeDay(
                code,
                s.kind,
                s.market,
                s.minutes.arrays(s.yesterday),
                len(s.yesterday),
                s.limits,
                tick_table(self.day, s.kind, s.market),
            )
            for code, s in self.stocks.items()
        }
