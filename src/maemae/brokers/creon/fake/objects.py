"""The fake Creon Plus COM objects: the same ProgIDs, methods, input, header and data indices as Creon's
(``creon.protocol``), answered from a :class:`~maemae.brokers.creon.fake.world.FakeCreon`.

Each object keeps its inputs between requests, answers ``BlockRequest`` with Creon's return codes, sets
``GetDibStatus`` / ``GetDibMsg1``, and pages long answers with ``Continue`` (call ``BlockRequest`` again with
the same inputs for the next page). ``FakeRuntime`` is the COM seam's fake: ``dispatch`` makes objects,
``with_events`` attaches a handler as ``win32com.client.WithEvents`` does, and ``pump`` delivers the queued
events to the subscribed objects' handlers, as ``pythoncom.PumpWaitingMessages`` does on the subscribing
thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from maemae.brokers.creon import protocol
from maemae.brokers.creon.fake.world import FakeCreon, Headers, conclusion, creon_number, sim_number
from maemae.data.bars import Timeframe
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.errors import DataError, OrderRejected
from maemae.ports.broker import BrokerOrderStatus, OrderRequest

Row = dict[int, Any]
CHART_PAGE = 200  # rows per StockChart reply in the fake (Creon's own page size is not documented)


class FakeComObject:
    """The request/reply part every Creon object shares."""

    progid = ""
    limit_kind = protocol.LT_TRADE_REQUEST
    count_header = -1  # the header that says how many rows this page has
    page_size = protocol.PAGE_MAX

    def __init__(self, world: FakeCreon) -> None:
        self.world = world
        self.inputs: dict[int, Any] = {}
        self.headers: Headers = {}
        self.rows: list[Row] = []
        self._pages: list[list[Row]] = []
        self._paged_inputs: dict[int, Any] | None = None
        self._status, self._message = protocol.DIB_OK, ""
        self.handlers: list[Any] = []
        self.subscribed = False

    # ----- COM surface
    def SetInputValue(self, index: int, value: Any) -> None:  # noqa: N802 (COM's names)
        self.inputs[index] = value

    def GetHeaderValue(self, index: int) -> Any:  # noqa: N802
        return self.headers.get(index, 0)

    def GetDataValue(self, index: int, row: int) -> Any:  # noqa: N802
        return self.rows[row].get(index, 0)

    def GetDibStatus(self) -> int:  # noqa: N802
        return self._status

    def GetDibMsg1(self) -> str:  # noqa: N802
        return self._message

    @property
    def Continue(self) -> int:  # noqa: N802
        return 1 if self._pages else 0

    def BlockRequest(self) -> int:  # noqa: N802
        world = self.world
        world.requests[self.progid] += 1
        world.tick()
        if not world.connected:
            self._status, self._message = protocol.DIB_ERROR, "통신 연결이 끊어졌습니다"
            return protocol.RQ_COMMUNICATION
        if not world.take(self.limit_kind):
            self._status, self._message = protocol.DIB_ERROR, "주문 요청 제한을 초과했습니다"
            return protocol.RQ_LIMIT
        self._status, self._message = protocol.DIB_OK, "정상 처리되었습니다"
        if self._pages and self.inputs == self._paged_inputs:
            self._show(self._pages.pop(0))
            return protocol.RQ_OK
        try:
            headers, rows = self.serve()
        except _LimitHit:
            self._status, self._message = protocol.DIB_ERROR, "주문 요청 제한을 초과했습니다"
            return protocol.RQ_LIMIT
        except OrderRejected as refusal:
            self._status, self._message = protocol.DIB_ERROR, str(refusal)
            self.headers, self.rows, self._pages = {}, [], []
            return protocol.RQ_OK
        if self.progid == protocol.NEW_ORDER and world.faults.lost_replies > 0:
            world.faults.lost_replies -= 1  # carried out, but the reply never came back
            self._status, self._message = protocol.DIB_ERROR, "통신 오류"
            return protocol.RQ_COMMUNICATION
        self.headers = headers
        pages = [rows[i : i + self.page_size] for i in range(0, len(rows), self.page_size)] or [[]]
        self._paged_inputs = dict(self.inputs)
        self._show(pages[0])
        self._pages = pages[1:]
        return protocol.RQ_OK

    def Subscribe(self) -> None:  # noqa: N802
        if not self.subscribed:
            if self.world.remain_count(protocol.LT_SUBSCRIBE) <= 0:
                raise RuntimeError("Creon: more than 400 real-time subscriptions")
            self.world.subscriptions += 1
            self.subscribed = True

    def Unsubscribe(self) -> None:  # noqa: N802
        if self.subscribed:
            self.world.subscriptions -= 1
            self.subscribed = False

    # ----- for subclasses
    def serve(self) -> tuple[Headers, list[Row]]:
        raise OrderRejected(f"{self.progid}: BlockRequest is not a request of this object")

    def _show(self, page: list[Row]) -> None:
        self.rows = page
        if self.count_header >= 0:
            self.headers[self.count_header] = len(page)

    def _account_checked(self, account_index: int, goods_index: int) -> None:
        if str(self.inputs.get(account_index, "")) != self.world.account:
            raise OrderRejected(f"계좌번호 {self.inputs.get(account_index)!r} 오류")
        if str(self.inputs.get(goods_index, "")) != self.world.goods:
            raise OrderRejected(f"상품관리구분코드 {self.inputs.get(goods_index)!r} 오류")

    def _code(self, index: int) -> StockCode:
        try:
            return protocol.stock_code(self.inputs.get(index, ""))
        except Exception:
            raise OrderRejected(f"종목코드 {self.inputs.get(index)!r} 오류") from None

    def _positive(self, index: int, what: str) -> int:
        value = self.inputs.get(index, 0)
        if not isinstance(value, int) or value <= 0:
            raise OrderRejected(f"{what} {value!r}: 0보다 커야 합니다")
        return value


# ----- utilities
class FakeCybos(FakeComObject):
    progid = protocol.CYBOS

    @property
    def IsConnect(self) -> int:  # noqa: N802
        return 1 if self.world.connected else 0

    def GetLimitRemainCount(self, kind: int) -> int:  # noqa: N802
        return self.world.remain_count(kind)

    @property
    def LimitRequestRemainTime(self) -> int:  # noqa: N802
        return self.world.remain_time_ms()


class FakeTradeUtil(FakeComObject):
    progid = protocol.TRADE_UTIL

    def TradeInit(self, _: int = 0) -> int:  # noqa: N802
        return self.world.trade_init_result

    @property
    def AccountNumber(self) -> tuple[str, ...]:  # noqa: N802
        return (self.world.account,)

    def GoodsList(self, account: str, _kind: int) -> tuple[str, ...]:  # noqa: N802
        return (self.world.goods,) if account == self.world.account else ()


# ----- orders
class FakeNewOrder(FakeComObject):
    progid = protocol.NEW_ORDER

    def serve(self) -> tuple[Headers, list[Row]]:
        world = self.world
        if world.faults.refuse_orders > 0:
            world.faults.refuse_orders -= 1
            raise OrderRejected("주문이 거부되었습니다 (test refusal)")
        if world.faults.limit_hits > 0:  # the server-side counter ran out before the client's did
            world.faults.limit_hits -= 1
            raise _LimitHit
        self._account_checked(protocol.ORDER_IN_ACCOUNT, protocol.ORDER_IN_GOODS)
        side = protocol.CODE_SIDES.get(str(self.inputs.get(protocol.ORDER_IN_SIDE, "")))
        order_type = protocol.PRICE_TYPE_ORDERS.get(str(self.inputs.get(protocol.ORDER_IN_PRICE_TYPE, "")))
        condition = protocol.CONDITION_CODES.get(str(self.inputs.get(protocol.ORDER_IN_CONDITION, "0")))
        if side is None or order_type is None or condition is None:
            raise OrderRejected("매매구분, 주문호가구분 또는 주문조건 오류")
        quantity = self._positive(protocol.ORDER_IN_QUANTITY, "주문수량")
        price = int(self.inputs.get(protocol.ORDER_IN_PRICE, 0) or 0)
        if order_type in protocol.PRICED_TYPES and price <= 0:
            raise OrderRejected("주문단가를 입력하세요")
        request = OrderRequest(
            "creon",
            self._code(protocol.ORDER_IN_CODE),
            side,
            quantity,
            order_type,
            price if order_type in protocol.PRICED_TYPES else None,
            condition,
        )
        ack = world.host.handle("submit", (request,), world.now)
        number = creon_number(ack.broker_order_no)
        view = world.exchange.order_status(ack.broker_order_no)
        if view is not None:
            world.event(_accepted(view, number, world))
        world.drain()
        return {protocol.ORDER_OUT_NUMBER: number}, []


class FakeModifyOrder(FakeComObject):
    progid = protocol.MODIFY_ORDER

    def serve(self) -> tuple[Headers, list[Row]]:
        world = self.world
        self._account_checked(protocol.MODIFY_IN_ACCOUNT, protocol.MODIFY_IN_GOODS)
        original = self._positive(protocol.MODIFY_IN_ORIGINAL, "원주문번호")
        view = _working(world, original)
        price = self._positive(protocol.MODIFY_IN_PRICE, "주문단가")
        quantity = int(self.inputs.get(protocol.MODIFY_IN_QUANTITY, 0) or 0) or None
        ack = world.host.handle("modify", (sim_number(original), view.code, price, quantity), world.now)
        number = creon_number(ack.broker_order_no)
        extra = world.extra(number)
        extra.original, extra.kind = original, protocol.KIND_MODIFY
        replacement = world.exchange.order_status(ack.broker_order_no)
        if replacement is not None:
            headers = _accepted(replacement, number, world)
            headers.update({protocol.EVENT_STATUS: protocol.STATUS_CONFIRM, protocol.EVENT_KIND: "2"})
            headers[protocol.EVENT_ORIGINAL] = original
            world.event(headers)
        world.drain()
        return {protocol.MODIFY_OUT_NUMBER: number}, []


class FakeCancelOrder(FakeComObject):
    progid = protocol.CANCEL_ORDER

    def serve(self) -> tuple[Headers, list[Row]]:
        world = self.world
        self._account_checked(protocol.CANCEL_IN_ACCOUNT, protocol.CANCEL_IN_GOODS)
        original = self._positive(protocol.CANCEL_IN_ORIGINAL, "원주문번호")
        view = _working(world, original)
        quantity = int(self.inputs.get(protocol.CANCEL_IN_QUANTITY, 0) or 0) or None
        world.host.handle("cancel", (sim_number(original), view.code, quantity), world.now)
        world.drain()
        return {protocol.CANCEL_OUT_NUMBER: original}, []


# ----- account queries
class FakeUnfilled(FakeComObject):
    progid = protocol.UNFILLED
    count_header = protocol.UNFILLED_OUT_COUNT

    def serve(self) -> tuple[Headers, list[Row]]:
        self._account_checked(protocol.UNFILLED_IN_ACCOUNT, protocol.UNFILLED_IN_GOODS)
        code = str(self.inputs.get(protocol.UNFILLED_IN_CODE, "") or "")
        self.page_size = min(int(self.inputs.get(protocol.UNFILLED_IN_COUNT, 20) or 20), protocol.PAGE_MAX)
        rows = []
        for order, extra in reversed(self.world.order_rows()):  # newest first
            if order.status is not BrokerOrderStatus.WORKING:
                continue
            if code and protocol.creon_code(order.code) != code:
                continue
            rows.append(
                {
                    protocol.UNFILLED_NUMBER: creon_number(order.broker_order_no),
                    protocol.UNFILLED_ORIGINAL: extra.original,
                    protocol.UNFILLED_CODE: protocol.creon_code(order.code),
                    protocol.UNFILLED_NAME: self.world.names.get(order.code, str(order.code)),
                    protocol.UNFILLED_QUANTITY: order.quantity,
                    protocol.UNFILLED_PRICE: order.price or 0,
                    protocol.UNFILLED_FILLED: order.filled_quantity,
                    protocol.UNFILLED_REMAINING: order.remaining,
                    protocol.UNFILLED_SIDE: protocol.SIDE_CODES[order.side],
                }
            )
        return {}, rows


class FakeDayOrders(FakeComObject):
    progid = protocol.DAY_ORDERS
    count_header = protocol.DAY_OUT_COUNT

    def serve(self) -> tuple[Headers, list[Row]]:
        self._account_checked(protocol.DAY_IN_ACCOUNT, protocol.DAY_IN_GOODS)
        code = str(self.inputs.get(protocol.DAY_IN_CODE, "") or "")
        self.page_size = min(int(self.inputs.get(protocol.DAY_IN_COUNT, 20) or 20), protocol.PAGE_MAX)
        rows = []
        for order, extra in self.world.order_rows():
            if code and protocol.creon_code(order.code) != code:
                continue
            filled = order.filled_quantity
            rows.append(
                {
                    protocol.DAY_NUMBER: creon_number(order.broker_order_no),
                    protocol.DAY_ORIGINAL: extra.original,
                    protocol.DAY_CODE: protocol.creon_code(order.code),
                    protocol.DAY_QUANTITY: order.quantity,
                    protocol.DAY_PRICE: order.price or 0,
                    protocol.DAY_FILLED: filled,
                    protocol.DAY_FILL_PRICE: extra.amount // filled if filled else 0,
                    protocol.DAY_REJECTION: extra.rejection,
                    protocol.DAY_REMAINING: order.remaining
                    if order.status is BrokerOrderStatus.WORKING
                    else 0,
                    protocol.DAY_SIDE: protocol.SIDE_CODES[order.side],
                    protocol.DAY_KIND: extra.kind,
                }
            )
        return {}, rows


class FakePositions(FakeComObject):
    progid = protocol.POSITIONS
    count_header = protocol.POSITIONS_OUT_COUNT

    def serve(self) -> tuple[Headers, list[Row]]:
        self._account_checked(protocol.POSITIONS_IN_ACCOUNT, protocol.POSITIONS_IN_GOODS)
        self.page_size = min(
            int(self.inputs.get(protocol.POSITIONS_IN_COUNT, 50) or 50), protocol.POSITIONS_PAGE
        )
        rows = [
            {
                protocol.POSITION_NAME: self.world.names.get(h.code, str(h.code)),
                protocol.POSITION_QUANTITY: h.quantity,
                protocol.POSITION_CODE: protocol.creon_code(h.code),
                protocol.POSITION_SELLABLE: h.sellable_quantity,
                protocol.POSITION_AVERAGE: float(h.average_price.quantize(Decimal("0.0001"))),
            }
            for h in self.world.exchange.holdings()
        ]
        return {}, rows


class FakeOrderable(FakeComObject):
    progid = protocol.ORDERABLE

    def serve(self) -> tuple[Headers, list[Row]]:
        self._account_checked(protocol.ORDERABLE_IN_ACCOUNT, protocol.ORDERABLE_IN_GOODS)
        cash = self.world.exchange.cash()
        return {protocol.ORDERABLE_OUT_CASH: cash.orderable, protocol.ORDERABLE_OUT_DEPOSIT: cash.deposit}, []


# ----- quotes
class FakeMarketEye(FakeComObject):
    progid = protocol.MARKET_EYE
    limit_kind = protocol.LT_NONTRADE_REQUEST
    count_header = protocol.EYE_OUT_COUNT
    page_size = protocol.EYE_MAX_CODES

    def serve(self) -> tuple[Headers, list[Row]]:
        world = self.world
        fields = list(self.inputs.get(protocol.EYE_IN_FIELDS, ()))
        codes = [protocol.stock_code(c) for c in self.inputs.get(protocol.EYE_IN_CODES, ())]
        if len(codes) > protocol.EYE_MAX_CODES:
            raise OrderRejected(f"MarketEye: {len(codes)} codes, at most {protocol.EYE_MAX_CODES}")
        quotes = world.exchange.current_prices(codes)
        rows = []
        for code in codes:
            quote = quotes.get(code)
            bars = world.minutes.get(code) or []
            values = {
                protocol.EYE_CODE: protocol.creon_code(code),
                protocol.EYE_TIME: int(f"{world.now:%H%M}"),
                protocol.EYE_PRICE: quote.price if quote else 0,
                protocol.EYE_OPEN: bars[0].open if bars else (quote.open if quote else 0),
                protocol.EYE_HIGH: max(b.high for b in bars) if bars else (quote.high if quote else 0),
                protocol.EYE_LOW: min(b.low for b in bars) if bars else (quote.low if quote else 0),
                protocol.EYE_VOLUME: sum(b.volume for b in bars),
                protocol.EYE_PREVIOUS_CLOSE: world.base_prices.get(code, 0),
            }
            rows.append({position: values.get(field, 0) for position, field in enumerate(fields)})
        return {}, rows


class FakeStockChart(FakeComObject):
    progid = protocol.STOCK_CHART
    limit_kind = protocol.LT_NONTRADE_REQUEST
    count_header = protocol.CHART_OUT_COUNT
    page_size = CHART_PAGE

    def __init__(self, world: FakeCreon, history: BarStore | None) -> None:
        super().__init__(world)
        self.history = history

    def serve(self) -> tuple[Headers, list[Row]]:
        if self.history is None:
            raise OrderRejected("StockChart: no chart data in this fake")
        code = self._code(protocol.CHART_IN_CODE)
        kind = protocol.text_code(self.inputs.get(protocol.CHART_IN_KIND, "D"))
        fields = list(self.inputs.get(protocol.CHART_IN_FIELDS, ()))
        today = self.world.now.date()
        start = _date(self.inputs.get(protocol.CHART_IN_START, 0), today)
        end = _date(self.inputs.get(protocol.CHART_IN_END, 0), today)
        timeframe = Timeframe.MINUTE if kind == protocol.CHART_MINUTE else Timeframe.DAY
        try:
            bars = self.history.read_arrays(code, timeframe, start, end)
        except DataError:
            return {}, []
        rows = []
        for i in range(len(bars) - 1, -1, -1):  # newest first
            at = datetime.fromtimestamp(int(bars.ts[i]) / 1e9, KST)
            values = {
                protocol.CHART_DATE: int(f"{at:%Y%m%d}"),
                protocol.CHART_TIME: int(f"{at:%H%M}") if timeframe is Timeframe.MINUTE else 0,
                protocol.CHART_OPEN: int(bars.open[i]),
                protocol.CHART_HIGH: int(bars.high[i]),
                protocol.CHART_LOW: int(bars.low[i]),
                protocol.CHART_CLOSE: int(bars.close[i]),
                protocol.CHART_VOLUME: int(bars.volume[i]),
                protocol.CHART_VALUE: int(bars.value[i]),
            }
            rows.append({position: values.get(field, 0) for position, field in enumerate(fields)})
        return {}, rows


# ----- real-time
class FakeConclusion(FakeComObject):
    progid = protocol.CONCLUSION


class FakeStockCur(FakeComObject):
    progid = protocol.STOCK_CUR


class _LimitHit(OrderRejected):
    """Raised inside a request to make it end with return code 4."""


class FakeRuntime:
    """The COM seam over a ``FakeCreon`` (see the module docstring)."""

    def __init__(self, world: FakeCreon, history: BarStore | None = None) -> None:
        self.world, self.history = world, history
        self.objects: list[FakeComObject] = []
        self.factories: dict[str, Callable[[], FakeComObject]] = {
            cls.progid: (lambda cls=cls: cls(world))  # type: ignore[misc]
            for cls in (
                FakeCybos,
                FakeTradeUtil,
                FakeNewOrder,
                FakeModifyOrder,
                FakeCancelOrder,
                FakeUnfilled,
                FakeDayOrders,
                FakePositions,
                FakeOrderable,
                FakeMarketEye,
                FakeConclusion,
                FakeStockCur,
            )
        }
        self.factories[protocol.STOCK_CHART] = lambda: FakeStockChart(world, history)

    def dispatch(self, progid: str) -> Any:
        factory = self.factories.get(progid)
        if factory is None:
            raise OSError(f"Invalid class string: {progid}")  # what win32com raises for an unknown ProgID
        made = factory()
        self.objects.append(made)
        return made

    def with_events(self, source: Any, handler: type) -> Any:
        instance = handler()
        source.handlers.append(instance)
        return instance

    def pump(self) -> None:
        events = self.world.events
        while events:
            progid, headers = events.popleft()
            for target in self.objects:
                if target.progid != progid or not target.subscribed:
                    continue
                if progid == protocol.STOCK_CUR and target.inputs.get(0) != headers.get(protocol.CUR_CODE):
                    continue
                target.headers = dict(headers)
                for handler in target.handlers:
                    handler.OnReceived()

    def is_admin(self) -> bool:
        return self.world.admin


def _working(world: FakeCreon, number: int) -> Any:
    view = world.exchange.order_status(sim_number(number))
    if view is None or view.status is not BrokerOrderStatus.WORKING:
        raise OrderRejected(f"정정/취소 가능한 주문이 없습니다 ({number})")
    return view


def _accepted(view: Any, number: int, world: FakeCreon) -> Headers:
    balance = world.balance(view.code)
    return conclusion(view, number, protocol.STATUS_ACCEPT, view.quantity, view.price or 0, balance)


def _date(value: Any, today: date) -> date:
    text = str(value or "0")
    return today if text == "0" else datetime.strptime(text, "%Y%m%d").date()
