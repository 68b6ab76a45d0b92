"""The local KIS server's account: KIS's requests and replies over maemae's simulated exchange.

The order book, matching, cash, T+2 settlement and holdings are the simulated exchange's (``brokers.sim``),
behind a :class:`~maemae.brokers.sim.fed.FedExchange` (the replay feed, idempotent). This module
adds what KIS does differently: ten-digit order numbers with a branch, order rows with running totals
(``tot_ccld_qty``, ``tot_ccld_amt``, ``rmn_qty``, ``orgn_odno`` for a modify), the balance and orderable-cash
replies, quotes and bars, and the fill notices (one per execution, plus one per accepted order, modify,
cancel or refusal) that the server pushes over the WebSocket. Every reply value is a string, as KIS's are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from maemae.brokers.kis import protocol
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.fed import FedExchange
from maemae.brokers.sim.matching import MarketBar
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, Side
from maemae.errors import OrderRejected
from maemae.ports.broker import BrokerFill, BrokerOrder, BrokerOrderStatus, OrderRequest, OrderUpdate

BRANCH = "06010"  # KRX_FWDG_ORD_ORGNO of every order (one branch is enough for a mock)
Row = dict[str, str]


class KisRefusal(Exception):
    """KIS answered the request with ``rt_cd`` 1: ``msg_cd`` and ``msg1`` say why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code, self.message = code, message


def kis_number(sim_number: str) -> str:
    return sim_number.lstrip("S").rjust(10, "0")


def sim_number(kis: str) -> str:
    return "S" + kis[-7:]


@dataclass(slots=True)
class _Extra:
    """What KIS shows about an order that the simulated exchange does not keep."""

    amount: int = 0
    cancelled: int = 0
    original: str = ""  # the KIS number a modify replaced
    notified: datetime | None = None  # the latest fill's time (infm_tmd)


class MockAccount(FedExchange):
    def __init__(
        self,
        make_exchange: Callable[[Callable[[], datetime]], SimExchange],
        *,
        account: str,
        hts_id: str,
        names: Mapping[StockCode, str] | None = None,
    ) -> None:
        super().__init__(make_exchange)
        self.account, self.hts_id = account, hts_id
        self._names = dict(names or {})
        self._extra: dict[str, _Extra] = defaultdict(_Extra)
        self.notices: list[list[str]] = []  # rows of protocol.NOTICE_COLUMNS values, waiting to be pushed
        self.trades: list[list[str]] = []  # rows of protocol.TRADE_COLUMNS values

    @property
    def now(self) -> datetime:
        """The market's time: the replay feed's, or (before any feed) the wall clock."""
        return self.host.now() if self.host.clock_set else datetime.now(KST)

    def bases(self) -> list[StockCode]:
        """The codes traded today (those with a base price)."""
        return list(self.base_prices)

    # ----- the market feed (the replay driver's control calls: ``FedExchange``)
    def publish_bar(self, code: StockCode, bar: MarketBar) -> None:
        self.trades.append(self._trade_row(code, bar))

    def external_trade(self, code: StockCode, side: Side, quantity: int, price: int, now: datetime) -> str:
        return kis_number(self.place_external_trade(code, side, quantity, price, now))

    # ----- orders
    def order_cash(self, body: Mapping[str, str], side: Side) -> Row:
        division = protocol.division_terms(body["ORD_DVSN"])
        if division is None:
            raise KisRefusal("APBK0013", f"주문구분 {body['ORD_DVSN']} 오류")
        order_type, condition = division
        quantity = _positive(body, "ORD_QTY")
        price = int(body["ORD_UNPR"] or "0")
        if order_type in protocol.PRICED_TYPES and price <= 0:
            raise KisRefusal("APBK0017", "주문단가를 입력하세요")
        request = OrderRequest(
            "kis",
            StockCode(body["PDNO"]),
            side,
            quantity,
            order_type,
            price if order_type in protocol.PRICED_TYPES else None,
            condition,
        )
        try:
            ack = self.host.handle("submit", (request,), self.now)
        except OrderRejected as error:
            self._notice_refusal(request, str(error))
            raise KisRefusal("APBK0919", str(error)) from None
        number = kis_number(ack.broker_order_no)
        self._notice_acceptance(number, request, protocol.NOTICE_NORMAL)
        self.drain()
        return {"KRX_FWDG_ORD_ORGNO": BRANCH, "ODNO": number, "ORD_TMD": f"{ack.at:%H%M%S}"}

    def revise(self, body: Mapping[str, str]) -> Row:
        original = body["ORGN_ODNO"]
        if body.get("KRX_FWDG_ORD_ORGNO") != BRANCH:
            raise KisRefusal("APBK0404", f"원주문 지점번호 {body.get('KRX_FWDG_ORD_ORGNO')!r} 오류")
        view = self.host.exchange.order_status(sim_number(original))
        if view is None or view.status is not BrokerOrderStatus.WORKING:
            raise KisRefusal("APBK0344", f"정정/취소 가능한 주문이 없습니다 ({original})")
        whole = body.get("QTY_ALL_ORD_YN") == "Y"
        quantity = None if whole else _positive(body, "ORD_QTY")
        action = body["RVSE_CNCL_DVSN_CD"]
        try:
            if action == protocol.CANCEL_CODE:
                ack = self.host.handle("cancel", (sim_number(original), view.code, quantity), self.now)
                number = original
                kind = protocol.NOTICE_CANCEL
            elif action == protocol.MODIFY_CODE:
                price = _positive(body, "ORD_UNPR")
                ack = self.host.handle("modify", (sim_number(original), view.code, price, quantity), self.now)
                number = kis_number(ack.broker_order_no)
                self._extra[number].original = original
                kind = protocol.NOTICE_MODIFY
            else:
                raise KisRefusal("APBK0013", f"정정취소구분 {action!r} 오류")
        except OrderRejected as error:
            raise KisRefusal("APBK0919", str(error)) from None
        request = OrderRequest("kis", view.code, view.side, view.remaining, view.order_type, view.price)
        self._notice_acceptance(number, request, kind)
        self.drain()
        return {"KRX_FWDG_ORD_ORGNO": BRANCH, "ODNO": number, "ORD_TMD": f"{ack.at:%H%M%S}"}

    # ----- queries
    def day_rows(self, params: Mapping[str, str]) -> list[Row]:
        """``inquire-daily-ccld`` rows, oldest first, filtered as KIS filters them: the orders placed from
        ``INQR_STRT_DT`` to ``INQR_END_DT`` (today's when not given)."""
        today = f"{self.now:%Y%m%d}"
        first, last = params.get("INQR_STRT_DT") or today, params.get("INQR_END_DT") or today
        side = params.get("SLL_BUY_DVSN_CD", "00")
        code = params.get("PDNO", "")
        number = params.get("ODNO", "")
        state = params.get("CCLD_DVSN", "00")
        rows = []
        for order in self.host.exchange.all_orders():
            row = self._row(order)
            if not first <= row["ord_dt"] <= last:
                continue
            if side != "00" and row["sll_buy_dvsn_cd"] != side:
                continue
            if (code and row["pdno"] != code) or (number and row["odno"] != number):
                continue
            if state == "01" and order.filled_quantity == 0:
                continue
            if state == "02" and order.status is not BrokerOrderStatus.WORKING:
                continue
            rows.append(row)
        return rows if params.get("INQR_DVSN", "00") == "01" else rows[::-1]

    def _row(self, order: BrokerOrder) -> Row:
        number = kis_number(order.broker_order_no)
        extra = self._extra[number]
        filled = order.filled_quantity
        working = order.status is BrokerOrderStatus.WORKING
        division = protocol.order_division(order.order_type, OrderCondition.NONE) or "00"
        return {
            "ord_dt": f"{order.submitted_at:%Y%m%d}",
            "ord_gno_brno": BRANCH,
            "odno": number,
            "orgn_odno": extra.original,
            "ord_dvsn_cd": division,
            "sll_buy_dvsn_cd": protocol.SIDE_CODES[order.side],
            "pdno": str(order.code),
            "prdt_name": self._names.get(order.code, str(order.code)),
            "ord_qty": str(order.quantity),
            "ord_unpr": str(order.price or 0),
            "ord_tmd": f"{order.submitted_at:%H%M%S}",
            "infm_tmd": f"{extra.notified or order.submitted_at:%H%M%S}",
            "tot_ccld_qty": str(filled),
            "tot_ccld_amt": str(extra.amount),
            "avg_prvs": str(extra.amount // filled if filled else 0),
            "cncl_yn": "Y" if extra.cancelled and order.status is BrokerOrderStatus.CANCELLED else "N",
            "rmn_qty": str(order.remaining if working else 0),
            "rjct_qty": "0",
            "cnc_cfrm_qty": str(extra.cancelled),
            "excg_id_dvsn_cd": "KRX",
        }

    def balance(self) -> tuple[list[Row], Row]:
        exchange = self.host.exchange
        quotes = exchange.current_prices([h.code for h in exchange.holdings()])
        rows = []
        evaluation = 0
        for holding in exchange.holdings():
            price = quotes[holding.code].price if holding.code in quotes else int(holding.average_price)
            evaluation += price * holding.quantity
            rows.append(
                {
                    "pdno": str(holding.code),
                    "prdt_name": self._names.get(holding.code, str(holding.code)),
                    "hldg_qty": str(holding.quantity),
                    "ord_psbl_qty": str(holding.sellable_quantity),
                    "pchs_avg_pric": f"{holding.average_price.quantize(Decimal('0.0001'))}",
                    "prpr": str(price),
                    "evlu_amt": str(price * holding.quantity),
                }
            )
        cash = exchange.cash()
        account = exchange.account
        # KIS: tot_evlu_amt (총평가금액) is the holdings' value (유가증권 평가금액 합계금액) plus the
        # D+2 deposit (prvs_rcdl_excc_amt), which has today's buys paid and sales received; the D+0
        # deposit (dnca_tot_amt) still holds the won of today's buys, which the holdings count already.
        after_settlement = account.settled_cash + sum(p.amount for p in account.pending)
        summary = {
            "dnca_tot_amt": str(cash.deposit),
            "nxdy_excc_amt": str(account.settled_cash),
            "prvs_rcdl_excc_amt": str(after_settlement),
            "scts_evlu_amt": str(evaluation),
            "evlu_amt_smtl_amt": str(evaluation),
            "tot_evlu_amt": str(after_settlement + evaluation),
            "nass_amt": str(after_settlement + evaluation),  # no credit in the mock: net assets are the total
        }
        return rows, summary

    def orderable(self) -> Row:
        cash = self.host.exchange.cash()
        return {
            "ord_psbl_cash": str(cash.orderable),
            "nrcvb_buy_amt": str(cash.orderable),
            "max_buy_amt": str(cash.orderable),
        }

    def price_row(self, code: StockCode) -> Row | None:
        quote = self.host.exchange.current_prices([code]).get(code)
        limits = self.host.exchange.limits(code)
        if quote is None:
            return None
        base = self.base_prices.get(code, quote.price)
        return {
            "stck_prpr": str(quote.price),
            "stck_oprc": str(self._day_open(code) or quote.open),
            "stck_hgpr": str(max(b.high for b in self.minutes[code]) if self.minutes[code] else quote.high),
            "stck_lwpr": str(min(b.low for b in self.minutes[code]) if self.minutes[code] else quote.low),
            "acml_vol": str(sum(b.volume for b in self.minutes[code])),
            "stck_sdpr": str(base),
            "stck_mxpr": str(limits.upper if limits else 0),
            "stck_llam": str(limits.lower if limits else 0),
        }

    def _day_open(self, code: StockCode) -> int | None:
        bars = self.minutes[code]
        return bars[0].open if bars else None

    # ----- notices
    def drain(self) -> None:
        for event in self.host.exchange.poll_events():
            number = kis_number(event.broker_order_no)
            if isinstance(event, BrokerFill):
                self._extra[number].amount += event.quantity * event.price
                self._extra[number].notified = event.at
                self.notices.append(
                    self._notice(
                        number,
                        event.code,
                        event.side,
                        protocol.NOTICE_NORMAL,
                        protocol.NOTICE_FILL,
                        quantity=event.quantity,
                        price=event.price,
                        at=event.at,
                    )
                )
            elif isinstance(event, OrderUpdate) and event.status in (
                BrokerOrderStatus.CANCELLED,
                BrokerOrderStatus.EXPIRED,
            ):
                self._extra[number].cancelled += event.cancelled_quantity
                view = self.host.exchange.order_status(event.broker_order_no)
                if view is not None:
                    self.notices.append(
                        self._notice(
                            number, view.code, view.side, protocol.NOTICE_CANCEL, protocol.NOTICE_ACCEPTANCE
                        )
                    )

    def _notice_acceptance(self, number: str, request: OrderRequest, kind: str) -> None:
        self.notices.append(
            self._notice(
                number,
                request.code,
                request.side,
                kind,
                protocol.NOTICE_ACCEPTANCE,
                order_quantity=request.quantity,
                order_price=request.price or 0,
            )
        )

    def _notice_refusal(self, request: OrderRequest, reason: str) -> None:
        row = self._notice("0000000000", request.code, request.side, "0", protocol.NOTICE_ACCEPTANCE)
        row[protocol.NOTICE_COLUMNS.index("RFUS_YN")] = "Y"
        self.notices.append(row)

    def _notice(
        self,
        number: str,
        code: StockCode,
        side: Side,
        kind: str,
        fill_flag: str,
        *,
        quantity: int = 0,
        price: int = 0,
        at: datetime | None = None,
        order_quantity: int = 0,
        order_price: int = 0,
    ) -> list[str]:
        values = {
            "CUST_ID": self.hts_id,
            "ACNT_NO": self.account,
            "ODER_NO": number,
            "ODER_QTY": str(order_quantity),
            "SELN_BYOV_CLS": protocol.SIDE_CODES[side],
            "RCTF_CLS": kind,
            "ODER_KIND": "00",
            "ODER_COND": "0",
            "STCK_SHRN_ISCD": str(code),
            "CNTG_QTY": str(quantity),
            "CNTG_UNPR": str(price),
            "STCK_CNTG_HOUR": f"{(at or self.now):%H%M%S}",
            "RFUS_YN": "N",
            "CNTG_YN": fill_flag,
            "ACPT_YN": "Y",
            "BRNC_NO": BRANCH,
            "ACNT_NO2": self.account,
            "ACNT_NAME": "maemae",
            "ORD_COND_PRC": "0",
            "ORD_EXG_GB": "1",
            "POPUP_YN": "N",
            "FILLER": "",
            "CRDT_CLS": "10",
            "CRDT_LOAN_DATE": "",
            "CNTG_ISNM40": self._names.get(code, str(code)),
            "ODER_PRC": str(order_price),
        }
        return [values[column] for column in protocol.NOTICE_COLUMNS]

    def _trade_row(self, code: StockCode, bar: MarketBar) -> list[str]:
        bars = self.minutes[code]
        base = self.base_prices.get(code, bar.open)
        values = dict.fromkeys(protocol.TRADE_COLUMNS, "0")
        values.update(
            {
                "MKSC_SHRN_ISCD": str(code),
                "STCK_CNTG_HOUR": f"{bar.start:%H%M%S}",
                "STCK_PRPR": str(bar.close),
                "PRDY_VRSS": str(bar.close - base),
                "STCK_OPRC": str(bars[0].open),
                "STCK_HGPR": str(max(b.high for b in bars)),
                "STCK_LWPR": str(min(b.low for b in bars)),
                "CNTG_VOL": str(bar.volume),
                "ACML_VOL": str(sum(b.volume for b in bars)),
                "BSOP_DATE": f"{bar.start:%Y%m%d}",
            }
        )
        return [values[column] for column in protocol.TRADE_COLUMNS]


def _positive(body: Mapping[str, str], key: str) -> int:
    text = body.get(key, "")
    if not text.isdigit() or int(text) <= 0:
        raise KisRefusal("APBK0012", f"{key} {text!r}: 0보다 큰 수를 입력하세요")
    return int(text)
