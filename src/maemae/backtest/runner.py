"""The backtest driver: replays stored bars through the trading kernel on a simulated clock.

It owns no trading logic. Per session it selects the universe, opens the simulated exchange's day, then for
each bar of the session's grid: lets the exchange trade the working orders on that bar, hands the fills to the
order manager, re-prices or cancels timed-out orders, and wakes the kernel for the stocks where something can
happen (DESIGN 1b). In ``every_bar`` mode it wakes every stock on every bar instead; a test asserts both modes
give identical orders and fills.
"""

from __future__ import annotations

import gc
from bisect import bisect_left
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from maemae.backtest.equity_scan import AddThenFirst, add_shares, add_then_first_at_or_below_entry
from maemae.backtest.market import MINUTE_NS, BacktestMarket, DailyCloses, DayGrid
from maemae.brokers.sim.matching import market_bar
from maemae.compiled import pickle_by_fields
from maemae.data.bars import day_ns
from maemae.data.instruments import listing
from maemae.data.universe import Universe, select_stocks
from maemae.domain.clock_time import KST, kst_after
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market
from maemae.domain.events import DomainEvent, FillReceived
from maemae.domain.fill import Fill
from maemae.engine.composition import Engine, universe_selector
from maemae.engine.kernel import CodeDay
from maemae.errors import HOOK_FAILURES, StoreError, StrategyError
from maemae.krx.ticks import tick_table
from maemae.strategy.api import DailyInput, DailyStrategy, MinuteStrategy, Signal, WakeBars, evaluated
from maemae.wording import NEW_STORE

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a replay stands: the day, and the first bar not yet stepped (one past the last bar: the day
    is closed)."""

    day: date
    next_bar: int

    def to_dict(self) -> dict[str, object]:
        return {"day": self.day.isoformat(), "next_bar": self.next_bar}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Cursor | None:
        if not data:
            return None
        if "next_bar" not in data:
            raise StoreError(
                f"the state database holds a `maemae run` day ({data.get('day')}), not a replay: "
                f"give the replay {NEW_STORE}"
            )
        return cls(date.fromisoformat(str(data["day"])), int(str(data["next_bar"])))


StepHook = Callable[[Cursor], None]
Pacer = Callable[[datetime], None]


@dataclass(slots=True)
class DayRecord:
    day: date
    equity: int
    cash: int
    positions: int
    prices: dict[StockCode, int] = field(default_factory=dict)  # closing prices of the held stocks


@dataclass(slots=True)
class BacktestRecorder:
    """Collects what the reports need as the run goes."""

    fills: list[Fill] = field(default_factory=list)
    days: list[DayRecord] = field(default_factory=list)
    # sessions whose universe had a history but no bars (a minute-bar run on minute bars stored for only some
    # days): the minute strategy could not trade on them, which the figures alone do not show
    bare_days: list[date] = field(default_factory=list)

    def __call__(self, event: DomainEvent) -> None:
        if isinstance(event, FillReceived):
            self.fills.append(event.fill)


# Allocations between two young collections while a run lasts (CPython 3.11's default is 700). A run's orders,
# fills and events outlive the young generation, so each young collection walks them, and every tenth walks
# all the young survivors since the last. At 700, a 20-stock, 60-day backtest spent 6 to 8 ms in the
# collector and a 100-stock year 260 ms, about a sixth of the run (a full collection came due in it); at
# 5,000, 2 ms and 55 to 75 ms. 2,500 and 10,000 to 20,000 measured worse on the year (gc.callbacks).
YOUNG_COLLECTION_EVERY = 5_000


@contextmanager
def _collector_skips_settled_objects() -> Iterator[Callable[[], None]]:
    """Yields ``settle()``, which the driver calls at each day's start: once the collector has made a full
    collection during the block, it takes every object alive now out of the collector's scans until the
    block ends (``gc.freeze``), and it runs young collections less often (``YOUNG_COLLECTION_EVERY``).

    Why: a run keeps every order, fill and event it made for the reports, hundreds of thousands of objects,
    and each full collection walks them all again though none is garbage. In a 100-stock year that was 1.0 to
    1.7 s of a 7 to 9 s run (timed with gc.callbacks); settled, about 0.15 s, most of it the run's first
    full collection. Reference counting still frees settled objects; only a reference cycle among them
    waits for the block's end, when they rejoin the collector.

    Why only after a full collection: objects that were already garbage when the run started (a reference
    cycle a user's strategy or a library made; a finished run's engine has none, see
    ``TradingKernel.detach``) would be settled with the rest and kept for the whole run. The collector's own
    first full collection frees them; a run too short to reach one is left exactly as the collector would
    treat it (forcing one would cost a short sweep trial up to half its time in a big process). A process
    that froze objects itself before the run keeps them frozen.
    """
    owner = gc.get_freeze_count() == 0
    collected = False
    thresholds = gc.get_threshold()

    def on_collection(phase: str, info: dict[str, int]) -> None:
        nonlocal collected
        collected = collected or (phase == "stop" and info["generation"] == 2)

    def settle() -> None:
        if collected:
            gc.freeze()

    gc.callbacks.append(on_collection)
    running = thresholds
    if thresholds[0]:  # 0 turns automatic collection off: a process that chose that keeps it
        running = (max(thresholds[0], YOUNG_COLLECTION_EVERY), *thresholds[1:])
        gc.set_threshold(*running)
    try:
        yield settle
    finally:
        if gc.get_threshold() == running:  # unless the caller chose another during the run
            gc.set_threshold(*thresholds)
        gc.callbacks.remove(on_collection)
        if owner:
            gc.unfreeze()


_SIGNALS = {int(signal): signal for signal in Signal}  # an int8 signal's member, without Enum's call


@dataclass(slots=True)
class _Day:
    """One session's prepared data and the wake-up state of its codes.

    The wake-up state is plain lists, dicts and bytes, read and changed a few times a step: a NumPy call on a
    row or a column of the masks cost more than the work (the bookkeeping was a fifth of case (b)'s
    instructions). The masks are boolean, so a column's bytes are 0 or 1 per bar."""

    grid: DayGrid
    codes: list[StockCode]
    data: dict[StockCode, CodeDay]
    history: dict[StockCode, DailyCloses]
    closes: np.ndarray  # codes x bars: the last price of each code at each bar
    volumes: np.ndarray  # codes x bars: each code's volume of the day so far, at each bar
    signals: np.ndarray  # codes x bars: the daily strategy's signal at each bar
    index_of: dict[StockCode, int]
    # bars x codes: where the minute strategy may act on a code it does not hold (flat) and on one it holds
    flat_wake: np.ndarray
    held_wake: np.ndarray
    quantity: np.ndarray  # int64 per code: the shares maemae owns
    holding: list[bool] = field(init=False)  # per code: whether maemae holds it
    # per bar: the closing value of the shares held now, but for the last change of shares (code, shares),
    # which the next scan adds in the same compiled call: a fill step then makes one Numba call, not two
    held_value: np.ndarray = field(init=False)
    unvalued: tuple[int, int] = field(default=(0, 0), init=False)
    # the flat mask, sparse (a buy needs a cross up): the bars where it wakes some code, in order, and the
    # codes it wakes at each, with how many of those are flat now
    flat_bars: list[int] = field(init=False)
    flat_at: dict[int, list[int]] = field(init=False)
    # (a list by bar, not a dict: ``set_quantity`` adds to a bar's count for each bar of a code that flips)
    flat_count: list[int] = field(init=False)
    # held code -> its column of the held mask as bytes (0 or 1 per bar): a byte read answers "woken at k?"
    # and ``bytes.find`` the next bar that wakes it, with no Python loop or call
    held_masks: dict[int, bytes] = field(default_factory=dict)
    # code -> (k, the first bar from k its held mask wakes it at, or one past the day): the answer for any bar
    # from k to that one (a code's held mask is the day's, so it outlives a flip to flat and back)
    held_next: dict[int, tuple[int, int]] = field(default_factory=dict)
    # code -> the bars the flat mask wakes it, and its held mask's column, as far as read today
    _flat_bars_of: dict[int, list[int]] = field(default_factory=dict)
    _held_masks_of: dict[int, bytes] = field(default_factory=dict)
    exit_bar: dict[StockCode, int] = field(default_factory=dict)  # held code -> its next exit wake-up bar
    stop_bar: int | None = None  # the next bar where equity can reach the portfolio stop
    k: int = -1  # the bar whose close is "now" (-1: before the open)
    last: int = field(init=False)  # the closing auction's bar: the grid's last
    starts: list[int] = field(init=False)  # the grid's bar starts (ns): a NumPy read per step cost more
    midnight: datetime = field(init=False)  # 00:00 KST of the day, and in nanoseconds since the epoch
    midnight_ns: int = field(init=False)
    scan_value: AddThenFirst = field(init=False)  # the compiled scan of held_value (equity_scan)

    def __post_init__(self) -> None:
        assert self.held_wake.dtype == np.bool_  # its columns are read as bytes of 0 or 1
        self.last = len(self.grid) - 1
        self.starts = self.grid.starts.tolist()
        self.midnight = datetime.combine(self.grid.day, time(0), tzinfo=KST)
        self.midnight_ns = day_ns(self.grid.day)
        self.scan_value = add_then_first_at_or_below_entry()
        holding = self.quantity > 0
        self.holding = holding.tolist()
        held = holding.nonzero()[0]
        # the held rows only: a few of the day's codes, where the whole product multiplied every code's bars
        self.held_value = self.quantity[held] @ self.closes[held]
        # the woken (code, bar) pairs, code by code: the mask's columns are its rows in memory, where a 1-D
        # search is a tenth of the cost of a 2-D one; each bar's list still fills in code order. The positions
        # are typed ``int`` so the compiled loop divides them natively: read as NumPy's untyped ``tolist()``,
        # each pair's division, ``setdefault`` and count went through generic calls (about 1,100 instructions)
        n: int = self.flat_wake.shape[0]
        positions: list[int] = self.flat_wake.T.reshape(-1).nonzero()[0].tolist()
        flat_at: dict[int, list[int]] = {}
        flat_count, holding_now = [0] * (self.last + 1), self.holding
        for position in positions:
            row, bar = position // n, position % n
            woken = flat_at.get(bar)
            if woken is None:
                woken = flat_at[bar] = []
            woken.append(row)
            if not holding_now[row]:
                flat_count[bar] += 1
        self.flat_at, self.flat_count, self.flat_bars = flat_at, flat_count, sorted(flat_at)
        for row in held.tolist():
            self.held_masks[row] = self._held_mask(row)

    def moment(self, ns: int) -> datetime:
        """``ns`` (a time of this day) as a KST datetime."""
        return kst_after(self.midnight, ns - self.midnight_ns)

    def set_quantity(self, row: int, quantity: int) -> None:
        """Code ``row`` is now held in ``quantity`` shares; if it became held or flat, it wakes on the
        other mask from now on."""
        change = quantity - self.quantity.item(row)
        if change:
            self._value_later(row, change)
        self.quantity[row] = quantity
        holding = quantity > 0
        if self.holding[row] == holding:
            return
        self.holding[row] = holding
        for bar in self._flat_bars(row):
            self.flat_count[bar] += -1 if holding else 1
        if holding:
            self.held_masks[row] = self._held_mask(row)
        else:
            del self.held_masks[row]

    def _value_later(self, row: int, shares: int) -> None:
        """Keep ``shares`` more of code ``row`` for the next scan to add to ``held_value``; one kept before is
        added now (two fills in a step)."""
        held, pending = self.unvalued
        if pending:
            add_shares(self.held_value, self.closes, held, pending)
        self.unvalued = (row, shares)

    def first_value_at_or_below(self, start: int, stop: int, level: int) -> int:
        """The first bar in [start, stop) where the held shares' closing value is at most ``level``; -1 when
        none is."""
        row, shares = self.unvalued
        self.unvalued = (0, 0)
        return self.scan_value(self.held_value, self.closes, row, shares, start, stop, level)

    # each read once a day: a stock bought and sold again flips more than once
    def _flat_bars(self, row: int) -> list[int]:
        """The bars where the flat mask wakes code ``row``."""
        bars = self._flat_bars_of.get(row)
        if bars is None:
            bars = self._flat_bars_of[row] = self.flat_wake[:, row].nonzero()[0].tolist()
        return bars

    def _held_mask(self, row: int) -> bytes:
        """Code ``row``'s column of the held mask, one byte per bar."""
        mask = self._held_masks_of.get(row)
        if mask is None:
            mask = self._held_masks_of[row] = self.held_wake[:, row].tobytes()
        return mask

    def next_woken(self, k: int, flat: bool) -> int | None:
        """The first bar from k that wakes some code, or None; only held codes count unless ``flat``."""
        found = self.last + 1  # past the day: none yet
        for row in self.held_masks:
            found = min(found, self._next_held(row, k))
        if flat:
            flat_bars, count = self.flat_bars, self.flat_count
            for at in range(bisect_left(flat_bars, k), len(flat_bars)):
                bar = flat_bars[at]
                if bar >= found:
                    break
                if count[bar]:
                    found = bar
                    break
        return found if found <= self.last else None

    def _next_held(self, row: int, k: int) -> int:
        """The first bar from k that wakes held code ``row`` (one past the day: none). The mask is searched
        again only when the bar found before does not answer for k: a ``bytes.find`` is a method call of a few
        hundred instructions, and the driver asks for every held code at each step with no order working."""
        since, at = self.held_next.get(row, (-1, -1))
        if not since <= k <= at:
            at = self.held_masks[row].find(1, k)
            at = self.last + 1 if at < 0 else at
            self.held_next[row] = (k, at)
        return at

    def wakes(self, row: int, k: int) -> bool:
        """Whether code ``row`` is woken at bar k as it is held now."""
        if self.holding[row]:
            return self.held_masks[row][k] == 1
        return row in self.flat_at.get(k, ())

    def woken(self, k: int, flat: bool) -> list[StockCode]:
        """The codes woken at bar k, in row order; flat ones only if ``flat`` (the book takes new stocks:
        the caller asks only when ``flat_count`` says a flat code is woken at k)."""
        rows = [row for row, mask in self.held_masks.items() if mask[k]]
        if flat:
            rows += [row for row in self.flat_at[k] if not self.holding[row]]
        return [self.codes[row] for row in sorted(rows)]


class _DayPrices:
    """The running day's price of a stock, for valuations: its last close at the step (yesterday's before the
    open), or for a stock outside the day's data its last daily close.

    A class, not a closure: a compiled closure and its environment refer to each other, so each day's data
    would wait for a full collection to be freed (and, once the run settles its objects, for the run's end).
    """

    def __init__(self, prepared: _Day, market: BacktestMarket, day: date) -> None:
        self.prepared, self.market, self.day = prepared, market, day

    def __call__(self, code: StockCode) -> int:
        prepared = self.prepared
        row = prepared.index_of.get(code)
        if row is None:
            return int(self.market.history.daily_before(code, self.day + timedelta(days=1), 1).close[-1])
        if prepared.k < 0:  # before the open: yesterday's close
            return int(prepared.history[code][0][-1])
        price: int = prepared.closes.item(row, prepared.k)  # a Python int, without a NumPy scalar
        return price


class BacktestRunner:
    def __init__(self, engine: Engine, market: BacktestMarket, *, every_bar: bool = False) -> None:
        self.engine = engine
        self.market = market
        self.every_bar = every_bar
        self.recorder = BacktestRecorder()
        engine.orders.listeners.append(self.recorder)
        self.selector = universe_selector(engine.config, market.calendar)
        self.price_of: Callable[[StockCode], int] | None = None  # the running day's prices (for valuations)
        self._day: _Day | None = None  # the day being run
        self._listings: dict[StockCode, tuple[InstrumentType, Market]] = {}  # see ``_listing``
        # the speed hooks are given the whole day at once: a user's are checked on the run's first days, and
        # replaced for the rest of the run by what they stand for when they look ahead
        self._hook_checks_left = HOOK_CHECK_DAYS
        self._check_daily = not _ours(type(engine.daily).evaluate_day)
        self._check_wake = not _ours(type(engine.minute).wake_bars)
        self._daily_per_bar = every_bar
        self._wake_every_bar = every_bar
        # the hooks' forms for all the day's codes at once, where they stand for the per-code hooks; a user's
        # is compared with the per-code hook on the check days, and dropped for the run when it differs
        self._daily_at_once = _batched(type(engine.daily), "evaluate_days", "evaluate_day", DailyStrategy)
        self._wake_at_once = _batched(type(engine.minute), "wake_bars_many", "wake_bars", MinuteStrategy)
        self._check_daily_at_once = not _ours(type(engine.daily).evaluate_days)
        self._check_wake_at_once = not _ours(type(engine.minute).wake_bars_many)

    def run(
        self,
        days: list[date],
        progress: Progress | None = None,
        *,
        resume: Cursor | None = None,
        on_step: StepHook | None = None,
        before_step: Pacer | None = None,
    ) -> BacktestRecorder:
        """Run ``days``; from ``resume`` (a saved :class:`Cursor`) on when restarting a crashed replay.

        ``on_step(cursor)`` is called after every completed step, with where to go on from; a replay that
        persists its state saves it there (the backtest does not need it). ``before_step(moment)`` is called
        with the market time of each step before it runs: a paper replay paces itself on the wall clock there.
        """
        try:
            with _collector_skips_settled_objects() as settle:
                for number, day in enumerate(days):
                    first = 0
                    if resume is not None and day <= resume.day:
                        if day < resume.day:
                            continue
                        first = resume.next_bar
                    settle()
                    prepared = self._prepare(day)
                    if first <= len(prepared.grid):
                        self._run_day(prepared, first, on_step, before_step)
                    if progress:
                        progress(number + 1, len(days))
        finally:
            self._let_go_of_the_day()
        return self.recorder

    def _let_go_of_the_day(self) -> None:
        """Drop the last day run, and its prices (which read it), once the run ends or is stopped: they are
        the whole day's codes x bars arrays, and a runner outlives its run (a replay's outcome, a kept
        result). Nothing reads them after the run: a replay values and reconciles during its steps."""
        self._day = None
        self.price_of = None

    def use_strategies(self, daily: DailyStrategy, minute: MinuteStrategy) -> None:
        """Trade on with ``daily`` and ``minute`` (their parameters changed while running, ``engine.params``):
        the running day's daily signals are evaluated again with ``daily``, over as many daily bars as it
        asks for, from the next step on. Only a run that visits every code at every bar takes them (a paper
        replay): the wake-up masks a backtest steps by are the old strategy's."""
        if not self.every_bar:
            raise RuntimeError("strategies change only in a run that steps every bar")
        self.engine.daily, self.engine.minute, self.engine.kernel.minute = daily, minute, minute
        prepared = self._day
        if prepared is None:
            return
        loaded = self.market.history.closes_before(prepared.codes, prepared.grid.day, daily.history_days())
        prepared.history = {code: loaded[code] for code in prepared.codes}
        prepared.signals = self._day_signals(
            prepared.codes, prepared.history, prepared.closes, prepared.volumes, False
        )

    # ----- preparing a day
    def _universe(self, day: date) -> Universe:
        config = self.engine.config.universe
        holdings = [p.code for p in self.engine.portfolio.held()]
        return select_stocks(
            day,
            self.market.daily,
            self.market.instruments,
            self.selector,
            max_stocks=config.max_stocks,
            safe_asset=config.safe_asset_code,
            holdings=holdings,
        )

    def _prepare(self, day: date) -> _Day:
        self.engine.kernel.begin_day(day)  # the strategy's hooks below count their errors under ``day``
        grid = self.market.grid(day)
        # only the codes with daily bars before today, as the live loop: a stock that never traded has no base
        # price and nothing to judge it by
        known = self.market.history.closes_before(
            self._universe(day).codes, day, self.engine.daily.history_days()
        )
        session = self.market.day_bars(day, known)
        codes = session.codes
        if known and not codes:
            self.recorder.bare_days.append(day)
        history = {code: known[code] for code in codes}
        base = {code: int(history[code][0][-1]) for code in codes}
        self.engine.sim.start_day(day, base)
        data: dict[StockCode, CodeDay] = {}
        for code, (bars, today_start) in session.joined.items():
            limits = self.engine.sim.limits(code)
            assert limits is not None
            kind, market = self._listing(code)
            ticks = tick_table(day, kind, market)
            data[code] = CodeDay(code, kind, market, bars, today_start, limits, ticks)
        closes = session.closes
        volumes = np.cumsum(session.volumes, axis=1)  # the day's volume so far, at each bar
        checking = self._hook_checks_left > 0
        if checking:
            self._hook_checks_left -= 1
        signals = self._day_signals(codes, history, closes, volumes, checking)
        wholes: dict[int, object] = {}  # row -> what the check's whole-day wake_bars call gave (or raised)
        if checking and self._check_wake and not self._wake_every_bar:
            self._wake_every_bar = self._wake_looks_ahead(codes, data, signals, wholes)
        flat_wake, held_wake = self._wake_masks(codes, data, signals, len(grid), wholes, checking)
        owned = np.array([self.engine.portfolio.owned(code) for code in codes], dtype=np.int64)
        return _Day(
            grid,
            codes,
            data,
            history,
            closes,
            volumes,
            signals,
            {code: row for row, code in enumerate(codes)},
            flat_wake,
            held_wake,
            owned,
        )

    def _listing(self, code: StockCode) -> tuple[InstrumentType, Market]:
        """A code's kind and market, read from the market's instrument list once a run (the list does not
        change in one), where ``listing`` was a Python call a code-day."""
        found = self._listings.get(code)
        if found is None:
            found = self._listings[code] = listing(self.market.instruments.get(code))
        return found

    def _wake_masks(
        self,
        codes: list[StockCode],
        data: dict[StockCode, CodeDay],
        signals: np.ndarray,
        n: int,
        wholes: dict[int, object],
        checking: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bars x codes: where the minute strategy may act on each code, flat and held (every bar in
        ``every_bar`` mode). Never on the closing-auction print: the market is closing. ``wholes``: what
        ``wake_bars`` gave (or raised) for a code's whole day when the look-ahead check asked, by row, so the
        hook is asked for the whole day once a day; it is emptied (a raised error refers to the check's
        frame, which refers to ``wholes``: kept, the day's data would wait for the collector). ``checking``:
        a user's ``wake_bars_many`` is compared with the per-code masks instead of standing for them."""
        at_once = self._wake_at_once and not self._wake_every_bar
        checked = at_once and checking and self._check_wake_at_once
        masks = self._wake_many(codes, data, signals, n) if at_once and not checked and not wholes else None
        if masks is not None:
            flat, held = masks
        else:
            flat, held = self._wake_each(codes, data, signals, n, wholes)
        if checked and self._wake_at_once:
            many = self._wake_many(codes, data, signals, n)
            given = None if many is None else (many[0].T, many[1].T)
            self._wake_at_once = self._same_as_each(
                self.engine.minute, "wake_bars_many", codes, given, (flat.T, held.T)
            )
        flat[n - 1] = held[n - 1] = False
        return flat, held

    def _wake_many(
        self, codes: list[StockCode], data: dict[StockCode, CodeDay], signals: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The masks (bars x codes) from one ``wake_bars_many`` call, or None when it failed (reported; the
        day's masks then come from ``wake_bars`` code by code, where a failure costs only its code)."""
        minute = self.engine.minute
        try:
            wake = minute.wake_bars_many(
                [data[code].bars for code in codes], [data[code].today_start for code in codes], signals
            )
            if wake is None:
                every = np.ones((len(codes), n), dtype=bool)
                return every.T, every.copy().T
            if not isinstance(wake, WakeBars):
                raise StrategyError(
                    f"wake_bars_many returned {type(wake).__name__}; expected WakeBars or None"
                )
            return _checked_rows("flat", wake.flat, signals.shape).T, _checked_rows(
                "held", wake.held, signals.shape
            ).T
        except HOOK_FAILURES as error:
            self._failed_at_once(minute, "wake_bars_many", codes, error)
            return None

    def _same_as_each(
        self,
        strategy: DailyStrategy | MinuteStrategy,
        hook: str,
        codes: list[StockCode],
        many: tuple[np.ndarray, ...] | None,
        each: tuple[np.ndarray, ...],
    ) -> bool:
        """Whether a user's hook for all the day's codes gave what the per-code hook gave (arrays of codes x
        bars; None: it failed, and said so); when it did not, a strategy error says so. False: the rest of
        the run keeps the per-code hook."""
        if many is None:
            return False
        for row, code in enumerate(codes):
            if not all(np.array_equal(a[row], b[row]) for a, b in zip(each, many, strict=True)):
                error = StrategyError(
                    f"{hook} differs from the hook for one code; the rest of the run asks code by code"
                )
                self.engine.kernel.strategy_failed(strategy.name, hook, code, error, getattr(strategy, hook))
                return False
        return True

    def _wake_each(
        self,
        codes: list[StockCode],
        data: dict[StockCode, CodeDay],
        signals: np.ndarray,
        n: int,
        wholes: dict[int, object],
    ) -> tuple[np.ndarray, np.ndarray]:
        """The masks (bars x codes) from ``wake_bars`` code by code (see :meth:`_wake_masks`)."""
        # bars x codes, each code's column contiguous: written a column at a time here, read a column at a
        # time as a code is bought or sold (``nonzero`` still lists bar by bar)
        flat, held = np.ones((len(codes), n), dtype=bool).T, np.ones((len(codes), n), dtype=bool).T
        if not self._wake_every_bar:
            minute = self.engine.minute
            for row, code in enumerate(codes):
                asked = row in wholes
                given = wholes.pop(row, None)
                if isinstance(given, HOOK_FAILURES):  # the check's call raised it: a strategy bug, as below
                    self.engine.kernel.strategy_failed(
                        minute.name, "wake_bars", code, given, minute.wake_bars
                    )
                    continue
                try:
                    if not asked:
                        given = minute.wake_bars(data[code].bars, data[code].today_start, signals[row])
                    wake = _checked_wake(given, n)
                except HOOK_FAILURES as error:  # a strategy bug: the stock is woken on every bar instead
                    self.engine.kernel.strategy_failed(
                        minute.name, "wake_bars", code, error, minute.wake_bars
                    )
                    continue
                if wake is not None:
                    flat[:, row], held[:, row] = wake
        wholes.clear()
        return flat, held

    def _day_signals(
        self,
        codes: list[StockCode],
        history: dict[StockCode, DailyCloses],
        closes: np.ndarray,
        volumes: np.ndarray,
        checking: bool,
    ) -> np.ndarray:
        """Codes x bars: the daily strategy's signal at each bar of today, bad values dropped; ``checking``,
        the day's signals come from ``evaluate`` bar by bar instead when ``evaluate_day`` looks ahead, and a
        user's ``evaluate_days`` is compared with ``evaluate_day`` instead of standing for it."""
        at_once = self._daily_at_once and not self._daily_per_bar
        checked = at_once and checking and (self._check_daily or self._check_daily_at_once)
        signals = self._signals_many(codes, history, closes, volumes) if at_once and not checked else None
        if signals is None:
            signals = np.empty(closes.shape, dtype=np.int8)
            for row, code in enumerate(codes):
                signals[row] = self._signals(code, history[code], closes[row], volumes[row])
        check_daily = checking and self._check_daily and not self._daily_per_bar
        if check_daily and self._daily_looks_ahead(codes, history, closes, volumes, signals):
            self._daily_per_bar = True
            return self._day_signals(codes, history, closes, volumes, False)
        if checked and self._check_daily_at_once:
            many = self._signals_many(codes, history, closes, volumes)
            given = None if many is None else (many,)
            self._daily_at_once = self._same_as_each(
                self.engine.daily, "evaluate_days", codes, given, (signals,)
            )
        self._drop_bad_signals(codes, signals)
        return signals

    def _signals_many(
        self,
        codes: list[StockCode],
        history: dict[StockCode, DailyCloses],
        closes: np.ndarray,
        volumes: np.ndarray,
    ) -> np.ndarray | None:
        """Codes x bars: the daily signals from one ``evaluate_days`` call, or None when it failed (reported;
        the day's signals then come from ``evaluate_day`` code by code, where a failure costs only its
        code)."""
        daily = self.engine.daily
        try:
            given = daily.evaluate_days(
                codes,
                [history[code][0] for code in codes],
                [history[code][1] for code in codes],
                closes,
                volumes,
            )
            return _checked_signal_rows(given, closes.shape)
        except HOOK_FAILURES as error:
            self._failed_at_once(daily, "evaluate_days", codes, error)
            return None

    def _failed_at_once(
        self,
        strategy: DailyStrategy | MinuteStrategy,
        hook: str,
        codes: list[StockCode],
        error: Exception | SystemExit,
    ) -> None:
        """A hook for all the day's codes raised or gave a bad value: one strategy error, counted under the
        day's first code (the day then asks code by code, where a failure is its own code's)."""
        if codes:
            self.engine.kernel.strategy_failed(strategy.name, hook, codes[0], error, getattr(strategy, hook))

    def _daily_looks_ahead(
        self,
        codes: list[StockCode],
        history: dict[StockCode, DailyCloses],
        closes: np.ndarray,
        volumes: np.ndarray,
        signals: np.ndarray,
    ) -> bool:
        """Whether ``evaluate_day`` gives other signals for the day's first bars when it is not shown the
        later ones (cut at a quarter, a half and three quarters of the day): a signal that depends on later
        bars (``prices[-1]``, the day's close) makes a backtest that no live run can repeat. Checked on the
        run's first ``HOOK_CHECK_DAYS`` days; ``--every-bar`` checks every bar of every day."""
        for row, code in enumerate(codes):
            for cut in _cuts(closes.shape[1]):
                shown = self._signals(code, history[code], closes[row][:cut], volumes[row][:cut])
                if not np.array_equal(shown, signals[row][:cut]):
                    error = StrategyError(
                        f"evaluate_day looks ahead: its signals for the day's first {cut} bars change when "
                        "the later bars are left out; the rest of the run evaluates each bar with evaluate"
                    )
                    self.engine.kernel.strategy_failed(
                        self.engine.daily.name, "evaluate_day", code, error, self.engine.daily.evaluate_day
                    )
                    return True
        return False

    def _wake_looks_ahead(
        self,
        codes: list[StockCode],
        data: dict[StockCode, CodeDay],
        signals: np.ndarray,
        wholes: dict[int, object],
    ) -> bool:
        """The same check for ``wake_bars``: its masks for the day's first bars must not change when the
        later bars are left out. What the whole day's call gave (or raised) goes into ``wholes`` by row, for
        :meth:`_wake_masks`: a user's hook may be slow, and is not asked for the same day twice."""
        minute = self.engine.minute
        for row, code in enumerate(codes):
            bars, start = data[code].bars, data[code].today_start
            n = len(bars) - start
            try:
                given = minute.wake_bars(bars, start, signals[row])
            except HOOK_FAILURES as failed:  # its own bug: reported, and the stock woken on every bar, there
                wholes[row] = failed
                continue
            wholes[row] = given
            try:
                whole = _checked_wake(given, n)
                for cut in _cuts(n):
                    shown = _checked_wake(
                        minute.wake_bars(bars.slice(0, start + cut), start, signals[row][:cut]), cut
                    )
                    if not _same_start(whole, shown, cut):
                        break
                else:
                    continue
            except HOOK_FAILURES:  # its own bug: reported, and the stock woken on every bar, by _wake_masks
                continue
            error = StrategyError(
                f"wake_bars looks ahead: its masks for the day's first {cut} bars change when the later "
                "bars are left out; the rest of the run wakes every stock on every bar"
            )
            self.engine.kernel.strategy_failed(minute.name, "wake_bars", code, error, minute.wake_bars)
            return True
        return False

    def _signals(
        self, code: StockCode, history: DailyCloses, closes: np.ndarray, cumulative: np.ndarray
    ) -> np.ndarray:
        """The daily strategy's signal at each bar of today, with the bar's close as today's close and the
        volume so far as today's volume."""
        daily = self.engine.daily
        before, traded = history
        try:
            if self._daily_per_bar:  # the live driver: one evaluation per bar
                return np.array(
                    [
                        evaluated(daily, DailyInput(code, before, traded, int(p), int(v)))
                        for p, v in zip(closes, cumulative, strict=True)
                    ],
                    dtype=np.int8,
                )
            return _checked_signals(daily.evaluate_day(code, before, traded, closes, cumulative), len(closes))
        except HOOK_FAILURES as error:  # a strategy bug: no daily signal for the stock today, as live
            self.engine.kernel.strategy_failed(daily.name, "evaluate", code, error, self._daily_hook())
            return np.zeros(len(closes), dtype=np.int8)

    def _daily_hook(self) -> Callable[..., object]:
        """The daily hook of the user's that gave the day's signals, for where an error lies: the per-bar
        ``evaluate`` when ``evaluate_day`` is maemae's loop over it (naming that loop pointed the user at
        maemae's file or nowhere), else ``evaluate_day``."""
        daily = self.engine.daily
        if self._daily_per_bar or _ours(type(daily).evaluate_day):
            return daily.evaluate
        return daily.evaluate_day

    def _drop_bad_signals(self, codes: list[StockCode], signals: np.ndarray) -> None:
        """A daily strategy bug that returned a value other than -1, 0 or 1: no signal for the stock today,
        as for any other strategy error (checked once for the day's matrix, not per stock)."""
        bad = (signals < int(Signal.SELL)) | (signals > int(Signal.BUY))  # plain ints: numpy compares fast
        if not bad.any():
            return
        daily = self.engine.daily
        for row in np.flatnonzero(bad.any(axis=1)).tolist():
            value = int(signals[row][bad[row]][0])
            error = ValueError(f"evaluate_day gave {value}; expected -1 (sell), 0 or 1 (buy)")
            self.engine.kernel.strategy_failed(daily.name, "evaluate", codes[row], error, self._daily_hook())
            signals[row] = Signal.NONE

    def _set_wake(self, prepared: _Day, code: StockCode) -> None:
        """After a fill: ``code`` wakes on the mask for its holding now."""
        prepared.set_quantity(prepared.index_of[code], self.engine.portfolio.owned(code))

    # ----- running a day
    def _trade_bar(self, prepared: _Day, k: int) -> bool:
        """Let the exchange trade the working orders on bar k; returns whether any order was working."""
        engine = self.engine
        if not engine.orders.has_open_orders():
            return False
        working = engine.orders.working_codes()
        if len(working) > 1:  # in the day's code order (one working code, the usual, needs no sort)
            working.sort(key=lambda c: prepared.index_of.get(c, 1 << 30))
        start = prepared.moment(prepared.starts[k])
        engine.clock.set(start)
        closing = k == prepared.last
        for code in working:
            day = prepared.data.get(code)
            if day is not None:
                bar = market_bar(day.bars, day.today_start + k, start, day.limits, closing_auction=closing)
                engine.sim.on_bar(code, bar)
        return True

    def _run_day(
        self,
        prepared: _Day,
        first: int = 0,
        on_step: StepHook | None = None,
        before_step: Pacer | None = None,
    ) -> None:
        engine, grid = self.engine, prepared.grid
        price_of = self.price_of = _DayPrices(prepared, self.market, grid.day)
        self._day = prepared
        pre_open = grid.schedule.open - timedelta(minutes=10)
        engine.clock.set(pre_open)
        engine.kernel.start_day(grid.day, pre_open, prepared.data, price_of)
        if not self.every_bar:
            for position in engine.portfolio.held():
                self._update_exit_bar(prepared, position.code, first)
        prepared.stop_bar = self._stop_bar(prepared, first)
        k = first
        while k <= prepared.last:
            if before_step is not None:
                before_step(self._step_time(prepared, k))
            self._step(prepared, k, price_of)
            if on_step is not None:
                on_step(Cursor(grid.day, k + 1))
            k = self._next_step(prepared, k + 1)
        self._close_day(prepared, price_of)
        if on_step is not None:
            on_step(Cursor(grid.day, len(grid) + 1))

    def _step(self, prepared: _Day, k: int, price_of: Callable[[StockCode], int]) -> None:
        """Bar k: the exchange trades it, then (if anything can happen) the kernel decides at its close."""
        engine, last = self.engine, prepared.last
        working = self._trade_bar(prepared, k)
        exits = [code for code, bar in prepared.exit_bar.items() if bar == k]
        # only a fill or a cancelled buy frees a slot, and both need a working order: flat codes wait while
        # the book is full
        flat = prepared.flat_count[k] > 0 and (working or engine.kernel.accepts_entries())
        woken = prepared.woken(k, flat) + exits
        # a timeout needs a working order too, so a step with none of these has nothing to do
        if not (working or woken or k == 0 or prepared.stop_bar == k or self.every_bar):
            return
        now = self._step_time(prepared, k)
        prepared.k = k
        engine.clock.set(now)
        fills = engine.orders.process_events()
        if k == last:
            return
        if working:  # it passes over the orders not due yet (the events just applied only close or fill some)
            engine.orders.check_timeouts(now)
        if k == 0:
            engine.kernel.park_safe_asset(now, self._buy_signals(prepared), price_of)
        engine.kernel.follow_through(now, price_of)
        acting = self._after_fills(prepared, fills, k)
        for code in self._visits(prepared, woken, acting, bool(exits)):
            row = prepared.index_of[code]
            signal = _SIGNALS[prepared.signals.item(row, k)]
            engine.kernel.on_bar(code, prepared.data[code].today_start + k, now, signal, price_of)
        if self.every_bar or prepared.stop_bar == k:
            engine.kernel.check_portfolio_stop(now, price_of)
        if self.every_bar:
            return
        if acting or exits:  # exit wake-ups change only where a visit spent an exit: a filled code's, found
            # from k by ``_acting`` with the holding the visit leaves as it was, stands unless it was k itself
            for code in set(exits) | {code for code in acting if prepared.exit_bar.get(code) == k}:
                self._update_exit_bar(prepared, code, k + 1)
        # a fill's scan from k (``_after_fills``) stands unless the stop was at k: the visits' orders leave
        # cash and holdings as they were until they fill
        if prepared.stop_bar == k:
            prepared.stop_bar = self._stop_bar(prepared, k + 1)

    def _after_fills(self, prepared: _Day, fills: list[Fill], k: int) -> set[StockCode]:
        """Each code filled at step k wakes on the mask for its holding now; in the wake-up run, returns those
        that can act at k (``_acting``) and looks for the portfolio stop again from k itself: a fill moves
        cash and holdings, so equity may reach the stop's level on the fill's own bar, where the every-bar
        run checks it."""
        filled = {f.code for f in fills}
        for code in filled:
            self._set_wake(prepared, code)
        if not filled or self.every_bar:
            return set()
        prepared.stop_bar = self._stop_bar(prepared, k)
        return self._acting(prepared, filled, k)

    def _visits(
        self, prepared: _Day, woken: list[StockCode], acting: set[StockCode], exits: bool
    ) -> list[StockCode]:
        """The codes the kernel visits at a step, each once, in the day's order."""
        if self.every_bar:
            return prepared.codes
        if acting or exits:
            return sorted(set(woken) | acting, key=prepared.index_of.__getitem__)
        return woken  # the usual step: the woken codes, already distinct and in the day's order

    def _acting(self, prepared: _Day, filled: set[StockCode], k: int) -> set[StockCode]:
        """Of the codes just filled, those that can act at bar k as they are held now: the minute strategy's
        mask for that holding, or an exit rule that fires at k. The others have nothing to decide, and their
        next exit bar, found from k, is after k."""
        acting = set()
        for code in filled:
            self._update_exit_bar(prepared, code, k)
            if prepared.wakes(prepared.index_of[code], k) or prepared.exit_bar.get(code) == k:
                acting.add(code)
        return acting

    def _next_step(self, prepared: _Day, k: int) -> int:
        """The first bar from ``k`` where a step can do anything (DESIGN 1b): every bar while an order is
        working (the exchange trades it, it may time out), else the next bar that wakes a code, an exit or
        the portfolio stop. The bars between are steps that would return at once; nothing changes there.

        A flat code's wake-up counts only while the book takes new entries: with no order working, no fill
        can free a slot before the next step that has something else to do (:meth:`_step` asks the same)."""
        end = prepared.last + 1
        if self.every_bar or k >= end or self.engine.orders.has_open_orders():
            return k
        woken = prepared.next_woken(k, self.engine.kernel.accepts_entries())
        candidates = [end, *[bar for bar in prepared.exit_bar.values() if bar >= k]]
        if woken is not None:
            candidates.append(woken)
        if prepared.stop_bar is not None and prepared.stop_bar >= k:
            candidates.append(prepared.stop_bar)
        return min(candidates)

    @staticmethod
    def _step_time(prepared: _Day, k: int) -> datetime:
        """When step k happens: at the close of bar k (the closing auction's print at its own time)."""
        start = prepared.starts[k]
        return prepared.moment(start if k == prepared.last else start + MINUTE_NS)

    def _buy_signals(self, prepared: _Day) -> int:
        buying = prepared.signals[:, 0] == Signal.BUY
        safe = self.engine.kernel.safe_asset
        row = prepared.index_of.get(safe) if safe is not None else None
        return int(buying.sum()) - int(row is not None and buying[row])

    def _close_day(self, prepared: _Day, price_of: Callable[[StockCode], int]) -> None:
        engine, last = self.engine, len(prepared.grid) - 1
        for position in engine.portfolio.held():
            if position.code in prepared.data:
                engine.kernel.update_high_water(
                    position.code, prepared.data[position.code].today_start + last - 1
                )
        engine.clock.set(prepared.grid.schedule.close + timedelta(seconds=1))
        engine.sim.end_day()
        engine.orders.process_events()
        engine.kernel.close_day()
        prepared.k = last
        prices = {p.code: price_of(p.code) for p in engine.portfolio.held()}
        self.recorder.days.append(
            DayRecord(
                prepared.grid.day,
                engine.portfolio.equity(prices.__getitem__),
                engine.portfolio.account.cash,
                len(engine.portfolio.held()),
                prices,
            )
        )

    def _update_exit_bar(self, prepared: _Day, code: StockCode, start: int) -> None:
        """The first bar from ``start`` where an exit rule can fire for a held ``code``: its wake-up bar."""
        kernel = self.engine.kernel
        prepared.exit_bar.pop(code, None)
        row = prepared.index_of.get(code)
        if row is None or self.engine.portfolio.owned(code) == 0:
            return
        kernel.update_high_water(code, prepared.data[code].today_start + start - 1)
        # the closing auction (the last bar) is not a decision point
        found = kernel.exits.first_exit_bar(kernel.holding(code), prepared.closes, row, start, prepared.last)
        if found is not None:
            prepared.exit_bar[code] = found

    def _stop_bar(self, prepared: _Day, start: int) -> int | None:
        """The first bar from ``start`` where equity can fall to the portfolio stop level."""
        kernel = self.engine.kernel
        level = kernel.exits.portfolio_stop_level(self.engine.gate.state.day_start_equity)
        if level is None or kernel.day is None or self.engine.gate.state.is_halted(kernel.day):
            return None
        last = len(prepared.grid) - 1  # the closing auction is not a decision point
        cash = self.engine.portfolio.account.cash
        found = prepared.first_value_at_or_below(start, last, level - cash)
        return None if found < 0 else found


pickle_by_fields(Cursor)  # see maemae.compiled


HOOK_CHECK_DAYS = 5  # the run's first days on which the speed hooks are checked for looking ahead


def _ours(hook: object) -> bool:
    """Whether a speed hook is one maemae ships (a built-in's, or the base class's reference loop): those are
    proven against ``--every-bar`` by the test suite, and a backtest of the built-ins pays for no check. A
    user's file is loaded as ``maemae_user_...``, never under ``maemae.``."""
    return str(getattr(hook, "__module__", "")).startswith("maemae.")


def _batched(cls: type, many: str, each: str, base: type) -> bool:
    """Whether ``cls``'s hook ``many`` (for all of a day's codes) stands for its hook ``each`` (per code):
    it is not the base class's loop, and it is defined where ``each`` is or below. A subclass of a built-in
    that overrides only ``each`` is asked code by code, its own hook."""
    defines_many, defines_each = _defined_in(cls, many), _defined_in(cls, each)
    return defines_many is not base and issubclass(defines_many, defines_each)


def _defined_in(cls: type, name: str) -> type:
    """The class of ``cls``'s method resolution order whose own attribute ``name`` is."""
    return next(klass for klass in cls.__mro__ if name in vars(klass))


def _cuts(n: int) -> tuple[int, ...]:
    """Where a day of ``n`` bars is cut to check a speed hook: a quarter, a half and three quarters in."""
    return tuple(sorted({n // 4, n // 2, 3 * n // 4} - {0}))


def _same_start(
    whole: tuple[np.ndarray, np.ndarray] | None, shown: tuple[np.ndarray, np.ndarray] | None, cut: int
) -> bool:
    """Whether the masks of the whole day begin with the masks of its first ``cut`` bars (None: every bar)."""
    if whole is None or shown is None:
        return whole is shown
    return all(np.array_equal(a[:cut], b) for a, b in zip(whole, shown, strict=True))


def _checked_signals(values: object, n: int) -> np.ndarray:
    """What ``evaluate_day`` returned, as one int8 signal per bar; anything else is the strategy's error
    (a wrong length stopped the run; floats such as 0.7 were truncated to 0, and a boolean mask read as BUY,
    without a word)."""
    array = _as_array(values)
    if array.ndim != 1 or len(array) != n:
        raise StrategyError(
            f"evaluate_day gave an array of shape {array.shape}; expected one signal per bar ({n})"
        )
    if array.dtype is not _INT8 and array.dtype.kind not in "iu":
        raise StrategyError(f"evaluate_day gave {array.dtype} values; expected the integers -1, 0 or 1")
    return array if array.dtype is _INT8 else array.astype(np.int8)


def _checked_signal_rows(values: object, shape: tuple[int, ...]) -> np.ndarray:
    """What ``evaluate_days`` returned, as int8 signals of ``shape`` (codes x bars), or the strategy's
    error."""
    array = _as_array(values)
    if array.shape != shape or (array.dtype is not _INT8 and array.dtype.kind not in "iu"):
        raise StrategyError(
            f"evaluate_days gave {array.dtype} of shape {array.shape}; expected the integers -1, 0 or 1 of "
            f"shape {shape}"
        )
    return array if array.dtype is _INT8 else array.astype(np.int8)


def _checked_rows(name: str, values: object, shape: tuple[int, ...]) -> np.ndarray:
    """One of ``wake_bars_many``'s masks as booleans of ``shape`` (codes x today's bars), or the strategy's
    error."""
    mask = _as_array(values)
    if mask.shape != shape or (mask.dtype is not _BOOL and mask.dtype != _BOOL):
        raise StrategyError(
            f"wake_bars_many: {name} is {mask.dtype} of shape {mask.shape}; expected booleans of shape "
            f"{shape}"
        )
    return mask


def _checked_wake(wake: object, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """What ``wake_bars`` returned, as its two masks of one boolean per today's bar (or None: every bar);
    anything else is the strategy's error (a ``WakeBars(None, held)`` woke the stock on no bar at all)."""
    if wake is None:
        return None
    if not isinstance(wake, WakeBars):
        raise StrategyError(f"wake_bars returned {type(wake).__name__}; expected WakeBars or None")
    return _checked_mask("flat", wake.flat, n), _checked_mask("held", wake.held, n)


def _checked_mask(name: str, values: object, n: int) -> np.ndarray:
    """One of ``wake_bars``' masks as ``n`` booleans, or the strategy's error."""
    mask = _as_array(values)
    if mask.ndim != 1 or len(mask) != n or (mask.dtype is not _BOOL and mask.dtype != _BOOL):
        raise StrategyError(
            f"wake_bars: {name} is {mask.dtype} of shape {mask.shape}; expected {n} booleans, one per "
            "today's bar"
        )
    return mask


# The checks above run for every code and day (2,520 masks and 1,260 signal arrays in the 20-stock, 60-day
# benchmark): an array of the exact dtype passes on identity, without ``np.asarray`` and the comparison of a
# dtype with a type, each a few thousand instructions from compiled code. NumPy's dtypes of the built-in
# types are single objects; any other equal dtype takes the comparison.
_BOOL = np.dtype(np.bool_)
_INT8 = np.dtype(np.int8)


def _as_array(values: object) -> np.ndarray:
    """``values`` as an array: itself when it is one."""
    return values if type(values) is np.ndarray else np.asarray(values)
