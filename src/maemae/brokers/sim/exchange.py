"""``SimExchange``: the simulated exchange behind the broker port, for backtests and paper trading.

It behaves like a KRX broker seen through maemae's port: it accepts or rejects orders (session, tick grid,
daily limits, cash, shares), keeps them working until bars that start after their submission trade them
(``matching``), reports fills and cancellations as events, expires what is left at the end of the day, keeps
its own account with commission, sell tax and T+2 settlement, and answers the queries the reconciliation
uses. Whoever feeds it market data (the backtest runner, or a replay in paper mode) calls ``start_day``,
``on_bar`` and ``end_day``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from maemae.brokers.sim.matching import FillRules, MarketBar, fill_price, opening_price
from maemae.compiled import pickle_by_fields
from maemae.data.instruments import Instrument, listing
from maemae.domain.account import Account
from maemae.domain.clock_time import dated_id, require_kst
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market, OrderCondition, OrderType, Side
from maemae.domain.fill import Fill
from maemae.errors import OrderRejected
from maemae.krx.calendar import TradingCalendar
from maemae.krx.costs import CostModel
from maemae.krx.limits import PriceLimits, price_limits
from maemae.krx.sessions import MarketPhase, SessionSchedule, phase_in, session_schedule
from maemae.krx.settlement import settlement_date
from maemae.krx.ticks import TickTable, tick_table
from maemae.ports.broker import (
    BrokerEvent,
    BrokerFill,
    BrokerOrder,
    BrokerOrderStatus,
    CashBalance,
    Holding,
    OrderAck,
    OrderRequest,
    OrderUpdate,
    Quote,
)

_ACCEPTING: Final = (MarketPhase.PRE_OPEN_AUCTION, MarketPhase.CONTINUOUS, MarketPhase.CLOSING_AUCTION)


@dataclass(slots=True)
class _Working:
    number: str
    request: OrderRequest
    submitted_at: datetime
    price: int | None
    quantity: int
    filled: int = 0
    status: BrokerOrderStatus = BrokerOrderStatus.WORKING
    amount: int = 0  # the won of its fills
    last_fill_at: datetime | None = None

    # written out: mypyc compiles this one; the __init__ @dataclass writes runs as Python (architecture.md)
    def __init__(
        self,
        number: str,
        request: OrderRequest,
        submitted_at: datetime,
        price: int | None,
        quantity: int,
        filled: int = 0,
        status: BrokerOrderStatus = BrokerOrderStatus.WORKING,
    ) -> None:
        self.number, self.request, self.submitted_at = number, request, submitted_at
        self.price, self.quantity, self.filled, self.status = price, quantity, filled, status
        self.amount, self.last_fill_at = 0, None

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled


@dataclass(slots=True)
class _Holding:
    quantity: int = 0
    cost: int = 0


@dataclass(slots=True)
class _Book:
    working: dict[StockCode, list[_Working]] = field(default_factory=lambda: defaultdict(list))
    all: dict[str, _Working] = field(default_factory=dict)


class SimExchange:
    """A broker adapter whose exchange is a simulation over the bars it is fed."""

    name = "sim"

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        calendar: TradingCalendar,
        costs: CostModel,
        instruments: Mapping[StockCode, Instrument],
        initial_cash: int,
        max_volume_share: Decimal = Decimal("0.1"),
        rules: FillRules | None = None,
    ) -> None:
        self._clock = clock
        self._calendar = calendar
        self._costs = costs
        self._instruments = instruments
        # a bar's fillable volume, volume x share rounded down, in integers (exact, and on every bar)
        self._share = max_volume_share.as_integer_ratio()
        self._rules = rules or FillRules()
        self.account = Account(settled_cash=initial_cash)
        self._holdings: dict[StockCode, _Holding] = defaultdict(_Holding)
        self._book = _Book()
        self._events: list[BrokerEvent] = []
        self._fills: list[BrokerFill] = []
        self._limits: dict[StockCode, PriceLimits] = {}
        self._grids: dict[StockCode, TickTable] = {}  # each code's tick table today, found once a day
        self._listings: dict[StockCode, tuple[InstrumentType, Market]] = {}
        self._last_bar: dict[StockCode, MarketBar] = {}  # quoted on request, not on every bar
        # per code, the bar ``open_bar`` traded at its open and the shares it traded there
        self._opened: dict[StockCode, tuple[datetime, int]] = {}
        self._day: date | None = None
        self._sequence = 0
        self._fills_made = 0  # the day's fills, for their ids (a carried-over day's count from the store)
        # the last fill's trade day and its settlement date, as in ``Portfolio``: a day's fills ask one after
        # another
        self._last_settlement: tuple[date, date] | None = None
        self._last_schedule: tuple[date, SessionSchedule | None] | None = None  # see ``_phase``

    # ----- market data feed
    def start_day(self, day: date, base_prices: Mapping[StockCode, int]) -> None:
        """Open a trading day: the day's limits come from each code's base price (yesterday's close). Orders
        still working from a day whose close never came (the run feeding this exchange stopped before it)
        expire first, as KRX orders do at their session's end."""
        if self._day is not None and self._day != day and self._book.working:
            self.end_day()
        if self._day != day:
            self._fills_made = 0
        self._day = day
        self._fills = []
        self.account.settle(day)
        self._limits, self._grids, self._listings = {}, {}, {}
        for code, base in base_prices.items():
            kind, market = self._listing(code)
            self._limits[code] = price_limits(base, day, kind, market)
            self._grids[code] = tick_table(day, kind, market)
        if self._book.working:  # orders taken over by ``carry_over``
            self._reserve_carried_buys()

    def _reserve_carried_buys(self) -> None:
        """The working buys a new exchange took over reserve cash for what remains, once the day's limits
        are known (a market buy reserves at the upper limit)."""
        for orders in self._book.working.values():
            for order in orders:
                request, limits = order.request, self._limits.get(order.request.code)
                if request.side is Side.BUY and order.number not in self.account.reserved and limits:
                    price = request.price or limits.upper
                    self.account.reserve(order.number, self._reservation_at(price, order.remaining))

    def limits(self, code: StockCode) -> PriceLimits | None:
        return self._limits.get(code)

    def on_bar(self, code: StockCode, bar: MarketBar) -> None:
        """Trade the code's working orders that were submitted before ``bar`` started, in time priority, on
        the bar's volume that ``open_bar`` left (all of it when the bar was not opened first)."""
        self._last_bar[code] = bar
        numerator, denominator = self._share
        available = bar.volume * numerator // denominator
        if self._opened:
            opened = self._opened.pop(code, None)
            if opened is not None and opened[0] == bar.start:
                available -= opened[1]
        self._trade(code, bar, available, at_open=False)

    def open_bar(self, code: StockCode, bar: MarketBar) -> None:
        """The first print of ``bar``, before the rest of it is known: a market replayed on a clock (the
        local KIS server's ``--replay``) opens each bar when its minute starts and feeds all of it to
        ``on_bar`` when the minute ends. The working orders whose price there is the open
        (``matching.opening_price``: market orders, limits the open reaches) trade now, as they would against
        a real book, instead of a minute later; quotes stay at the previous bar, whose prices are known."""
        numerator, denominator = self._share
        available = bar.volume * numerator // denominator
        self._opened[code] = (bar.start, self._trade(code, bar, available, at_open=True))

    def _trade(self, code: StockCode, bar: MarketBar, available: int, *, at_open: bool) -> int:
        """Trade the working orders submitted before ``bar`` started on at most ``available`` shares, at its
        open only (``at_open``) or on all of it; returns the shares traded."""
        left = available
        grid = self._grids.get(code) or tick_table(bar.start.date(), *self._listing(code))
        for order in list(self._book.working.get(code, ())):
            if order.submitted_at > bar.start:
                continue
            request = order.request
            if at_open:
                price = opening_price(request.side, request.order_type, order.price, bar, self._rules, grid)
                if price is None:
                    continue  # its fill needs the rest of the bar
            else:
                price = fill_price(request.side, request.order_type, order.price, bar, self._rules, grid)
            quantity = min(order.remaining, left) if price is not None else 0
            condition = request.condition
            if condition is OrderCondition.FOK and quantity < order.remaining:
                self._cancel(order, "FOK: not fillable in full")
                continue
            if quantity > 0 and price is not None:
                left -= quantity
                self._fill(order, quantity, price, bar.start)
            if condition is OrderCondition.IOC and order.status is BrokerOrderStatus.WORKING:
                self._cancel(order, "IOC: remainder cancelled")
        return available - left

    def end_day(self) -> None:
        """The session is over: every working order expires (KRX orders are day orders)."""
        for orders in self._book.working.values():
            for order in list(orders):
                order.status = BrokerOrderStatus.EXPIRED
                self._events.append(
                    OrderUpdate(
                        order.number,
                        BrokerOrderStatus.EXPIRED,
                        self._clock(),
                        cancelled_quantity=order.remaining,
                        reason="session ended",
                    )
                )
                self.account.release(order.number)
        self._book.working.clear()

    def external_trade(self, code: StockCode, side: Side, quantity: int, price: int) -> str:
        """A trade the account holder makes outside maemae (in the broker's app): it fills at once at
        ``price`` and moves the account's holdings and cash; maemae learns of it only by reconciling."""
        request = OrderRequest("external", code, side, quantity, OrderType.LIMIT, price)
        order = _Working(self._next_number(), request, self._clock(), price, quantity)
        self._book.all[order.number] = order
        self._book.working[code].append(order)
        self._fill(order, quantity, price, self._clock())
        return order.number

    def carry_over(
        self,
        day: date,
        account: Account,
        holdings: Mapping[StockCode, tuple[int, int]],
        orders: Sequence[tuple[OrderRequest, BrokerOrder]],
        fills_made: int,
    ) -> None:
        """Take over the book of this exchange's predecessor, the simulated exchange an earlier run of the
        same store ran inside its process (a day on the clock with ``broker.kind = "sim"``), as it stood at
        that run's last save: ``day``, the day it last traded, on which it made ``fills_made`` fills (their
        ids go on from there); its cash; each code's shares and their cost (``holdings``); and its orders,
        each as it was sent and as the exchange showed it. Called on a new exchange before its first day
        starts, which reserves the cash of the working buys; orders still working from ``day`` expire when a
        later day starts instead, as they would have at ``day``'s close."""
        self._day, self._fills_made = day, fills_made
        self.account = Account(account.settled_cash, list(account.pending))
        for code, (quantity, cost) in holdings.items():
            self._holdings[code] = _Holding(quantity, cost)
        for request, shown in orders:
            number = shown.broker_order_no
            order = _Working(
                number,
                request,
                shown.submitted_at,
                shown.price,
                shown.quantity,
                shown.filled_quantity,
                shown.status,
            )
            order.amount, order.last_fill_at = shown.filled_amount or 0, shown.last_fill_at
            self._book.all[number] = order
            self._sequence = max(self._sequence, int(number[1:]))
            if shown.status is BrokerOrderStatus.WORKING:
                self._book.working[request.code].append(order)

    def _next_number(self) -> str:
        """The next broker order number, ``S`` and at least seven digits (spelled without a format spec,
        which costs about ten times as much in the compiled engine, and padded by arithmetic where it can
        be: ``zfill`` is a generic method call there)."""
        self._sequence += 1
        number = self._sequence
        return "S" + (str(10_000_000 + number)[1:] if number < 10_000_000 else str(number))

    # ----- the broker port
    def submit(self, request: OrderRequest) -> OrderAck:
        now = self._clock()
        self._check_acceptable(request, now)
        number = self._next_number()
        order = _Working(number, request, now, request.price, request.quantity)
        if request.side is Side.BUY:
            self.account.reserve(number, self._reservation(request))
        self._book.working[request.code].append(order)
        self._book.all[number] = order
        return OrderAck(number, now)

    def cancel(self, broker_order_no: str, code: StockCode, quantity: int | None = None) -> OrderAck:
        order = self._working(broker_order_no)
        if quantity is not None and quantity < order.remaining:
            raise OrderRejected(f"order {broker_order_no}: the simulator cancels whole orders only")
        self._cancel(order, "cancelled on request")
        return OrderAck(order.number, self._clock())

    def modify(
        self, broker_order_no: str, code: StockCode, price: int, quantity: int | None = None
    ) -> OrderAck:
        """Re-price the remaining quantity; like KRX, the modified order gets a new number."""
        order = self._working(broker_order_no)
        request = OrderRequest(
            order.request.client_order_id,
            code,
            order.request.side,
            quantity or order.remaining,
            OrderType.LIMIT,
            price,
            order.request.condition,
        )
        self._check_price(request)
        self._book.working[code].remove(order)
        self.account.release(order.number)
        order.status = BrokerOrderStatus.CANCELLED
        replacement = _Working(self._next_number(), request, self._clock(), price, request.quantity)
        if request.side is Side.BUY:
            self.account.reserve(replacement.number, self._reservation(request))
        self._book.working[code].append(replacement)
        self._book.all[replacement.number] = replacement
        return OrderAck(replacement.number, replacement.submitted_at)

    def open_orders(self) -> list[BrokerOrder]:
        return [self._view(order) for orders in self._book.working.values() for order in orders]

    def order_status(self, broker_order_no: str) -> BrokerOrder | None:
        order = self._book.all.get(broker_order_no)
        return self._view(order) if order else None

    def find_orders(self, code: StockCode, side: Side) -> list[BrokerOrder]:
        return [
            self._view(o)
            for o in self._book.all.values()
            if o.request.code == code and o.request.side is side
        ]

    def all_orders(self) -> list[BrokerOrder]:
        """Every order received this run, in arrival order (tests compare runs with it)."""
        return [self._view(order) for order in self._book.all.values()]

    def fills_today(self) -> list[BrokerFill]:
        return list(self._fills)

    def orders_of_day(self, day: date) -> list[BrokerOrder] | None:
        """The orders received on ``day``, in arrival order, as they ended (the exchange keeps every order
        of its run)."""
        return [self._view(o) for o in self._book.all.values() if o.submitted_at.date() == day]

    def cash(self) -> CashBalance:
        return CashBalance(deposit=self.account.settled_cash, orderable=self.account.orderable_cash)

    def holdings(self) -> list[Holding]:
        selling: dict[StockCode, int] = defaultdict(int)
        for orders in self._book.working.values():
            for order in orders:
                if order.request.side is Side.SELL:
                    selling[order.request.code] += order.remaining
        return [
            Holding(code, item.quantity, item.quantity - selling[code], Decimal(item.cost) / item.quantity)
            for code, item in sorted(self._holdings.items())
            if item.quantity > 0
        ]

    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]:
        return {code: _quote(code, self._last_bar[code]) for code in codes if code in self._last_bar}

    def poll_events(self) -> list[BrokerEvent]:
        events, self._events = self._events, []
        return events

    # ----- internals
    def _listing(self, code: StockCode) -> tuple[InstrumentType, Market]:
        """The code's kind and market, read from the instrument list once a day (each fill asks)."""
        found = self._listings.get(code)
        if found is None:
            found = self._listings[code] = listing(self._instruments.get(code))
        return found

    def _working(self, number: str) -> _Working:
        order = self._book.all.get(number)
        if order is None or order.status is not BrokerOrderStatus.WORKING:
            raise OrderRejected(f"order {number}: not working (already filled, cancelled or unknown)")
        return order

    def _check_price(self, request: OrderRequest) -> None:
        limits = self._limits.get(request.code)
        if limits is None:
            raise OrderRejected(f"{request.code}: not traded today")
        if request.price is not None:
            if not self._grids[request.code].is_on_grid(request.price):
                raise OrderRejected(f"{request.code}: price {request.price} is not on the tick grid")
            if not limits.contains(request.price):
                raise OrderRejected(
                    f"{request.code}: price {request.price} outside the day's limits "
                    f"{limits.lower}..{limits.upper}"
                )

    def _reservation(self, request: OrderRequest) -> int:
        price = request.price or self._limits[request.code].upper  # market buys reserve at the upper limit
        return self._reservation_at(price, request.quantity)

    def _reservation_at(self, price: int, quantity: int) -> int:
        amount = price * quantity
        return amount + self._costs.commission(amount)

    def _check_acceptable(self, request: OrderRequest, now: datetime) -> None:
        if request.quantity <= 0:
            raise OrderRejected(f"{request.code}: quantity {request.quantity}, expected 1 or more")
        if self._phase(now) not in _ACCEPTING:
            raise OrderRejected(f"{request.code}: the market is closed at {now:%Y-%m-%d %H:%M}")
        self._check_price(request)
        if request.side is Side.BUY:
            needed = self._reservation(request)
            if needed > self.account.orderable_cash:
                raise OrderRejected(
                    f"{request.code}: needs {needed} won, {self.account.orderable_cash} won is orderable"
                )
        else:
            held = self._holdings[request.code].quantity
            selling = sum(
                o.remaining for o in self._book.working.get(request.code, ()) if o.request.side is Side.SELL
            )
            if request.quantity > held - selling:
                raise OrderRejected(
                    f"{request.code}: sell of {request.quantity} exceeds {held - selling} sellable"
                )

    def _fill(self, order: _Working, quantity: int, price: int, at: datetime) -> None:
        request = order.request
        day = at.date()
        kind, market = self._listing(request.code)
        costs = self._costs.costs(request.side, price * quantity, day, market, kind, self._calendar)
        self._fills_made += 1
        fill_id = dated_id(day, self._fills_made)
        fill = Fill(
            fill_id,
            order.number,
            order.number,
            request.code,
            request.side,
            quantity,
            price,
            at,
            costs.commission,
            costs.tax,
        )
        self.account.apply_fill(fill, self._settles_on(day))
        holding = self._holdings[request.code]
        if request.side is Side.BUY:
            holding.quantity += quantity
            holding.cost += fill.amount + fill.commission
        else:
            holding.cost -= (
                holding.cost * quantity // holding.quantity if quantity < holding.quantity else holding.cost
            )
            holding.quantity -= quantity
        order.filled += quantity
        order.amount += fill.amount
        order.last_fill_at = at
        broker_fill = BrokerFill(fill_id, order.number, request.code, request.side, quantity, price, at)
        self._fills.append(broker_fill)
        self._events.append(broker_fill)
        if order.remaining == 0:
            order.status = BrokerOrderStatus.FILLED
            self._book.working[request.code].remove(order)
            self.account.release(order.number)

    def _phase(self, now: datetime) -> MarketPhase:
        """``market_phase`` with the day's timetable kept: every order asks, and the ``lru_cache`` of
        ``session_schedule`` hashes a date and a calendar on each call (about 950 instructions, compiled)."""
        moment = require_kst(now)
        day = moment.date()
        last = self._last_schedule
        if last is None or last[0] != day:
            last = self._last_schedule = (day, session_schedule(day, self._calendar))
        return phase_in(moment, last[1])

    def _settles_on(self, day: date) -> date:
        """When a trade of ``day`` settles."""
        last = self._last_settlement
        if last is None or last[0] != day:
            last = self._last_settlement = (day, settlement_date(day, self._calendar))
        return last[1]

    def _cancel(self, order: _Working, reason: str) -> None:
        order.status = BrokerOrderStatus.CANCELLED
        self._book.working[order.request.code].remove(order)
        self.account.release(order.number)
        self._events.append(
            OrderUpdate(order.number, BrokerOrderStatus.CANCELLED, self._clock(), order.remaining, reason)
        )

    def _view(self, order: _Working) -> BrokerOrder:
        request = order.request
        return BrokerOrder(
            order.number,
            request.code,
            request.side,
            order.quantity,
            order.price,
            request.order_type,
            order.filled,
            order.status,
            order.submitted_at,
            request.client_order_id,
            filled_amount=order.amount,
            last_fill_at=order.last_fill_at,
        )


def _quote(code: StockCode, bar: MarketBar) -> Quote:
    """The quote a bar leaves: its close as the last price."""
    return Quote(code, bar.close, bar.start, bar.open, bar.high, bar.low, bar.volume, 0)


pickle_by_fields(_Working)  # see maemae.compiled
