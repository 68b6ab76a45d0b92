"""``KisBroker``: the broker port over the KIS Open API (real and paper accounts).

How KIS's interface maps onto maemae's port (ports/broker.py), and the choices that follow from it:

* **Orders** go to ``order-cash`` (buy/sell) and ``order-rvsecncl`` (modify/cancel, which need the original
  order's branch ``KRX_FWDG_ORD_ORGNO`` and number ``ODNO``; both are kept, and looked up in the day's orders
  after a restart). KIS has no client order id: an order whose reply never came is settled by recovery,
  which looks for it among the day's orders by its terms (``find_orders``), never by sending it again.
* **Fills.** Neither KIS's fill notices nor its order query carry an id per execution, so KIS fills are
  reported as **running totals per order number** (``BrokerFill.cumulative_*``; the order manager records
  what a total adds). The fill notices from the WebSocket say *which* orders changed; the totals come from
  the day's orders (``inquire-daily-ccld``), queried once per poll that saw a notice, after every reconnect
  of the stream, and every ``order_poll_seconds`` while orders work and no stream is up (plus once a minute
  regardless, as a safety net for a notice lost in transit). Duplicated, late, reordered or lost notices
  therefore cannot miscount a fill.
* **Prices**: the stream's real-time trades for the subscribed codes (KIS allows 41 registrations per app
  key, one of them the fill notices), batched ``intstock-multprice`` calls (30 per call) for the rest.
* **Cash**: the deposit is ``dnca_tot_amt`` of ``inquire-balance``; what a buy may spend now is
  ``nrcvb_buy_amt`` (buyable without credit) of ``inquire-psbl-order``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Self

import pandas as pd

from maemae.brokers.kis import protocol
from maemae.brokers.kis.auth import KisCredentials, TokenCache
from maemae.brokers.kis.rest import Json, KisRest
from maemae.brokers.kis.stream import KisStream, StreamRecord
from maemae.brokers.totals import QueriedOrders, total_fill
from maemae.config.broker import KisBrokerConfig
from maemae.data.bars import BAR_COLUMNS
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.errors import ConfigError, FatalBrokerError, OrderRejected
from maemae.pacing import TokenBucket
from maemae.ports.broker import (
    BrokerEvent,
    BrokerFill,
    BrokerOrder,
    BrokerOrderStatus,
    CashBalance,
    Holding,
    OrderAck,
    OrderRequest,
    Quote,
)

SAFETY_NET = timedelta(minutes=1)  # the day's orders are re-read at least this often while orders work
LOOK_BACK = timedelta(days=89)  # inquire-daily-ccld answers for three months back; kept within them


class KisBroker:
    """The broker port over KIS (see the module docstring)."""

    name = "kis"

    def __init__(
        self,
        rest: KisRest,
        *,
        clock: Callable[[], datetime],
        stream: KisStream | None = None,
        order_poll_seconds: float = 10.0,
    ) -> None:
        self.rest = rest
        self.stream = stream
        self._clock = clock
        self._credentials = rest.credentials
        self._poll_every = timedelta(seconds=order_poll_seconds)
        self._branches: dict[str, str] = {}
        self._queried = QueriedOrders("KIS")
        self._quotes: dict[StockCode, Quote] = {}
        self._reconnects_seen = 0
        self._last_sync: datetime | None = None
        self._sync_requested = False

    @classmethod
    def from_config(
        cls,
        config: KisBrokerConfig,
        *,
        clock: Callable[[], datetime],
        trade_codes: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Self:
        """Build the adapter from the config and the secrets in the environment; starts the stream."""
        credentials = KisCredentials.from_environment(config, environ)
        base_url, ws_url = server_urls(config)
        rest = KisRest(
            base_url=base_url,
            credentials=credentials,
            paper=config.paper,
            token_cache=TokenCache(config.token_cache),
            bucket=TokenBucket(config.requests_per_second, config.requests_per_second, time.monotonic, sleep),
            sleep=sleep,
            timeout=config.timeout_seconds,
            rate_limit_retries=config.rate_limit_retries,
        )
        stream = None
        if config.websocket:
            stream = KisStream(
                url=ws_url,
                approval_key=rest.approval_key,
                notice_tr=protocol.NOTICE_TR.on(config.paper),
                hts_id=credentials.hts_id,
                trade_codes=trade_codes,
            )
            stream.start()
        return cls(rest, clock=clock, stream=stream, order_poll_seconds=config.order_poll_seconds)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.stop()
        self.rest.close()

    # ----- orders
    def submit(self, request: OrderRequest) -> OrderAck:
        division = protocol.order_division(request.order_type, request.condition)
        if division is None:
            raise OrderRejected(
                f"{request.code}: KIS has no {request.order_type.value} order with condition "
                f"{request.condition.value}"
            )
        body = {
            **self._account(),
            "PDNO": str(request.code),
            "ORD_DVSN": division,
            "ORD_QTY": str(request.quantity),
            "ORD_UNPR": str(request.price or 0),
            "EXCG_ID_DVSN_CD": "KRX",
        }
        if request.side is Side.SELL:
            body["SLL_TYPE"] = "01"
        tr = protocol.BUY if request.side is Side.BUY else protocol.SELL
        output = _output(self.rest.order(protocol.ORDER_CASH_PATH, tr, body))
        number = _required(output, "ODNO")
        self._branches[number] = _required(output, "KRX_FWDG_ORD_ORGNO")
        self._queried.working.add(number)
        return OrderAck(number, self._time_of(str(output.get("ORD_TMD", ""))))

    def cancel(self, broker_order_no: str, code: StockCode, quantity: int | None = None) -> OrderAck:
        return self._revise(broker_order_no, code, protocol.CANCEL_CODE, 0, quantity)

    def modify(
        self, broker_order_no: str, code: StockCode, price: int, quantity: int | None = None
    ) -> OrderAck:
        return self._revise(broker_order_no, code, protocol.MODIFY_CODE, price, quantity)

    def _revise(
        self, number: str, code: StockCode, action: str, price: int, quantity: int | None
    ) -> OrderAck:
        body = {
            **self._account(),
            "KRX_FWDG_ORD_ORGNO": self._branch(number),
            "ORGN_ODNO": number,
            "ORD_DVSN": "00",
            "RVSE_CNCL_DVSN_CD": action,
            "ORD_QTY": str(quantity or 0),
            "ORD_UNPR": str(price),
            "QTY_ALL_ORD_YN": "Y" if quantity is None else "N",
            "EXCG_ID_DVSN_CD": "KRX",
        }
        output = _output(self.rest.order(protocol.ORDER_RVSECNCL_PATH, protocol.MODIFY_CANCEL, body))
        new_number = _required(output, "ODNO")
        if action == protocol.MODIFY_CODE:
            self._branches[new_number] = str(output.get("KRX_FWDG_ORD_ORGNO") or self._branch(number))
            self._queried.working.add(new_number)
            self._queried.working.discard(number)
        return OrderAck(new_number, self._time_of(str(output.get("ORD_TMD", ""))))

    def _branch(self, number: str) -> str:
        if number not in self._branches:
            self._day_orders(ODNO=number)  # remembers the branch of every row it reads
        branch = self._branches.get(number)
        if branch is None:
            raise OrderRejected(f"order {number}: KIS has no such order today")
        return branch

    # ----- order queries
    def open_orders(self) -> list[BrokerOrder]:
        return [o for o in self._day_orders() if o.status is BrokerOrderStatus.WORKING]

    def order_status(self, broker_order_no: str) -> BrokerOrder | None:
        found = [o for o in self._day_orders(ODNO=broker_order_no) if o.broker_order_no == broker_order_no]
        return found[0] if found else None

    def find_orders(self, code: StockCode, side: Side) -> list[BrokerOrder]:
        return [
            o
            for o in self._day_orders(PDNO=str(code), SLL_BUY_DVSN_CD=protocol.SIDE_CODES[side])
            if o.code == code and o.side is side
        ]

    def fills_today(self) -> list[BrokerFill]:
        now = self._clock()
        return [fill for order in self._day_orders() if (fill := total_fill(order, now)) is not None]

    def cancellable_orders(self) -> dict[str, int]:
        """``inquire-psbl-rvsecncl``: the quantity of each order that can still be modified or cancelled
        (KIS documents this query for real accounts; on paper ``open_orders`` gives the same answer)."""
        params = {
            **self._account(),
            "CTX_AREA_FK100": "",
            "CTX_AREA_NK100": "",
            "INQR_DVSN_1": "0",
            "INQR_DVSN_2": "0",
        }
        found: dict[str, int] = {}
        for page in self.rest.pages(
            protocol.PSBL_RVSECNCL_PATH, protocol.CANCELLABLE, params, ("CTX_AREA_FK100", "CTX_AREA_NK100")
        ):
            for row in page.get("output") or []:
                if isinstance(row, dict) and _text(row, "odno"):
                    found[_text(row, "odno")] = _int(row, "psbl_qty")
        return found

    def orders_of_day(self, day: date) -> list[BrokerOrder] | None:
        """``inquire-daily-ccld`` for an earlier ``day``. KIS documents this query for the last three months
        (older orders take another query, not used: None, so recovery expires such orders and says so)."""
        if day < self._clock().date() - LOOK_BACK:
            return None
        return [_order_of(row) for row in self._day_rows(day)]

    def day_orders(self) -> list[BrokerOrder]:
        """Every order of the day at KIS, in order (the end-of-day book check compares with them)."""
        return self._day_orders()

    def _day_orders(self, **filters: str) -> list[BrokerOrder]:
        rows = self._day_rows(self._clock().date(), **filters)
        for row in rows:  # the branch that a modify or cancel of the number names (today's numbers only)
            if _text(row, "ord_gno_brno"):
                self._branches.setdefault(_text(row, "odno"), _text(row, "ord_gno_brno"))
        orders = [_order_of(row) for row in rows]
        # orders learnt of by a query (a lost reply settled, a restart) are watched like the ones sent now
        self._queried.working.update(
            o.broker_order_no for o in orders if o.status is BrokerOrderStatus.WORKING
        )
        return orders

    def _day_rows(self, day: date, **filters: str) -> list[Json]:
        """``inquire-daily-ccld``'s rows of ``day``, every page."""
        params = {
            **self._account(),
            "INQR_STRT_DT": f"{day:%Y%m%d}",
            "INQR_END_DT": f"{day:%Y%m%d}",
            "SLL_BUY_DVSN_CD": "00",
            "INQR_DVSN": "01",
            "PDNO": "",
            "CCLD_DVSN": "00",
            "ORD_GNO_BRNO": "",
            "ODNO": "",
            "INQR_DVSN_3": "00",
            "INQR_DVSN_1": "",
            "CTX_AREA_FK100": "",
            "CTX_AREA_NK100": "",
            "EXCG_ID_DVSN_CD": "KRX",
        }
        params.update(filters)
        rows: list[Json] = []
        for page in self.rest.pages(
            protocol.DAILY_CCLD_PATH, protocol.DAILY_CCLD, params, ("CTX_AREA_FK100", "CTX_AREA_NK100")
        ):
            rows.extend(r for r in page.get("output1") or [] if isinstance(r, dict) and _text(r, "odno"))
        return rows

    # ----- pushed events
    def request_sync(self) -> None:
        """Read the day's orders on the next poll whatever the notices said (a replay feed calls this after
        it moved the market, so a replayed day does not depend on when the notices arrive)."""
        self._sync_requested = True

    def poll_events(self) -> list[BrokerEvent]:
        """Changes since the last poll, in order: the day's orders are read when a notice named an order,
        after a reconnect, and on the polling schedule (module docstring)."""
        now = self._clock()
        events: list[BrokerEvent] = []
        changed: set[str] = set()
        if self.stream is not None:
            for record in self.stream.drain():
                if record.tr_id == protocol.TRADES_TR:
                    self._on_trade(record, now)
                else:
                    changed.add(record.fields.get("ODER_NO", "").strip())
        reconnected = self.stream is not None and self.stream.reconnects != self._reconnects_seen
        if self.stream is not None:
            self._reconnects_seen = self.stream.reconnects
        due = bool(self._queried.working) and (
            self._last_sync is None
            or now - self._last_sync >= (SAFETY_NET if self._stream_up() else self._poll_every)
        )
        if not (changed or reconnected or due or self._sync_requested):
            return events
        self._sync_requested = True  # until the query below succeeds: a failed poll is simply tried again
        rows = self._day_orders()
        self._last_sync, self._sync_requested = now, False
        for order in rows:
            events.extend(self._queried.changes(order, now))
        return events

    def _stream_up(self) -> bool:
        return self.stream is not None and self.stream.connected.is_set()

    def _on_trade(self, record: StreamRecord, now: datetime) -> None:
        fields = record.fields
        try:
            code = StockCode(fields["MKSC_SHRN_ISCD"])
            price = int(fields["STCK_PRPR"])
            self._quotes[code] = Quote(
                code,
                price,
                self._time_of(fields.get("STCK_CNTG_HOUR", "")),
                int(fields["STCK_OPRC"]),
                int(fields["STCK_HGPR"]),
                int(fields["STCK_LWPR"]),
                int(fields["ACML_VOL"]),
                price - int(fields.get("PRDY_VRSS") or 0),
            )
        except (KeyError, ValueError):
            return  # a malformed trade record: the REST price stands in

    # ----- account
    def cash(self) -> CashBalance:
        summary = self._balance_pages()[1]
        deposit = _int(summary, "dnca_tot_amt")
        params = {
            **self._account(),
            "PDNO": "",
            "ORD_UNPR": "",
            "ORD_DVSN": "01",
            "CMA_EVLU_AMT_ICLD_YN": "N",
            "OVRS_ICLD_YN": "N",
        }
        orderable = _output(self.rest.get(protocol.PSBL_ORDER_PATH, protocol.ORDERABLE, params).body)
        return CashBalance(deposit=deposit, orderable=_int(orderable, "nrcvb_buy_amt"))

    def holdings(self) -> list[Holding]:
        rows = self._balance_pages()[0]
        return [
            Holding(
                StockCode(_text(row, "pdno")),
                _int(row, "hldg_qty"),
                _int(row, "ord_psbl_qty"),
                _decimal(row, "pchs_avg_pric"),
            )
            for row in rows
            if _int(row, "hldg_qty") > 0
        ]

    def _balance_pages(self) -> tuple[list[Json], Json]:
        params = {
            **self._account(),
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "02",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
            "CTX_AREA_FK100": "",
            "CTX_AREA_NK100": "",
        }
        rows: list[Json] = []
        summary: Json = {}
        for page in self.rest.pages(
            protocol.BALANCE_PATH, protocol.BALANCE, params, ("CTX_AREA_FK100", "CTX_AREA_NK100")
        ):
            rows.extend(r for r in page.get("output1") or [] if isinstance(r, dict))
            totals = page.get("output2") or []
            if isinstance(totals, list) and totals and isinstance(totals[0], dict):
                summary = totals[0]
        return rows, summary

    # ----- market data
    def current_prices(self, codes: Sequence[StockCode]) -> dict[StockCode, Quote]:
        """Streamed prices where the stream has them, one ``intstock-multprice`` call per 30 codes for the
        rest."""
        if self.stream is not None:
            for record in self.stream.drain():  # trades only change quotes; notices wait for poll_events
                if record.tr_id == protocol.TRADES_TR:
                    self._on_trade(record, self._clock())
                else:
                    self.stream.records.put(record)
        quotes = {code: self._quotes[code] for code in codes if code in self._quotes}
        missing = [code for code in codes if code not in quotes]
        now = self._clock()
        for start in range(0, len(missing), protocol.MULTI_PRICE_MAX):
            chunk = missing[start : start + protocol.MULTI_PRICE_MAX]
            params: dict[str, str] = {}
            for index, code in enumerate(chunk, start=1):
                params[f"FID_COND_MRKT_DIV_CODE_{index}"] = "J"
                params[f"FID_INPUT_ISCD_{index}"] = str(code)
            body = self.rest.get(protocol.MULTI_PRICE_PATH, protocol.MULTI_PRICE, params).body
            for row in body.get("output") or []:
                if isinstance(row, dict) and _int(row, "inter2_prpr") > 0:
                    code = StockCode(_text(row, "inter_shrn_iscd"))
                    quotes[code] = Quote(
                        code,
                        _int(row, "inter2_prpr"),
                        now,
                        _int(row, "inter2_oprc"),
                        _int(row, "inter2_hgpr"),
                        _int(row, "inter2_lwpr"),
                        _int(row, "acml_vol"),
                        _int(row, "inter2_sdpr") or _int(row, "inter2_prdy_clpr"),
                    )
        return quotes

    def quote(self, code: StockCode) -> Quote:
        """One stock's price from ``inquire-price``."""
        params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": str(code)}
        row = _output(self.rest.get(protocol.PRICE_PATH, protocol.PRICE, params).body)
        return Quote(
            code,
            _int(row, "stck_prpr"),
            self._clock(),
            _int(row, "stck_oprc"),
            _int(row, "stck_hgpr"),
            _int(row, "stck_lwpr"),
            _int(row, "acml_vol"),
            _int(row, "stck_sdpr"),
        )

    def minute_bars_today(
        self, code: StockCode, until: str = "153000", since: str | None = None
    ) -> pd.DataFrame:
        """Today's minute bars up to ``until`` (HHMMSS), walking back 30 bars per call to the open, or only
        until a page reaches back to ``since`` (a restart's pause: one call, not ten)."""
        base = {"FID_ETC_CLS_CODE": "", "FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": str(code)}
        return self._walk_minutes(
            protocol.TODAY_MINUTES_PATH,
            protocol.TODAY_MINUTES,
            base,
            until,
            protocol.TODAY_MINUTES_PER_CALL,
            None,
            since,
        )

    def minute_bars(self, code: StockCode, day: date) -> pd.DataFrame:
        """A past day's minute bars (KIS keeps about a year), 120 per call."""
        base = {
            "FID_COND_MRKT_DIV_CODE": "J",
            "FID_INPUT_ISCD": str(code),
            "FID_INPUT_DATE_1": f"{day:%Y%m%d}",
            "FID_FAKE_TICK_INCU_YN": "",
        }
        return self._walk_minutes(
            protocol.PAST_MINUTES_PATH,
            protocol.PAST_MINUTES,
            base,
            "153000",
            protocol.PAST_MINUTES_PER_CALL,
            day,
        )

    def _walk_minutes(
        self,
        path: str,
        tr: protocol.TrId,
        base: dict[str, str],
        until: str,
        per_call: int,
        day: date | None,
        since: str | None = None,
    ) -> pd.DataFrame:
        """Minute bars from ``until`` back to the open (or to ``since``): each call gives the ``per_call``
        bars up to ``FID_INPUT_HOUR_1``, newest first; the next asks from the minute before the earliest."""
        rows: list[Json] = []
        hour = until
        for _ in range(400 // per_call + 2):
            params = {**base, "FID_INPUT_HOUR_1": hour, "FID_PW_DATA_INCU_YN": "N"}
            page = [
                r
                for r in self.rest.get(path, tr, params).body.get("output2") or []
                if isinstance(r, dict)
                and _text(r, "stck_cntg_hour")
                and (day is None or _text(r, "stck_bsop_date") == f"{day:%Y%m%d}")
            ]
            rows.extend(page)
            if len(page) < per_call:
                break
            earliest = min(_text(r, "stck_cntg_hour") for r in page)
            if since is not None and earliest <= since:
                break
            hour = f"{(datetime.strptime(earliest, '%H%M%S') - timedelta(minutes=1)):%H%M%S}"
        return _minute_frame(rows)

    def daily_bars(self, code: StockCode, start: date, end: date) -> pd.DataFrame:
        """Daily bars from ``start`` to ``end``, 100 per call, unadjusted prices (as traded)."""
        rows: list[Json] = []
        until = end
        while until >= start:
            params = {
                "FID_COND_MRKT_DIV_CODE": "J",
                "FID_INPUT_ISCD": str(code),
                "FID_INPUT_DATE_1": f"{start:%Y%m%d}",
                "FID_INPUT_DATE_2": f"{until:%Y%m%d}",
                "FID_PERIOD_DIV_CODE": "D",
                "FID_ORG_ADJ_PRC": "1",
            }
            body = self.rest.get(protocol.DAILY_BARS_PATH, protocol.DAILY_BARS, params).body
            page = [
                r for r in body.get("output2") or [] if isinstance(r, dict) and _text(r, "stck_bsop_date")
            ]
            rows.extend(page)
            if len(page) < protocol.DAILY_BARS_PER_CALL:
                break
            earliest = min(datetime.strptime(_text(r, "stck_bsop_date"), "%Y%m%d").date() for r in page)
            until = earliest - timedelta(days=1)
        return _daily_frame(rows)

    # ----- helpers
    def _account(self) -> dict[str, str]:
        return {"CANO": self._credentials.account, "ACNT_PRDT_CD": self._credentials.product_code}

    def _time_of(self, hhmmss: str) -> datetime:
        now = self._clock()
        try:
            parsed = datetime.strptime(hhmmss.strip(), "%H%M%S").time()
        except ValueError:
            return now
        return datetime.combine(now.date(), parsed, tzinfo=KST)


# ----- row translation
def server_urls(config: KisBrokerConfig) -> tuple[str, str]:
    """The REST and WebSocket addresses, chosen together: both the config's, or both KIS's (paper or real).

    One given and the other left to KIS's default would split a session between two servers: with only
    ``base_url`` on a local server, the approval key and the HTS id would still go to the real KIS
    WebSocket. The config refuses that at load; this repeats the check for a config built in code
    (``model_copy`` does not validate)."""
    if config.base_url is not None and config.ws_url is not None:
        return config.base_url, config.ws_url
    if config.base_url is None and config.ws_url is None:
        if config.paper:
            return protocol.PAPER_BASE_URL, protocol.PAPER_WS_URL
        return protocol.REAL_BASE_URL, protocol.REAL_WS_URL
    raise ConfigError(
        f"broker.kis.base_url = {config.base_url!r}, broker.kis.ws_url = {config.ws_url!r}: "
        "expected both set (the same server) or neither (KIS's own servers)"
    )


def _order_of(row: Json) -> BrokerOrder:
    quantity = _int(row, "ord_qty")
    filled = _int(row, "tot_ccld_qty")
    order_type, _condition = protocol.division_terms(_text(row, "ord_dvsn_cd")) or (
        OrderType.LIMIT,
        OrderCondition.NONE,
    )
    price = _int(row, "ord_unpr")
    original = _text(row, "orgn_odno")
    number = _text(row, "odno")
    return BrokerOrder(
        number,
        StockCode(_text(row, "pdno")),
        protocol.CODE_SIDES.get(_text(row, "sll_buy_dvsn_cd"), Side.BUY),
        quantity,
        price if price > 0 else None,
        order_type,
        filled,
        _status(row, quantity, filled),
        _row_time(row),
        None,
        original if original and original != number else None,
        _int(row, "tot_ccld_amt"),
        _notice_time(row) if filled else None,
    )


def _status(row: Json, quantity: int, filled: int) -> BrokerOrderStatus:
    """A row's state. A row with nothing remaining that is neither filled nor refused was cancelled, or
    replaced by a modify (its successor names it in ``orgn_odno``); the order manager ignores a status for a
    number a modify has replaced."""
    if filled >= quantity:
        return BrokerOrderStatus.FILLED
    if _int(row, "rjct_qty") > 0 and filled == 0:
        return BrokerOrderStatus.REJECTED
    if _int(row, "rmn_qty") > 0 and _text(row, "cncl_yn") != "Y":
        return BrokerOrderStatus.WORKING
    return BrokerOrderStatus.CANCELLED


def _notice_time(row: Json) -> datetime | None:
    """``infm_tmd`` (통보시각), the time of the order's latest notice: for a filled order, its latest fill."""
    try:
        return datetime.strptime(_text(row, "ord_dt") + _text(row, "infm_tmd"), "%Y%m%d%H%M%S").replace(
            tzinfo=KST
        )
    except ValueError:
        return None


def _row_time(row: Json) -> datetime:
    try:
        return datetime.strptime(_text(row, "ord_dt") + _text(row, "ord_tmd"), "%Y%m%d%H%M%S").replace(
            tzinfo=KST
        )
    except ValueError:
        raise FatalBrokerError(f"KIS order row {_text(row, 'odno')}: unreadable time") from None


def _minute_frame(rows: Iterable[Json]) -> pd.DataFrame:
    """Minute rows as bars. KIS gives each minute's volume but only the day's running traded value, so a
    minute's value is the difference of consecutive running values."""
    unique = sorted({(_text(r, "stck_bsop_date"), _text(r, "stck_cntg_hour")): r for r in rows}.items())
    records: list[dict[str, Any]] = []
    running = 0
    for (day, hour), r in unique:
        total = _int(r, "acml_tr_pbmn")
        records.append(
            {
                "ts": datetime.strptime(day + hour, "%Y%m%d%H%M%S").replace(tzinfo=KST),
                "open": _int(r, "stck_oprc"),
                "high": _int(r, "stck_hgpr"),
                "low": _int(r, "stck_lwpr"),
                "close": _int(r, "stck_prpr"),
                "volume": _int(r, "cntg_vol"),
                "value": max(total - running, 0),
            }
        )
        running = total
    return _frame(records)


def _daily_frame(rows: Iterable[Json]) -> pd.DataFrame:
    unique = {_text(r, "stck_bsop_date"): r for r in rows}
    records = [
        {
            "ts": datetime.strptime(day, "%Y%m%d").replace(tzinfo=KST),
            "open": _int(r, "stck_oprc"),
            "high": _int(r, "stck_hgpr"),
            "low": _int(r, "stck_lwpr"),
            "close": _int(r, "stck_clpr"),
            "volume": _int(r, "acml_vol"),
            "value": _int(r, "acml_tr_pbmn"),
        }
        for day, r in unique.items()
    ]
    return _frame(records)


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(BAR_COLUMNS))
    return frame.sort_values("ts", ignore_index=True)


def _output(body: Json) -> Json:
    output = body.get("output")
    if isinstance(output, list):
        output = output[0] if output else {}
    if not isinstance(output, dict):
        raise FatalBrokerError(f"KIS reply has no output: {str(body)[:200]}")
    return output


def _required(output: Json, key: str) -> str:
    value = str(output.get(key, "")).strip()
    if not value:
        raise FatalBrokerError(f"KIS reply has no {key}: {str(output)[:200]}")
    return value


def _text(row: Json, key: str) -> str:
    return str(row.get(key) or "").strip()


def _int(row: Json, key: str) -> int:
    text = _text(row, key).replace(",", "")
    if not text:
        return 0
    try:
        return int(Decimal(text))
    except InvalidOperation:
        raise FatalBrokerError(f"KIS field {key}: {text!r} is not a number") from None


def _decimal(row: Json, key: str) -> Decimal:
    try:
        return Decimal(_text(row, key) or "0")
    except InvalidOperation:
        raise FatalBrokerError(f"KIS field {key}: {_text(row, key)!r} is not a number") from None
