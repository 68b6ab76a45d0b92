"""``TradingKernel``: the per-event trading logic every mode runs (DESIGN 1.1 and 1b).

At each event the kernel does what the live loop does: exits first (stop, trailing, take-profit), then the
minute strategy with the daily signal, each intent through the risk gate, approved ones to the order manager.
Fills come back as events and move the portfolio and the risk state. The drivers (the backtest runner, the
live trader) only decide *when* to call it and give it the market data of the moment; they hold no trading
logic, so a backtest cannot trade differently from the live loop.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import structlog

import maemae
from maemae.compiled import pickle_by_fields
from maemae.data.bars import BarArrays
from maemae.domain.clock_time import moment_ns
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market, OrderType, Side
from maemae.domain.events import DomainEvent, OrderStateChanged
from maemae.domain.intents import EXIT_SOURCES, IntentSource, OrderIntent
from maemae.domain.order_states import TERMINAL_STATES, OrderState
from maemae.errors import HOOK_FAILURES, StrategyError
from maemae.execution.order_manager import OrderManager
from maemae.execution.portfolio import Portfolio
from maemae.krx.calendar import TradingCalendar
from maemae.krx.limits import PriceLimits
from maemae.krx.ticks import TickTable
from maemae.risk.context import GateContext, HeldPosition
from maemae.risk.exit_scan import HighSince, high_since_entry
from maemae.risk.exits import ExitRules, Holding
from maemae.risk.gate import RiskGate
from maemae.strategy.api import MinuteInput, MinuteStrategy, PositionView, Signal

log = structlog.get_logger("maemae.kernel")

VOLUME_LOOKBACK: Final = 20

# a strategy hook that fails on every bar fails hundreds of thousands of times a month: each different error
# is logged in full once, and these bound how many different ones a hook logs (an error whose message holds a
# changing number is "different" every time); further ones are counted under OTHER_ERRORS
DISTINCT_ERRORS_LOGGED = 3
OTHER_ERRORS = "(other errors)"


@dataclass(slots=True)
class CodeDay:
    """One code's market data for the day: yesterday's and today's minute bars (as far as they are known),
    its limits, and the tick table its prices follow today (by date, kind and market: before the 2023 reform
    KOSPI and KOSDAQ stocks had different grids)."""

    code: StockCode
    instrument_type: InstrumentType
    market: Market
    bars: BarArrays
    today_start: int
    limits: PriceLimits
    grid: TickTable

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        code: StockCode,
        instrument_type: InstrumentType,
        market: Market,
        bars: BarArrays,
        today_start: int,
        limits: PriceLimits,
        grid: TickTable,
    ) -> None:
        self.code, self.instrument_type, self.market, self.bars = code, instrument_type, market, bars
        self.today_start, self.limits, self.grid = today_start, limits, grid


PriceOf = Callable[[StockCode], int]
ErrorKey = tuple[str, str, str]  # strategy, hook, the error's repr


class StrategyErrorTally:
    """Which strategy errors were logged in full, and how often each came back (``strategy_failed``)."""

    def __init__(self) -> None:
        self._logged: dict[tuple[str, str], set[str]] = {}
        self._run: dict[ErrorKey, int] = {}
        self._unlogged: dict[ErrorKey, int] = {}  # since the last summary

    def count(self, strategy: str, hook: str, message: str) -> tuple[str, int]:
        """Count one error; returns what it is counted under (``message``, or ``OTHER_ERRORS`` when the hook
        has logged its share of different errors) and how often that was counted in the run: 1 means log
        it in full."""
        logged = self._logged.setdefault((strategy, hook), set())
        if message not in logged:
            if len(logged) < DISTINCT_ERRORS_LOGGED:
                logged.add(message)
                self._run[(strategy, hook, message)] = 1
                return message, 1
            message = OTHER_ERRORS
        key = (strategy, hook, message)
        total = self._run.get(key, 0) + 1
        self._run[key] = total
        self._unlogged[key] = self._unlogged.get(key, 0) + 1
        return message, total

    def take_unlogged(self) -> dict[ErrorKey, int]:
        """The errors counted but not logged one by one since the last call, by kind; counting starts over."""
        unlogged, self._unlogged = self._unlogged, {}
        return unlogged


def _power_of_ten(count: int) -> bool:
    """10, 100, 1,000 ...: the counts at which a repeated error is reported while it goes on, so a live run
    (which has no kernel day end) and a long backtest day still show it in the log."""
    if count < 10:
        return False
    while count % 10 == 0:
        count //= 10
    return count == 1


def _raised_at(error: Exception | SystemExit, hook: Callable[..., object] | None = None) -> str:
    """Where ``error`` was raised, as ``file:line in function``: the innermost line of the strategy's own
    file, not maemae's (an ``OrderIntent`` refusing a value, an indicator helper), when there is one. An
    error maemae found in what the hook gave back (a wrong return value, bars that look ahead) has no line
    of the strategy's: it names where the strategy defines ``hook``, not maemae's own line (or nothing)."""
    frames = traceback.extract_tb(error.__traceback__)
    theirs = [frame for frame in frames if not frame.filename.startswith(_PACKAGE_DIR)]
    if theirs:
        last = theirs[-1]
        return f"{last.filename}:{last.lineno} in {last.name}"
    defined = _defined_at(hook) if hook is not None else ""
    if defined or not frames:
        return defined
    return f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}"


def _defined_at(hook: Callable[..., object]) -> str:
    """``file:line in name`` of the function ``hook`` runs, when it is Python source outside maemae."""
    function = inspect.unwrap(getattr(hook, "__func__", hook))
    code = getattr(function, "__code__", None)
    if code is None or code.co_filename.startswith(_PACKAGE_DIR):
        return ""
    return f"{code.co_filename}:{code.co_firstlineno} in {code.co_name} (what it returned)"


_PACKAGE_DIR = str(Path(maemae.__file__).resolve().parent)  # the package's source, compiled build or not


def _returned_intent(intent: object, data: dict[StockCode, CodeDay]) -> OrderIntent | None:
    """What ``on_bar`` returned, checked inside its error handling: anything but an ``OrderIntent`` (a
    string, a signal, a list) or an intent for a stock not in today's data would otherwise stop the run
    where the engine first uses it."""
    if intent is None:
        return None
    if not isinstance(intent, OrderIntent):
        raise StrategyError(
            f"on_bar returned {intent!r} ({type(intent).__name__}); expected an OrderIntent or None"
        )
    if intent.code not in data:
        raise StrategyError(f"on_bar returned an intent for {intent.code}, which is not in today's universe")
    return intent


class TradingKernel:
    def __init__(
        self,
        *,
        minute: MinuteStrategy,
        gate: RiskGate,
        exits: ExitRules,
        portfolio: Portfolio,
        orders: OrderManager,
        calendar: TradingCalendar,
        safe_asset: StockCode | None = None,
    ) -> None:
        self.minute = minute
        self.gate = gate
        self.exits = exits
        self.portfolio = portfolio
        self.orders = orders
        self.calendar = calendar
        self.safe_asset = safe_asset
        self.high_water: dict[StockCode, int] = {}
        self._high_water_ts: dict[StockCode, int] = {}
        self._high_since: HighSince | None = None  # the compiled scan, fetched on first use (exit_scan)
        self.opened_on: dict[StockCode, date] = {}
        # the day's exits that sell a whole position (stop, trailing stop, time-cut, portfolio stop) by code,
        # kept until maemae owns none of it; and the codes ``follow_through`` is to sell: True for the rest
        # of an exit order that ended with shares left, False for a position the liquidation has yet to sell
        # (it had an order working when the stop tripped, or a fill bought it after)
        self.must_sell: dict[StockCode, IntentSource] = {}
        self._to_resend: dict[StockCode, bool] = {}
        self._selling_day: date | None = None  # the day the two above belong to
        self.strategy_errors = 0
        self.first_strategy_error = ""  # "strategy hook on code: error", for the end of a backtest
        self._error_tally = StrategyErrorTally()
        self._errors_day: date | None = None  # the day the strategy's errors are counted under
        self.day: date | None = None
        self.data: dict[StockCode, CodeDay] = {}
        self._reservation = 0  # cash to set aside for the buy order being submitted
        self._counted_price = 0  # the price a share the gate counted the order being submitted at
        orders.listeners.append(self._on_event)

    # ----- the day
    def begin_day(self, day: date) -> None:
        """The driver starts on ``day``'s work, which may ask the strategy before :meth:`start_day` (a
        backtest evaluates the day's daily signals and wake-up bars while it prepares the day): the repeated
        errors counted before and not yet logged by :meth:`close_day` are logged under their day, and the
        strategy's errors from now on are counted under ``day``."""
        if day != self._errors_day:
            self._log_repeated_errors()
            self._errors_day = day

    def start_day(
        self, day: date, now: datetime, data: Mapping[StockCode, CodeDay], price_of: PriceOf
    ) -> None:
        """Before the open: settle cash, reset daily counters, and sell at the open what the time-cut says."""
        self.begin_day(day)
        self.day = day
        self.data = dict(data)
        self.portfolio.start_day(day)
        self.gate.state.start_day(day, self.portfolio.equity(price_of))
        if self._selling_day != day:  # a day's exit is that day's: the next day's rules decide again (a
            # restart in the day keeps what it restored)
            self.must_sell.clear()
            self._to_resend.clear()
            self._selling_day = day
        for code, mark in list(self.gate.state.take_profit.items()):
            if mark.at.date() < day:  # a mark governs re-buys for its day only, and survives a restart
                self.gate.state.clear_take_profit(code)
        for position in sorted(self.portfolio.held(), key=lambda p: p.code):
            opened = self.opened_on.get(position.code, day)
            held = self.calendar.count_sessions(opened, day) - 1
            reason = self.exits.time_cut_reason(day, self.calendar.previous_session(day), held)
            if reason is not None and position.code in self.data:
                self._decide(self.exits.time_cut(self.holding(position.code), reason), now, price_of)

    def close_day(self) -> None:
        """After the close: let go of the day's bars. A backtest's are views of every bar it loaded, so a
        result kept after the run (a comparison keeps one per policy) would keep them all. The day's repeated
        strategy errors are logged with their counts."""
        self.data = {}
        self._log_repeated_errors()

    def on_bar(self, code: StockCode, index: int, now: datetime, signal: Signal, price_of: PriceOf) -> None:
        """A bar of ``code`` completed at ``now``: run the exits, then the minute strategy."""
        data = self.data[code]
        owned, working = self.portfolio.owned(code), self.orders.has_open_order(code)
        if self._exited(code, index, now, price_of, owned, working):
            return
        if working or code == self.safe_asset:
            return
        if owned == 0 and not self.accepts_entries():
            return
        view = MinuteInput(
            code,
            now,
            data.bars.slice(0, index + 1),
            data.today_start,
            signal,
            self._position_view(code),
            data.instrument_type,
            data.market,
        )
        try:
            # a wrong type is refused here either way: by the check below, or (the compiled build) at the call
            returned: object = self.minute.on_bar(view)
            intent = _returned_intent(returned, self.data)
        except HOOK_FAILURES as error:  # a strategy bug is logged and alerted, never fatal (DESIGN 1.9)
            self.strategy_failed(self.minute.name, "on_bar", code, error, self.minute.on_bar)
            return
        if intent is not None:
            self._decide(intent, now, price_of, index)

    def check_exits(self, code: StockCode, index: int, now: datetime, price_of: PriceOf) -> None:
        """The exit rules alone on ``code``'s bar at ``now``: the live loop's, for a stock whose bars of today
        before its start are still to come from the broker's chart (the minute strategy would read an
        indicator over a hole), while its stop loss, trailing stop and take-profit need only the price."""
        owned, working = self.portfolio.owned(code), self.orders.has_open_order(code)
        self._exited(code, index, now, price_of, owned, working)

    def _exited(
        self, code: StockCode, index: int, now: datetime, price_of: PriceOf, owned: int, working: bool
    ) -> bool:
        """Run the exits on a holding's bar; True when one decided an order (the bar's decision is made)."""
        if owned > 0:
            self.update_high_water(code, index)
            if not working:
                exit_intent = self.exits.check(self.holding(code), self.data[code].bars.close.item(index))
                if exit_intent is not None:
                    self._decide(exit_intent, now, price_of, index)
                    return True
        return False

    def strategy_failed(
        self,
        strategy: str,
        hook: str,
        code: StockCode,
        error: Exception | SystemExit,
        source: Callable[..., object] | None = None,
    ) -> None:
        """A strategy hook raised: count it (``strategy_errors``, alerted) and log it; the caller goes on
        with a safe default (DESIGN 1.9: never fatal). Every error is counted, but one that comes back (the
        same strategy, hook and error) is logged in full only the first time: later ones are summed up at
        10, 100, 1,000 ... in the run (``so_far``) and at the day's end (``count``: those of the day not
        logged one by one), both as ``strategy_errors_repeated``. ``source``: the hook called, named as
        where the error is when it lies in what the hook gave back (``_raised_at``)."""
        self.strategy_errors += 1
        # maemae's own finding is said in its words; a StrategyError inside a StrategyError read as two errors
        message = str(error) if isinstance(error, StrategyError) else repr(error)
        if not self.first_strategy_error:
            self.first_strategy_error = f"{strategy} {hook} on {code}: {message}"
        counted_as, count = self._error_tally.count(strategy, hook, message)
        if count == 1 and counted_as == message:
            described = repr(StrategyError(f"{strategy}: {message}"))
            log.error(
                "strategy_error",
                strategy=strategy,
                code=code,
                hook=hook,
                error=described,
                at=_raised_at(error, source),
            )
        elif _power_of_ten(count):
            log.error(
                "strategy_errors_repeated", strategy=strategy, hook=hook, error=counted_as, so_far=count
            )

    def _log_repeated_errors(self) -> None:
        """One line per kind of strategy error that was counted but not logged since the last summary."""
        for (strategy, hook, message), count in sorted(self._error_tally.take_unlogged().items()):
            log.error(
                "strategy_errors_repeated",
                strategy=strategy,
                hook=hook,
                error=message,
                count=count,
                day=str(self._errors_day),
            )

    def open_positions(self) -> int:
        """Stocks maemae holds or is buying, the safe asset not counted (the ``max_positions`` rule's count).

        A working buy counts: ten buy signals on one bar must not open ten positions in a five-stock book.
        """
        codes = self.portfolio.held_codes()
        codes.update(self.orders.buying_codes())
        if self.safe_asset is not None:
            codes.discard(self.safe_asset)
        return len(codes)

    def accepts_entries(self) -> bool:
        """Whether a stock maemae does not hold could be bought now.

        While the book holds ``max_positions`` stocks every new entry would be denied, so the strategy is not
        asked for one: a full book does not look for entries, in the backtest and live alike (docs/risk.md).
        """
        room = self.gate.max_positions
        # a bound first: every position (held or only on the broker's books) and every code being bought; the
        # exact count builds a set, and a book with room is the usual answer
        if len(self.portfolio.positions) + self.orders.buying_count() < room:
            return True
        return self.open_positions() < room

    def update_high_water(self, code: StockCode, index: int) -> None:
        """Raise the trailing stop's high-water mark with every close since the last update up to ``index``.

        It is brought up to date from the bars themselves, not from the calls that happened to be made, so it
        is the same whether the kernel saw every bar or only its wake-up bars.
        """
        if code not in self.high_water or index < 0:
            return
        bars = self.data[code].bars
        after, at = self._high_water_ts[code], bars.ts.item(index)
        if at <= after:
            return  # no bar since the last update: a step's visit and its exit scan both ask (4 calls in 10)
        if index == 0 or bars.ts.item(index - 1) <= after:
            # one bar since the last update (4 in 10 of the rest): a read costs a fifth of a compiled call
            high = bars.close.item(index)
        else:
            scan = self._high_since
            if scan is None:
                scan = self._high_since = high_since_entry()
            high = scan(bars.ts, bars.close, after, index)
        if high >= 0:
            self.high_water[code] = max(self.high_water[code], high)
            self._high_water_ts[code] = at

    def check_portfolio_stop(self, now: datetime, price_of: PriceOf) -> bool:
        """Halt new entries for the day when equity falls to the stop level; with ``liquidate``, cancel every
        working order but the exits' and sell every position maemae owns (``follow_through`` sells the rest
        of it, and any share a late fill buys, until the day's end)."""
        assert self.day is not None
        level = self.exits.portfolio_stop_level(self.gate.state.day_start_equity)
        if level is None or self.gate.state.is_halted(self.day):
            return False
        equity = self.portfolio.equity(price_of)
        if equity > level:
            return False
        self.gate.state.halt_for_day(self.day)
        # ``at``: when it fired in the run's time (a backtest's day and minute; the record's own ``ts`` is
        # the wall clock's)
        log.warning("portfolio_stop", equity=equity, level=level, at=now.isoformat())
        if self.exits.config.portfolio_stop.liquidate:
            for order in sorted(self.orders.open_orders(), key=lambda o: o.order_id):
                if order.source not in EXIT_SOURCES:
                    self.orders.cancel(order, now, "portfolio stop: liquidate")
            for position in self.portfolio.held():
                self.must_sell.setdefault(position.code, IntentSource.PORTFOLIO_STOP)
                self._to_resend.setdefault(position.code, False)
            self.follow_through(now, price_of)
        return True

    def _liquidating(self) -> bool:
        """Whether today's portfolio stop tripped with ``liquidate``: whatever maemae comes to own is sold."""
        return (
            self.day is not None
            and self.exits.config.portfolio_stop.liquidate
            and self.gate.state.is_halted(self.day)
        )

    def follow_through(self, now: datetime, price_of: PriceOf) -> None:
        """Sell what the day's whole-position exits left: an exit order that ended (the unfilled timeout
        cancelled it) with shares maemae still owns is sent again for them, as a new market order through the
        gate, and so is a position a fill bought after a liquidating portfolio stop. A code waits while an
        order of its is working (a buy being cancelled, a sell pending); one the gate refuses is not asked
        again until another order of it ends. The drivers call it after the fills and timeouts of each step,
        before the visits, so the backtest's wake-up steps, its every-bar mode and the live loop send the same
        orders at the same moment."""
        if not self._to_resend:
            return
        for code in sorted(self._to_resend):
            if self.orders.has_open_order(code):
                continue
            rest = self._to_resend.pop(code)
            source = self.must_sell.get(code)
            if source is None or code not in self.data or self.portfolio.owned(code) == 0:
                continue
            holding = self.holding(code)
            intent = self.exits.remainder(holding, source) if rest else self.exits.liquidation(holding)
            self._decide(intent, now, price_of)

    def park_safe_asset(self, now: datetime, buy_signals: int, price_of: PriceOf) -> None:
        """At the open: idle cash goes into the safe asset when nothing qualifies, and comes out when
        something does (the daily strategy's ``safe_asset_code``, SPEC 2). A day that finds the safe asset
        held and still nothing qualifying parks the cash left idle (one order is held to the per-order caps
        and the bar's volume), when it buys a share."""
        code = self.safe_asset
        if code is None or code not in self.data or self.orders.has_open_order(code):
            return
        owned = self.portfolio.owned(code)
        others = any(p.code != code for p in self.portfolio.held())
        if buy_signals == 0 and not others and (owned == 0 or self._idle_buys_a_share(code, price_of)):
            intent = OrderIntent(
                code,
                Side.BUY,
                None,
                OrderType.MARKET,
                source=IntentSource.SAFE_ASSET,
                reason="nothing qualifies: park idle cash",
            )
            self._decide(intent, now, price_of)
        elif buy_signals > 0 and owned > 0:
            intent = OrderIntent(
                code,
                Side.SELL,
                owned,
                OrderType.MARKET,
                source=IntentSource.SAFE_ASSET,
                reason=f"{buy_signals} buy signal(s): free the cash",
            )
            self._decide(intent, now, price_of)

    def _idle_buys_a_share(self, code: StockCode, price_of: PriceOf) -> bool:
        """Whether the orderable cash buys a share of ``code`` at market, as the gate would size it: a
        top-up that buys none would only be denied, day after day."""
        cash = self.portfolio.account.orderable_cash
        return self.gate.affords_a_market_share(cash, price_of(code), self.data[code].limits)

    # ----- decisions
    def _decide(
        self, intent: OrderIntent, now: datetime, price_of: PriceOf, index: int | None = None
    ) -> None:
        if self.orders.was_decided(intent, now):
            return  # decided before a restart: the same moment is never decided twice
        ctx = self._context(intent, now, price_of, index)
        decision = self.gate.evaluate(intent, ctx)
        if not decision.approved:
            self.orders.record_denial(intent, f"{decision.reason}: {decision.detail}", now)
            return
        if intent.side is Side.BUY:  # reserved when the order is SUBMITTED, so it is saved with it
            price = intent.limit_price or (ctx.limits.upper if ctx.limits else ctx.price)
            amount = price * decision.quantity
            self._reservation = min(
                amount + self.gate.commission(amount), self.portfolio.account.orderable_cash
            )
        self._counted_price = decision.price  # tied to the order when it is SUBMITTED, and saved with it
        self.orders.submit(intent, decision.quantity, now, decision.detail)
        self._reservation = 0
        if intent.source in EXIT_SOURCES:
            self.must_sell.setdefault(intent.code, intent.source)

    def _context(
        self, intent: OrderIntent, now: datetime, price_of: PriceOf, index: int | None
    ) -> GateContext:
        assert self.day is not None
        code = intent.code
        data = self.data[code]
        price = price_of(code)
        buying = intent.side is Side.BUY
        recent_high = bar_volume = average_volume = 0
        if index is not None and buying and self.gate.wants_reentry_facts(intent):
            start = max(data.today_start, index - VOLUME_LOOKBACK)
            before = data.bars.high[data.today_start : index]
            recent_high = int(before.max()) if before.size else price
            bar_volume = data.bars.volume.item(index)
            window = data.bars.volume[start:index]
            average_volume = int(window.sum()) // max(int(window.size), 1)
        position = self.portfolio.positions.get(code)
        held = None
        if position is not None and position.owned_quantity > 0:
            held = HeldPosition(position.owned_quantity, position.strategy)
        return GateContext(
            now=now,
            day=self.day,
            price=price,
            limits=data.limits,
            grid=data.grid,
            orderable_cash=self.portfolio.account.orderable_cash,
            equity=self.portfolio.equity(price_of) if buying else 0,  # sizing a buy
            open_positions=self.open_positions() if buying else 0,  # the max-positions rule, on buys
            position=held,
            recent_high=recent_high,
            bar_volume=bar_volume,
            average_volume=average_volume,
        )

    def holding(self, code: StockCode) -> Holding:
        """The exit rules' view of the position in ``code``."""
        position = self.portfolio.positions[code]
        return Holding(
            code,
            position.owned_quantity,
            position.cost_basis,
            self.high_water.get(code, 0),
            code in self.gate.state.take_profit,
        )

    def _position_view(self, code: StockCode) -> PositionView | None:
        position = self.portfolio.positions.get(code)
        if position is None or position.owned_quantity == 0 or position.opened_at is None:
            return None
        return PositionView(
            position.owned_quantity,
            position.cost_basis,
            position.opened_at,
            position.strategy,
        )

    def detach(self) -> None:
        """Stops listening to the order manager, once a run is over. The kernel and the order manager refer to
        each other through that listener, so without this a finished backtest's orders, fills and events wait
        for the cycle collector instead of being freed when its result is dropped; a sweep's worker or a
        comparison then ran each next backtest about 15 % slower (docs/architecture.md)."""
        self.orders.listeners.remove(self._on_event)

    # ----- events from the order manager
    def _on_event(self, event: DomainEvent) -> None:
        if isinstance(event, OrderStateChanged):  # four in five events
            if event.new is OrderState.SUBMITTED:
                self._submitted(event.order_id)
            elif event.new in TERMINAL_STATES:
                self.portfolio.account.release(event.order_id)
                self.gate.state.note_order_ended(
                    event.order_id, self.orders.orders[event.order_id].filled_quantity
                )
                if event.new is OrderState.CANCELLED and event.code in self.must_sell:
                    self._to_resend.setdefault(event.code, True)
            return
        fill = event.fill
        order = self.orders.orders[fill.order_id]
        owned = self.portfolio.owned(fill.code)
        if fill.side is Side.SELL and fill.quantity > owned:  # see Position._sell_beyond_owned
            log.warning(
                "fill_beyond_owned",
                code=fill.code,
                fill=fill.fill_id,
                sold=fill.quantity,
                owned=owned,
                at=fill.ts.isoformat(),
            )
        was_flat = owned == 0
        self.portfolio.apply_fill(fill, order.strategy or order.source.value)
        self.gate.state.note_fill(fill.order_id, fill.code, fill.side, fill.price, fill.ts)
        if fill.side is Side.BUY:
            if was_flat:
                self.opened_on[fill.code] = fill.ts.date()
                self.high_water[fill.code] = fill.price
                # the bar the fill happened in counts from its close on
                self._high_water_ts[fill.code] = moment_ns(fill.ts) - 1
            self.high_water[fill.code] = max(self.high_water[fill.code], fill.price)
            if self._liquidating():  # a buy that was working when the stop tripped: sold in turn
                self.must_sell.setdefault(fill.code, IntentSource.PORTFOLIO_STOP)
                self._to_resend.setdefault(fill.code, False)
        elif order.source is IntentSource.TAKE_PROFIT:
            self.gate.state.mark_take_profit(fill.code, fill.price, fill.ts)
        if self.portfolio.owned(fill.code) == 0:
            self.high_water.pop(fill.code, None)
            self._high_water_ts.pop(fill.code, None)
            self.opened_on.pop(fill.code, None)
            self.must_sell.pop(fill.code, None)

    def _submitted(self, order_id: str) -> None:
        """The order ``_decide`` approved is written down: its cash is reserved and its part in the day's
        amount remembered, both saved with it."""
        if self._reservation:
            self.portfolio.account.reserve(order_id, self._reservation)
        quantity = self.orders.orders[order_id].quantity
        self.gate.state.note_order_working(order_id, self._counted_price, quantity)

    # ----- what a restart must not forget
    def exit_state(self) -> dict[str, Any]:
        """The trailing stop's high-water marks, the time-cut's entry days, the day's exits still selling and
        what ``follow_through`` has yet to send, as plain JSON."""
        return {
            "selling_day": None if self._selling_day is None else self._selling_day.isoformat(),
            "must_sell": {str(c): s.value for c, s in sorted(self.must_sell.items())},
            "to_resend": {str(c): rest for c, rest in sorted(self._to_resend.items())},
            "high_water": {str(c): p for c, p in sorted(self.high_water.items())},
            "high_water_ts": {str(c): t for c, t in sorted(self._high_water_ts.items())},
            "opened_on": {str(c): d.isoformat() for c, d in sorted(self.opened_on.items())},
        }

    def restore_exit_state(self, data: Mapping[str, Any]) -> None:
        self.high_water = {StockCode(c): int(p) for c, p in data.get("high_water", {}).items()}
        self._high_water_ts = {StockCode(c): int(t) for c, t in data.get("high_water_ts", {}).items()}
        self.opened_on = {StockCode(c): date.fromisoformat(d) for c, d in data.get("opened_on", {}).items()}
        # an exit still selling when the process stopped, and what ``follow_through`` had yet to send, saved
        # with every order change: a restart sends what the unbroken run would (a remainder the gate refused
        # waits for another order of its code to end, as it would have)
        selling_day = data.get("selling_day")
        self._selling_day = None if selling_day is None else date.fromisoformat(selling_day)
        self.must_sell = {StockCode(c): IntentSource(s) for c, s in data.get("must_sell", {}).items()}
        self._to_resend = {StockCode(c): bool(rest) for c, rest in data.get("to_resend", {}).items()}


pickle_by_fields(CodeDay)  # see maemae.compiled
