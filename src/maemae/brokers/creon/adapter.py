"""``CreonBroker``: the broker port over Daishin's Creon Plus COM API.

How Creon maps onto maemae's port (ports/broker.py), and the choices that follow:

* **Start-up checks**, each with one clear line when it fails: an administrator process, Creon Plus connected
  (``CpCybos.IsConnect``), trading unlocked (``CpTdUtil.TradeInit(0) == 0``), the account and its stock
  product code (``AccountNumber``, ``GoodsList``).
* **Every request** goes through one :class:`~maemae.brokers.creon.gate.RequestGate` (the two request
  buckets, return code 4, the error family).
* **Fills** arrive as ``CpConclusion`` events, one per execution (a partial fill is several events), delivered
  when this thread pumps COM messages, which ``poll_events`` does. Creon gives no id per execution, so fills
  are reported as **running totals per order number** (``BrokerFill.cumulative_*``): for an order sent by
  this process, every execution's exact shares and won are summed from the events; the order manager
  records what a total adds, so a fill seen twice counts once. The day's orders (``CpTd5341``) are re-read
  when an event names an order this process did not send, after ``order_sync_seconds`` while orders work,
  and on request; an order whose fills were missed (a restart, a lost event) is caught up from that total
  (its won from Creon's average fill price, the one case where cash may differ by a few won until the
  reconciliation settles it). ``CpConclusion`` carries no time: a fill is dated when its event is received.
* **Cancels and modifies** are confirmed by ``CpConclusion`` events too; a modify gives the order a new
  number (``CpTd0313`` header 7), whose fills are counted from zero.
* **Prices**: ``StockCur`` subscriptions for the trade codes (at most 399 besides the fill events), batched
  ``MarketEye`` requests (200 codes each) for the rest. **Bars**: ``StockChart`` by period, paged.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
import structlog

from maemae.brokers.creon import protocol
from maemae.brokers.creon.com import ComRuntime
from maemae.brokers.creon.gate import RequestGate
from maemae.brokers.totals import QueriedOrders, total_fill
from maemae.config.broker import CreonBrokerConfig
from maemae.data.bars import BAR_COLUMNS
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.errors import ConfigError, FatalBrokerError, OrderRejected, SubmitOutcomeUnknown
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

log = structlog.get_logger("maemae.brokers.creon")
Headers = dict[int, Any]
TRADE = protocol.LT_TRADE_REQUEST
QUOTE = protocol.LT_NONTRADE_REQUEST
_CONCLUSION_HEADERS = (
    protocol.EVENT_QUANTITY,
    protocol.EVENT_PRICE,
    protocol.EVENT_NUMBER,
    protocol.EVENT_ORIGINAL,
    protocol.EVENT_CODE,
    protocol.EVENT_SIDE,
    protocol.EVENT_STATUS,
    protocol.EVENT_KIND,
)
_TRADE_HEADERS = (
    protocol.CUR_CODE,
    protocol.CUR_CHANGE,
    protocol.CUR_OPEN,
    protocol.CUR_HIGH,
    protocol.CUR_LOW,
    protocol.CUR_VOLUME,
    protocol.CUR_PRICE,
    protocol.CUR_TIME,
    protocol.CUR_SESSION,
)


class EventSink:
    """The handler class given to ``WithEvents``: COM makes the instance; ``bind`` says what to call."""

    def bind(self, source: Any, deliver: Callable[[Any], None]) -> None:
        self._source, self._deliver = source, deliver

    def OnReceived(self) -> None:  # noqa: N802 (the COM event's name)
        self._deliver(self._source)


@dataclass(frozen=True, slots=True)
class _Sent:
    """What this process knows of an order it sent (Creon's order query does not give all of it)."""

    code: StockCode
    side: Side
    quantity: int
    price: int | None
    order_type: OrderType
    at: datetime


class CreonBroker:
    """The broker port over Creon Plus (see the module docstring)."""

    name = "creon"

    def __init__(
        self,
        runtime: ComRuntime,
        *,
        clock: Callable[[], datetime],
        config: CreonBrokerConfig | None = None,
        trade_codes: Sequence[str] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        config = config or CreonBrokerConfig()
        self.runtime = runtime
        self._clock = clock
        self._sync_every = timedelta(seconds=config.order_sync_seconds)
        if not runtime.is_admin():
            raise ConfigError(
                "Creon Plus: maemae must run as administrator (Creon refuses a normal process): start it "
                "with 'Run as administrator', or from the Task Scheduler with highest privileges"
            )
        self.gate = RequestGate(runtime.dispatch(protocol.CYBOS), sleep)
        self.gate.require_connection("start")
        self.account, self.goods = self._trade_init(runtime.dispatch(protocol.TRADE_UTIL), config)
        self._objects: dict[str, Any] = {}
        self._exact: dict[str, tuple[int, int]] = {}  # number -> (shares, won) summed from its events
        self._sent: dict[str, _Sent] = {}
        self._queried = QueriedOrders("Creon")
        self._conclusions: deque[tuple[Headers, datetime]] = deque()  # with the time each was received
        self._trades: deque[tuple[Headers, datetime]] = deque()
        self._quotes: dict[StockCode, Quote] = {}
        self._last_sync: datetime | None = None
        self._sync_requested = False
        self._handlers: list[Any] = []  # COM keeps a handler alive only while Python does
        self._subscribe(protocol.CONCLUSION, None, self._conclusions, _CONCLUSION_HEADERS)
        self.streamed = 0  # codes with a StockCur subscription; the others are asked by MarketEye
        for code in trade_codes:
            if int(self.gate.cybos.GetLimitRemainCount(protocol.LT_SUBSCRIBE)) <= 0:
                log.warning("creon_subscriptions_full", streamed=self.streamed, wanted=len(trade_codes))
                break
            self._subscribe(
                protocol.STOCK_CUR, protocol.creon_code(StockCode(code)), self._trades, _TRADE_HEADERS
            )
            self.streamed += 1

    @staticmethod
    def _trade_init(util: Any, config: CreonBrokerConfig) -> tuple[str, str]:
        result = int(util.TradeInit(0))
        if result != 0:
            raise FatalBrokerError(
                f"Creon CpTdUtil.TradeInit(0) returned {result}: unlock trading in Creon Plus "
                "(the account password) and start again"
            )
        accounts = [str(a) for a in util.AccountNumber or ()]
        if not accounts:
            raise FatalBrokerError("Creon CpTdUtil.AccountNumber: no account is signed in")
        account = config.account or accounts[0]
        if account not in accounts:
            raise ConfigError(
                f"broker.creon.account {account!r}: not among the signed-in accounts ({', '.join(accounts)})"
            )
        goods = [str(g) for g in util.GoodsList(account, protocol.GOODS_STOCK) or ()]
        if not goods:
            raise FatalBrokerError(
                f"Creon CpTdUtil.GoodsList({account}, 1): the account has no stock product"
            )
        product = config.product_flag or goods[0]
        if product not in goods:
            raise ConfigError(f"broker.creon.product_flag {product!r}: expected one of {', '.join(goods)}")
        return account, product

    def _subscribe(
        self, progid: str, code: str | None, queue: deque[tuple[Headers, datetime]], headers: Iterable[int]
    ) -> None:
        source = self.runtime.dispatch(progid)
        if code is not None:
            source.SetInputValue(0, code)
        wanted = tuple(headers)
        handler = self.runtime.with_events(source, EventSink)
        handler.bind(
            source, lambda s: queue.append(({i: s.GetHeaderValue(i) for i in wanted}, self._clock()))
        )
        self._handlers.append(handler)
        self.gate.subscribe(source, progid)

    def _object(self, progid: str) -> Any:
        if progid not in self._objects:
            self._objects[progid] = self.runtime.dispatch(progid)
        return self._objects[progid]

    def _inputs(self, progid: str, values: dict[int, Any]) -> Any:
        target = self._object(progid)
        for index, value in values.items():
            target.SetInputValue(index, value)
        return target

    # ----- orders
    def submit(self, request: OrderRequest) -> OrderAck:
        price_type = protocol.PRICE_TYPES.get(request.order_type)
        if price_type is None:
            raise OrderRejected(f"{request.code}: Creon has no {request.order_type.value} order")
        target = self._inputs(
            protocol.NEW_ORDER,
            {
                protocol.ORDER_IN_SIDE: protocol.SIDE_CODES[request.side],
                protocol.ORDER_IN_ACCOUNT: self.account,
                protocol.ORDER_IN_GOODS: self.goods,
                protocol.ORDER_IN_CODE: protocol.creon_code(request.code),
                protocol.ORDER_IN_QUANTITY: request.quantity,
                protocol.ORDER_IN_PRICE: request.price or 0,
                protocol.ORDER_IN_CONDITION: protocol.CONDITIONS[request.condition],
                protocol.ORDER_IN_PRICE_TYPE: price_type,
            },
        )
        self.gate.request(target, f"order {request.code}", kind=TRADE, order=True)
        number = _number(target.GetHeaderValue(protocol.ORDER_OUT_NUMBER))
        if number is None:
            raise SubmitOutcomeUnknown(f"Creon order {request.code}: the reply has no order number")
        now = self._clock()
        self._follow(
            number,
            _Sent(request.code, request.side, request.quantity, request.price, request.order_type, now),
        )
        return OrderAck(number, now)

    def _follow(self, number: str, sent: _Sent) -> None:
        """An order sent by this process: every execution of it will come as an event."""
        self._sent[number] = sent
        self._exact[number] = (0, 0)
        self._queried.working.add(number)

    def cancel(self, broker_order_no: str, code: StockCode, quantity: int | None = None) -> OrderAck:
        target = self._inputs(
            protocol.CANCEL_ORDER,
            {
                protocol.CANCEL_IN_ORIGINAL: int(broker_order_no),
                protocol.CANCEL_IN_ACCOUNT: self.account,
                protocol.CANCEL_IN_GOODS: self.goods,
                protocol.CANCEL_IN_CODE: protocol.creon_code(code),
                protocol.CANCEL_IN_QUANTITY: quantity or 0,  # 0: all that remains
            },
        )
        self.gate.request(target, f"cancel {broker_order_no}", kind=TRADE, order=True)
        return OrderAck(
            _number(target.GetHeaderValue(protocol.CANCEL_OUT_NUMBER)) or broker_order_no, self._clock()
        )

    def modify(
        self, broker_order_no: str, code: StockCode, price: int, quantity: int | None = None
    ) -> OrderAck:
        if quantity is None:
            quantity = self._remaining(broker_order_no, code)
        target = self._inputs(
            protocol.MODIFY_ORDER,
            {
                protocol.MODIFY_IN_ORIGINAL: int(broker_order_no),
                protocol.MODIFY_IN_ACCOUNT: self.account,
                protocol.MODIFY_IN_GOODS: self.goods,
                protocol.MODIFY_IN_CODE: protocol.creon_code(code),
                protocol.MODIFY_IN_QUANTITY: quantity,
                protocol.MODIFY_IN_PRICE: price,
            },
        )
        self.gate.request(target, f"modify {broker_order_no}", kind=TRADE, order=True)
        number = _number(target.GetHeaderValue(protocol.MODIFY_OUT_NUMBER))
        if number is None:
            raise SubmitOutcomeUnknown(f"Creon modify {broker_order_no}: the reply has no order number")
        old = self._sent.get(broker_order_no)
        now = self._clock()
        if old is not None:
            self._follow(number, _Sent(code, old.side, quantity, price, old.order_type, now))
        self._queried.working.discard(broker_order_no)
        return OrderAck(number, now)

    def _remaining(self, number: str, code: StockCode) -> int:
        for order in self._unfilled(code):
            if order.broker_order_no == number:
                return order.remaining
        raise OrderRejected(f"order {number}: Creon has no working order with that number")

    # ----- order queries
    def open_orders(self) -> list[BrokerOrder]:
        return self._unfilled(None)

    def _unfilled(self, code: StockCode | None) -> list[BrokerOrder]:
        target = self._inputs(
            protocol.UNFILLED,
            {
                protocol.UNFILLED_IN_ACCOUNT: self.account,
                protocol.UNFILLED_IN_GOODS: self.goods,
                protocol.UNFILLED_IN_CODE: protocol.creon_code(code) if code else "",
                protocol.UNFILLED_IN_KIND: "0",
                protocol.UNFILLED_IN_SORT: "1",
                protocol.UNFILLED_IN_SESSION: "0",
                protocol.UNFILLED_IN_COUNT: protocol.PAGE_MAX,
            },
        )
        found: list[BrokerOrder] = []
        for page in self.gate.pages(target, "unfilled orders (CpTd5339)", kind=TRADE):
            for row in range(int(page.GetHeaderValue(protocol.UNFILLED_OUT_COUNT))):
                number = str(page.GetDataValue(protocol.UNFILLED_NUMBER, row))
                price = int(page.GetDataValue(protocol.UNFILLED_PRICE, row))
                found.append(
                    BrokerOrder(
                        number,
                        protocol.stock_code(page.GetDataValue(protocol.UNFILLED_CODE, row)),
                        _side(page.GetDataValue(protocol.UNFILLED_SIDE, row)),
                        int(page.GetDataValue(protocol.UNFILLED_QUANTITY, row)),
                        price or None,
                        self._order_type(number, price),
                        int(page.GetDataValue(protocol.UNFILLED_FILLED, row)),
                        BrokerOrderStatus.WORKING,
                        self._sent_at(number),
                        original_order_no=_number(page.GetDataValue(protocol.UNFILLED_ORIGINAL, row)),
                    )
                )
        return found

    def order_status(self, broker_order_no: str) -> BrokerOrder | None:
        return next((o for o in self._day_orders() if o.broker_order_no == broker_order_no), None)

    def find_orders(self, code: StockCode, side: Side) -> list[BrokerOrder]:
        return [o for o in self._day_orders(code) if o.code == code and o.side is side]

    def fills_today(self) -> list[BrokerFill]:
        now = self._clock()
        return [fill for order in self._day_orders() if (fill := total_fill(order, now)) is not None]

    def orders_of_day(self, day: date) -> list[BrokerOrder] | None:
        """None: Creon's order query (``CpTd5341``) lists today's orders only, so an earlier day's cannot be
        asked about (recovery then expires them, and says so)."""
        return None

    def day_orders(self) -> list[BrokerOrder]:
        """Every order of the day at Creon (the end-of-day book check compares with them)."""
        return self._day_orders()

    def _day_orders(self, code: StockCode | None = None) -> list[BrokerOrder]:
        target = self._inputs(
            protocol.DAY_ORDERS,
            {
                protocol.DAY_IN_ACCOUNT: self.account,
                protocol.DAY_IN_GOODS: self.goods,
                protocol.DAY_IN_CODE: protocol.creon_code(code) if code else "",
                protocol.DAY_IN_COUNT: protocol.PAGE_MAX,
            },
        )
        orders: list[BrokerOrder] = []
        for page in self.gate.pages(target, "today's orders (CpTd5341)", kind=TRADE):
            orders.extend(
                self._day_order(page, row) for row in range(int(page.GetHeaderValue(protocol.DAY_OUT_COUNT)))
            )
        self._queried.working.update(
            o.broker_order_no for o in orders if o.status is BrokerOrderStatus.WORKING
        )
        return orders

    def _day_order(self, page: Any, row: int) -> BrokerOrder:
        def value(index: int) -> Any:
            return page.GetDataValue(index, row)

        number = str(value(protocol.DAY_NUMBER))
        quantity, filled = int(value(protocol.DAY_QUANTITY)), int(value(protocol.DAY_FILLED))
        price = int(value(protocol.DAY_PRICE))
        exact = self._exact.get(number)
        amount = exact[1] if exact and exact[0] == filled else filled * int(value(protocol.DAY_FILL_PRICE))
        if filled >= quantity:
            status = BrokerOrderStatus.FILLED
        elif str(value(protocol.DAY_REJECTION)).strip() and filled == 0:
            status = BrokerOrderStatus.REJECTED
        elif int(value(protocol.DAY_REMAINING)) > 0:
            status = BrokerOrderStatus.WORKING
        else:
            status = BrokerOrderStatus.CANCELLED  # or replaced by a modify (its successor names it)
        return BrokerOrder(
            number,
            protocol.stock_code(value(protocol.DAY_CODE)),
            _side(value(protocol.DAY_SIDE)),
            quantity,
            price or None,
            self._order_type(number, price),
            filled,
            status,
            self._sent_at(number),
            original_order_no=_number(value(protocol.DAY_ORIGINAL)),
            filled_amount=amount,
        )

    def _order_type(self, number: str, price: int) -> OrderType:
        sent = self._sent.get(number)
        if sent is not None:
            return sent.order_type
        return OrderType.LIMIT if price > 0 else OrderType.MARKET

    def _sent_at(self, number: str) -> datetime:
        sent = self._sent.get(number)
        return sent.at if sent is not None else self._clock()

    # ----- pushed events
    def request_sync(self) -> None:
        """Re-read the day's orders on the next poll (a replay feed asks after the close)."""
        self._sync_requested = True

    def poll_events(self) -> list[BrokerEvent]:
        """Pump COM messages, turn the fill and order events into the port's events, and re-read the day's
        orders when due (module docstring)."""
        self.gate.require_connection("events")
        self.runtime.pump()
        now = self._clock()
        self._take_trades(now)
        events: list[BrokerEvent] = []
        while self._conclusions:
            events.extend(self._on_conclusion(*self._conclusions.popleft()))
        due = bool(self._queried.working) and (
            self._last_sync is None or now - self._last_sync >= self._sync_every
        )
        if self._sync_requested or due:
            self._sync_requested = True  # until the query succeeds
            orders = self._day_orders()
            self._last_sync, self._sync_requested = now, False
            for order in orders:
                events.extend(self._changes(order, now))
        return events

    def _on_conclusion(self, headers: Headers, now: datetime) -> list[BrokerEvent]:
        status = protocol.text_code(headers.get(protocol.EVENT_STATUS, ""))
        number = _number(headers.get(protocol.EVENT_NUMBER))
        if number is None:
            return []
        if status == protocol.STATUS_FILL:
            return self._on_fill(number, headers, now)
        if status == protocol.STATUS_CONFIRM:
            if protocol.text_code(headers.get(protocol.EVENT_KIND, "")) != protocol.KIND_CANCEL:
                return []  # a modify's confirmation: the replacement was numbered in the reply
            cancelled = _number(headers.get(protocol.EVENT_ORIGINAL)) or number
            shares = self._queried.reported.get(cancelled, (0, BrokerOrderStatus.WORKING))[0]
            self._queried.note(cancelled, shares, BrokerOrderStatus.CANCELLED)
            quantity = int(headers.get(protocol.EVENT_QUANTITY) or 0)
            return [
                OrderUpdate(
                    cancelled,
                    BrokerOrderStatus.CANCELLED,
                    now,
                    cancelled_quantity=quantity,
                    reason="Creon cancel confirmed",
                )
            ]
        if status == protocol.STATUS_REJECT:
            self._queried.working.discard(number)
            return [OrderUpdate(number, BrokerOrderStatus.REJECTED, now, reason="Creon refused the order")]
        return []

    def _on_fill(self, number: str, headers: Headers, now: datetime) -> list[BrokerEvent]:
        if number not in self._exact:  # an order from before a restart, or made outside maemae
            self._sync_requested = True
            return []
        quantity = int(headers.get(protocol.EVENT_QUANTITY) or 0)
        price = int(headers.get(protocol.EVENT_PRICE) or 0)
        shares, won = self._exact[number]
        shares, won = shares + quantity, won + quantity * price
        self._exact[number] = (shares, won)
        sent = self._sent[number]
        done = shares >= sent.quantity
        self._queried.note(number, shares, BrokerOrderStatus.FILLED if done else BrokerOrderStatus.WORKING)
        return [
            BrokerFill(
                f"{number}:{shares}",
                number,
                protocol.stock_code(headers.get(protocol.EVENT_CODE, "")),
                _side(headers.get(protocol.EVENT_SIDE, "")),
                quantity,
                price,
                now,
                cumulative_quantity=shares,
                cumulative_amount=won,
            )
        ]

    def _changes(self, order: BrokerOrder, now: datetime) -> list[BrokerEvent]:
        exact = self._exact.get(order.broker_order_no)
        if exact is not None and order.filled_quantity > exact[0]:
            del self._exact[order.broker_order_no]  # events of it were lost: its totals come from queries now
        return self._queried.changes(order, now)

    # ----- account
    def cash(self) -> CashBalance:
        target = self._inputs(
            protocol.ORDERABLE,
            {protocol.ORDERABLE_IN_ACCOUNT: self.account, protocol.ORDERABLE_IN_GOODS: self.goods},
        )
        self.gate.request(target, "orderable cash (CpTdNew5331A)", kind=TRADE)
        return CashBalance(
            deposit=int(target.GetHeaderValue(protocol.ORDERABLE_OUT_DEPOSIT)),
            orderable=int(target.GetHeaderValue(protocol.ORDERABLE_OUT_CASH)),
        )

    def holdings(self) -> list[Holding]:
        target = self._inputs(
            protocol.POSITIONS,
            {
                protocol.POSITIONS_IN_ACCOUNT: self.account,
                protocol.POSITIONS_IN_GOODS: self.goods,
                protocol.POSITIONS_IN_COUNT: protocol.POSITIONS_PAGE,
            },
        )
        held: list[Holding] = []
        for page in self.gate.pages(target, "positions (CpTd6033)", kind=TRADE):
            for row in range(int(page.GetHeaderValue(protocol.POSITIONS_OUT_COUNT))):
                quantity = int(page.GetDataValue(protocol.POSITION_QUANTITY, row))
                if quantity > 0:
                    held.append(
                        Holding(
                            protocol.stock_code(page.GetDataValue(protocol.POSITION_CODE, row)),
                            quantity,
                            int(page.GetDataValue(protocol.POSITION_SELLABLE, row)),
                            _decimal(page.GetDataValue(protocol.POSITION_AVERAGE, row)),
                        )
                    )
        return held

    # ----- market data
    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]:
        """Subscribed codes from their ``StockCur`` events, the rest by ``MarketEye`` (200 codes each)."""
        self.runtime.pump()
        now = self._clock()
        self._take_trades(now)
        quotes = {code: self._quotes[code] for code in codes if code in self._quotes}
        missing = [code for code in codes if code not in quotes]
        for start in range(0, len(missing), protocol.EYE_MAX_CODES):
            chunk = missing[start : start + protocol.EYE_MAX_CODES]
            target = self._inputs(
                protocol.MARKET_EYE,
                {
                    protocol.EYE_IN_FIELDS: list(protocol.EYE_FIELDS),
                    protocol.EYE_IN_CODES: [protocol.creon_code(c) for c in chunk],
                },
            )
            self.gate.request(target, "prices (MarketEye)", kind=QUOTE)
            for row in range(int(target.GetHeaderValue(protocol.EYE_OUT_COUNT))):
                value = _row_reader(target, protocol.EYE_FIELDS, row)
                price = int(value(protocol.EYE_PRICE))
                if price <= 0:
                    continue
                code = protocol.stock_code(value(protocol.EYE_CODE))
                quotes[code] = Quote(
                    code,
                    price,
                    _time_of(now, f"{int(value(protocol.EYE_TIME)):04d}00"),
                    int(value(protocol.EYE_OPEN)),
                    int(value(protocol.EYE_HIGH)),
                    int(value(protocol.EYE_LOW)),
                    int(value(protocol.EYE_VOLUME)),
                    int(value(protocol.EYE_PREVIOUS_CLOSE)),
                )
        return quotes

    def _take_trades(self, now: datetime) -> None:
        while self._trades:
            headers, _received = self._trades.popleft()
            if int(headers.get(protocol.CUR_SESSION) or 0) != protocol.CUR_REGULAR:
                continue  # an expected auction price, not a trade
            code = protocol.stock_code(headers.get(protocol.CUR_CODE, ""))
            price = int(headers.get(protocol.CUR_PRICE) or 0)
            self._quotes[code] = Quote(
                code,
                price,
                _time_of(now, f"{int(headers.get(protocol.CUR_TIME) or 0):06d}"),
                int(headers.get(protocol.CUR_OPEN) or 0),
                int(headers.get(protocol.CUR_HIGH) or 0),
                int(headers.get(protocol.CUR_LOW) or 0),
                int(headers.get(protocol.CUR_VOLUME) or 0),
                price - int(headers.get(protocol.CUR_CHANGE) or 0),
            )

    def daily_bars(self, code: StockCode, start: date, end: date) -> pd.DataFrame:
        """Daily bars from ``start`` to ``end``, raw prices (as traded)."""
        return self._chart(code, protocol.CHART_DAILY, start, end)

    def minute_bars(self, code: StockCode, day: date) -> pd.DataFrame:
        """One day's one-minute bars (how far back Creon keeps them: docs/brokers/creon.md)."""
        return self._chart(code, protocol.CHART_MINUTE, day, day)

    def _chart(self, code: StockCode, kind: str, start: date, end: date) -> pd.DataFrame:
        target = self._inputs(
            protocol.STOCK_CHART,
            {
                protocol.CHART_IN_CODE: protocol.creon_code(code),
                protocol.CHART_IN_BY: ord(protocol.CHART_BY_PERIOD),
                protocol.CHART_IN_END: int(f"{end:%Y%m%d}"),
                protocol.CHART_IN_START: int(f"{start:%Y%m%d}"),
                protocol.CHART_IN_FIELDS: list(protocol.CHART_FIELDS),
                protocol.CHART_IN_KIND: ord(kind),
                protocol.CHART_IN_PERIOD: 1,
                protocol.CHART_IN_ADJUSTED: ord("0"),  # raw prices: the tick and limit rules apply to them
            },
        )
        records: dict[datetime, dict[str, Any]] = {}
        for page in self.gate.pages(target, f"chart {code} (StockChart)", kind=QUOTE):
            for row in range(int(page.GetHeaderValue(protocol.CHART_OUT_COUNT))):
                cell = _row_reader(page, protocol.CHART_FIELDS, row)

                def value(field: int, cell: Callable[[int], Any] = cell) -> int:
                    return int(cell(field))

                day = datetime.strptime(str(value(protocol.CHART_DATE)), "%Y%m%d")
                clock = f"{value(protocol.CHART_TIME):04d}" if kind == protocol.CHART_MINUTE else "0000"
                ts = datetime.strptime(f"{day:%Y%m%d}{clock}", "%Y%m%d%H%M").replace(tzinfo=KST)
                records[ts] = {
                    "ts": ts,
                    "open": value(protocol.CHART_OPEN),
                    "high": value(protocol.CHART_HIGH),
                    "low": value(protocol.CHART_LOW),
                    "close": value(protocol.CHART_CLOSE),
                    "volume": value(protocol.CHART_VOLUME),
                    "value": value(protocol.CHART_VALUE),
                }
        frame = pd.DataFrame.from_records(list(records.values()), columns=list(BAR_COLUMNS))
        return frame.sort_values("ts", ignore_index=True)


def _row_reader(target: Any, fields: Sequence[int], row: int) -> Callable[[int], Any]:
    """Values of one row of a reply whose data come in the order of the requested ``fields``."""
    position = {field: i for i, field in enumerate(fields)}

    def value(field: int) -> Any:
        return target.GetDataValue(position[field], row)

    return value


def _number(value: Any) -> str | None:
    text = str(value or "").strip()
    return text if text and text != "0" else None


def _side(value: Any) -> Side:
    side = protocol.CODE_SIDES.get(protocol.text_code(value))
    if side is None:
        raise FatalBrokerError(f"Creon buy/sell code {value!r}: expected 1 (sell) or 2 (buy)")
    return side


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise FatalBrokerError(f"Creon number {value!r}: not a number") from None


def _time_of(now: datetime, hhmmss: str) -> datetime:
    try:
        parsed = datetime.strptime(hhmmss, "%H%M%S").time()
    except ValueError:
        return now
    return datetime.combine(now.date(), parsed, tzinfo=KST)
