"""The local KIS server: KIS's HTTP and WebSocket protocol on 127.0.0.1, over a simulated account.

It answers every call the adapter makes the way KIS does (paths, headers, ``tr_id`` codes for the paper or
the real server, upper-case request fields, numbers as strings, paging with ``tr_cont`` and the
``CTX_AREA`` keys, token rules, encrypted fill notices, ``PINGPONG``) and injects the faults of
``mock.faults``. Besides KIS's API it has a control API under ``/_mock`` that only a test or the replay
driver uses: the market feed (start of day, bars, end of day), external trades, faults, the book and
counters.

Every handler runs on the server's event loop, one at a time, so the account needs no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from maemae.brokers.kis import crypto, protocol
from maemae.brokers.kis.mock.account import KisRefusal, MockAccount
from maemae.brokers.kis.mock.faults import FaultRequest, Faults
from maemae.brokers.kis.mock.replay import MarketReplay
from maemae.brokers.sim.matching import MarketBar
from maemae.data.bars import NS_PER_SECOND, Timeframe
from maemae.data.store import BarStore
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.krx.limits import PriceLimits


@dataclass(frozen=True, slots=True)
class MockSettings:
    """Who the mock's account belongs to; tests and ``maemae kis-mock`` use these as the 'secrets'."""

    app_key: str = "mock-app-key"
    app_secret: str = "mock-app-secret"
    account: str = "50000000"
    product_code: str = "01"
    hts_id: str = "maemae"
    paper: bool = True
    token_interval_s: float = 60.0  # KIS: one issuance a minute
    token_lifetime: timedelta = timedelta(hours=24)
    token_reuse: timedelta = timedelta(hours=6)  # KIS returns the same token when asked again within 6 h
    ping_interval_s: float = 10.0


@dataclass(slots=True)
class _Token:
    value: str
    issued: datetime
    expires: datetime


@dataclass(slots=True)
class _Socket:
    websocket: WebSocket
    outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    notices: bool = False
    codes: set[str] = field(default_factory=set)
    key: str = field(default_factory=lambda: secrets.token_hex(16))  # 32 characters: AES-256
    iv: str = field(default_factory=lambda: secrets.token_hex(8))  # 16 characters


@dataclass(slots=True)
class MockState:
    account: MockAccount
    settings: MockSettings
    history: BarStore | None = None
    replay: MarketReplay | None = None  # a market that moves by itself on a clock
    faults: Faults = field(default_factory=Faults)
    tokens: list[_Token] = field(default_factory=list)
    last_token_request: datetime | None = None
    approvals: set[str] = field(default_factory=set)
    sockets: list[_Socket] = field(default_factory=list)
    stats: Counter[str] = field(default_factory=Counter)

    # ----- pushing
    def publish(self) -> None:
        notices, self.account.notices = self.account.notices, []
        trades, self.account.trades = self.account.trades, []
        if self.faults.reorder_notices:
            notices.reverse()
        for socket in self.sockets:
            if socket.notices:
                for row in notices:
                    frame = self._notice_frame(socket, row)
                    copies = 2 if self.faults.duplicate_notices and _is_fill(row) else 1
                    for _ in range(copies):
                        socket.outbox.put_nowait(frame)
                        self.stats["notices_sent"] += 1
            for row in trades:
                if row[0] in socket.codes:
                    socket.outbox.put_nowait(f"0|{protocol.TRADES_TR}|001|{'^'.join(row)}")
                    self.stats["trades_sent"] += 1

    def _notice_frame(self, socket: _Socket, row: list[str]) -> str:
        tr_id = protocol.NOTICE_TR.on(self.settings.paper)
        return f"1|{tr_id}|001|{crypto.encrypt(socket.key, socket.iv, '^'.join(row))}"

    def registrations(self) -> int:
        return sum(len(s.codes) + (1 if s.notices else 0) for s in self.sockets)


def _is_fill(row: list[str]) -> bool:
    return row[protocol.NOTICE_COLUMNS.index("CNTG_YN")] == protocol.NOTICE_FILL


class _Bar(BaseModel):
    code: str
    start: datetime
    open: int
    high: int
    low: int
    close: int
    volume: int
    upper: int
    lower: int
    closing_auction: bool = False


class _StartDay(BaseModel):
    now: datetime
    day: date
    base_prices: dict[str, int]


class _Bars(BaseModel):
    now: datetime
    bars: list[_Bar]


class _Now(BaseModel):
    now: datetime


class _External(BaseModel):
    now: datetime
    code: str
    side: Side
    quantity: int
    price: int


Handler = Callable[[MockState, Mapping[str, str], str], Awaitable[JSONResponse]]


def create_app(state: MockState) -> FastAPI:
    app = FastAPI(title="maemae local KIS server", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.mock = state
    _auth_routes(app, state)
    _api_routes(app, state)
    _websocket_routes(app, state)
    _control_routes(app, state)
    return app


def _auth_routes(app: FastAPI, state: MockState) -> None:
    settings = state.settings

    @app.post(protocol.TOKEN_PATH)
    async def token(request: Request) -> JSONResponse:
        body = await _json_body(request)
        state.stats["token_requests"] += 1
        if body.get("appkey") != settings.app_key or body.get("appsecret") != settings.app_secret:
            return _auth_error(protocol.BAD_APP_KEY, "유효하지 않은 AppKey입니다.")
        now = datetime.now(KST)
        last = state.last_token_request
        if last is not None and (now - last).total_seconds() < settings.token_interval_s:
            return _auth_error(protocol.TOKEN_TOO_SOON, "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)")
        state.last_token_request = now
        current = state.tokens[-1] if state.tokens else None
        if current is None or now - current.issued >= settings.token_reuse or now >= current.expires:
            current = _Token(secrets.token_urlsafe(32), now, now + settings.token_lifetime)
            state.tokens.append(current)
            state.stats["tokens_issued"] += 1
        return JSONResponse(
            {
                "access_token": current.value,
                "access_token_token_expired": f"{current.expires:%Y-%m-%d %H:%M:%S}",
                "token_type": "Bearer",
                "expires_in": int((current.expires - now).total_seconds()),
            }
        )

    @app.post(protocol.APPROVAL_PATH)
    async def approval(request: Request) -> JSONResponse:
        body = await _json_body(request)
        if body.get("appkey") != settings.app_key or body.get("secretkey") != settings.app_secret:
            return _auth_error(protocol.BAD_APP_KEY, "유효하지 않은 AppKey입니다.")
        key = secrets.token_hex(18)
        state.approvals.add(key)
        return JSONResponse({"approval_key": key})


async def _admit(
    state: MockState, request: Request, method: str, trs: Mapping[str, Any]
) -> JSONResponse | dict[str, str]:
    """The checks and faults every API request passes before its handler: the request's fields, or the
    reply that ends it."""
    faults = state.faults
    if state.replay is not None:
        state.replay.catch_up(state.account)
        state.publish()
    raw = await _json_body(request) if method == "POST" else {}  # the request has arrived in full
    if faults.latency_ms:  # a slow server: it still acts on the request after the client gave up
        await asyncio.sleep(faults.latency_ms / 1000)
    if faults.server_errors:
        faults.server_errors -= 1
        return _refusal("EGW00500", "서버 오류", status=500)
    if faults.rate_limits:
        faults.rate_limits -= 1
        state.stats["rate_limited"] += 1
        return _refusal(protocol.RATE_LIMITED, "초당 거래건수를 초과하였습니다.", status=500)
    problem = _check_headers(state, request.headers)
    if problem is not None:
        return problem
    tr_id = request.headers.get("tr_id", "")
    if tr_id not in trs:
        return _refusal("EGW00205", f"tr_id {tr_id!r} 는 이 경로에서 사용할 수 없습니다")
    if method == "GET":
        data = dict(request.query_params)
    else:
        bad = [k for k, v in raw.items() if k != k.upper() or not isinstance(v, str)]
        if bad:
            return _refusal("OPSQ0002", f"입력 필드 오류: {bad[0]} (대문자 키, 문자열 값)")
        data = raw
    settings = state.settings
    if "CANO" in data and (
        data.get("CANO") != settings.account or data.get("ACNT_PRDT_CD") != settings.product_code
    ):
        return _refusal("OPSQ2000", "계좌번호 오류")
    return data


def _api_routes(app: FastAPI, state: MockState) -> None:
    """KIS's API: one route per path, each admitted the same way."""
    paper = state.settings.paper

    def route(path: str, method: str, trs: Mapping[str, Any], handler: Handler) -> None:
        async def endpoint(request: Request) -> JSONResponse:
            state.stats[f"{method} {path}"] += 1
            admitted = await _admit(state, request, method, trs)
            if isinstance(admitted, JSONResponse):
                return admitted
            try:
                response = await handler(state, admitted, str(trs[request.headers["tr_id"]]))
            except KisRefusal as refusal:
                return _refusal(refusal.code, refusal.message)
            state.publish()
            return response

        app.add_api_route(path, endpoint, methods=[method])

    both = {protocol.BUY.on(paper): Side.BUY.value, protocol.SELL.on(paper): Side.SELL.value}
    route(protocol.ORDER_CASH_PATH, "POST", both, _order_cash)
    route(protocol.ORDER_RVSECNCL_PATH, "POST", {protocol.MODIFY_CANCEL.on(paper): ""}, _revise)
    route(protocol.DAILY_CCLD_PATH, "GET", {protocol.DAILY_CCLD.on(paper): ""}, _daily_ccld)
    route(protocol.PSBL_RVSECNCL_PATH, "GET", {protocol.CANCELLABLE.on(paper): ""}, _cancellable)
    route(protocol.BALANCE_PATH, "GET", {protocol.BALANCE.on(paper): ""}, _balance)
    route(protocol.PSBL_ORDER_PATH, "GET", {protocol.ORDERABLE.on(paper): ""}, _orderable)
    route(protocol.PRICE_PATH, "GET", {protocol.PRICE.on(paper): ""}, _price)
    route(protocol.MULTI_PRICE_PATH, "GET", {protocol.MULTI_PRICE.on(paper): ""}, _multi_price)
    route(protocol.TODAY_MINUTES_PATH, "GET", {protocol.TODAY_MINUTES.on(paper): ""}, _today_minutes)
    route(protocol.PAST_MINUTES_PATH, "GET", {protocol.PAST_MINUTES.on(paper): ""}, _past_minutes)
    route(protocol.DAILY_BARS_PATH, "GET", {protocol.DAILY_BARS.on(paper): ""}, _daily_bars)


def _websocket_routes(app: FastAPI, state: MockState) -> None:
    settings = state.settings

    async def websocket_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        socket = _Socket(websocket)
        state.sockets.append(socket)
        state.stats["ws_connections"] += 1
        sender = asyncio.create_task(_send_loop(socket))
        pinger = asyncio.create_task(_ping_loop(socket, settings.ping_interval_s))
        try:
            while True:
                text = await websocket.receive_text()
                await _on_client_message(state, socket, text)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            state.sockets.remove(socket)
            sender.cancel()
            pinger.cancel()

    app.add_api_websocket_route("/tryitout", websocket_endpoint)
    app.add_api_websocket_route("/", websocket_endpoint)


def _control_routes(app: FastAPI, state: MockState) -> None:
    """The ``/_mock`` API: faults, external trades, the book and counters, and the market feed."""

    @app.post("/_mock/faults")
    async def faults(request: FaultRequest) -> dict[str, Any]:
        if request.set is not None:
            state.faults = request.set
        if request.expire_tokens:
            now = datetime.now(KST)
            for issued in state.tokens:
                issued.expires = min(issued.expires, now)
            state.last_token_request = None
        if request.drop_websockets:
            for socket in list(state.sockets):
                with contextlib.suppress(RuntimeError):
                    await socket.websocket.close(code=1011)
                state.stats["ws_dropped"] += 1
        return state.faults.model_dump()

    @app.post("/_mock/external_trade")
    async def external_trade(request: _External) -> dict[str, str]:
        number = state.account.external_trade(
            StockCode(request.code), request.side, request.quantity, request.price, request.now
        )
        state.publish()
        return {"odno": number}

    @app.get("/_mock/book")
    async def book() -> dict[str, Any]:
        rows, summary = state.account.balance()
        return {
            "orders": state.account.day_rows({"INQR_DVSN": "01"}),
            "holdings": rows,
            "summary": summary,
            "orderable": state.account.orderable(),
        }

    @app.get("/_mock/stats")
    async def stats() -> dict[str, Any]:
        return {**state.stats, "registrations": state.registrations(), "sockets": len(state.sockets)}

    _feed_routes(app, state)


def _feed_routes(app: FastAPI, state: MockState) -> None:
    """The market feed of a replay: the start of a day, bars, the end of the day."""

    @app.post("/_mock/feed/start_day")
    async def start_day(request: _StartDay) -> dict[str, str]:
        bases = {StockCode(code): price for code, price in request.base_prices.items()}
        state.account.start_day(request.day, bases, request.now)
        state.publish()
        return {"day": request.day.isoformat()}

    @app.post("/_mock/feed/bars")
    async def bars(request: _Bars) -> dict[str, int]:
        for bar in request.bars:
            market_bar = MarketBar(
                bar.start,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.volume,
                PriceLimits(upper=bar.upper, lower=bar.lower),
                bar.closing_auction,
            )
            state.account.on_bar(StockCode(bar.code), market_bar, request.now)
        state.account.advance(request.now)
        state.publish()
        return {"bars": len(request.bars)}

    @app.post("/_mock/feed/clock")
    async def clock(request: _Now) -> dict[str, str]:
        state.account.advance(request.now)
        return {}

    @app.post("/_mock/feed/end_day")
    async def end_day(request: _Now) -> dict[str, str]:
        state.account.end_day(request.now)
        state.publish()
        return {}

    @app.get("/_mock/feed/limits")
    async def limits() -> dict[str, list[int]]:
        exchange = state.account.exchange
        return {
            str(code): [found.upper, found.lower]
            for code in state.account.bases()
            if (found := exchange.limits(code)) is not None
        }


# ----- handlers of KIS's API
async def _order_cash(state: MockState, body: Mapping[str, str], side: str) -> JSONResponse:
    output = state.account.order_cash(body, Side(side))
    if state.faults.lost_replies:
        state.faults.lost_replies -= 1
        state.stats["lost_replies"] += 1
        state.publish()
        await asyncio.sleep(state.faults.lost_reply_hold_s)
        return JSONResponse({"rt_cd": "1", "msg_cd": "EGW00504", "msg1": "gateway timeout"}, status_code=504)
    return _ok({"output": output})


async def _revise(state: MockState, body: Mapping[str, str], _: str) -> JSONResponse:
    return _ok({"output": state.account.revise(body)})


async def _daily_ccld(state: MockState, params: Mapping[str, str], _: str) -> JSONResponse:
    rows = state.account.day_rows(params)
    size = int(protocol.DAILY_CCLD_PAGE.on(state.settings.paper))
    page, more, next_key = _page(rows, params.get("CTX_AREA_NK100", ""), size)
    totals = {
        "tot_ord_qty": str(sum(int(r["ord_qty"]) for r in rows)),
        "tot_ccld_qty": str(sum(int(r["tot_ccld_qty"]) for r in rows)),
        "tot_ccld_amt": str(sum(int(r["tot_ccld_amt"]) for r in rows)),
    }
    return _ok(
        {"ctx_area_fk100": "", "ctx_area_nk100": next_key, "output1": page, "output2": totals},
        more=more,
    )


async def _cancellable(state: MockState, params: Mapping[str, str], _: str) -> JSONResponse:
    rows = state.account.day_rows({"CCLD_DVSN": "02", "INQR_DVSN": "01"})
    output = [
        {
            "odno": r["odno"],
            "orgn_odno": r["orgn_odno"],
            "pdno": r["pdno"],
            "ord_qty": r["ord_qty"],
            "ord_unpr": r["ord_unpr"],
            "psbl_qty": r["rmn_qty"],
            "sll_buy_dvsn_cd": r["sll_buy_dvsn_cd"],
            "ord_gno_brno": r["ord_gno_brno"],
        }
        for r in rows
    ]
    return _ok({"ctx_area_fk100": "", "ctx_area_nk100": "", "output": output})


async def _balance(state: MockState, params: Mapping[str, str], _: str) -> JSONResponse:
    rows, summary = state.account.balance()
    size = int(protocol.BALANCE_PAGE.on(state.settings.paper))
    page, more, next_key = _page(rows, params.get("CTX_AREA_NK100", ""), size)
    return _ok(
        {"ctx_area_fk100": "", "ctx_area_nk100": next_key, "output1": page, "output2": [summary]}, more=more
    )


async def _orderable(state: MockState, params: Mapping[str, str], _: str) -> JSONResponse:
    return _ok({"output": state.account.orderable()})


async def _price(state: MockState, params: Mapping[str, str], _: str) -> JSONResponse:
    row = state.account.price_row(StockCode(params.get("FID_INPUT_ISCD", "")))
    if row is None:
        raise KisRefusal("OPSQ0003", "조회할 자료가 없습니다")
    return _ok({"output": row})


async def _multi_price(state: MockState, params: Mapping[str, str], _: str) -> JSONResponse:
    output = []
    for index in range(1, protocol.MULTI_PRICE_MAX + 2):
        code = params.get(f"FID_INPUT_ISCD_{index}")
        if code is None:
            break
        if index > protocol.MULTI_PRICE_MAX:
            raise KisRefusal("OPSQ0004", f"최대 {protocol.MULTI_PRICE_MAX}종목까지 조회할 수 있습니다")
        row = state.account.price_row(StockCode(code))
        if row is not None:
            output.append(
                {
                    "inter_shrn_iscd": code,
                    "inter2_prpr": row["stck_prpr"],
                    "inter2_oprc": row["stck_oprc"],
                    "inter2_hgpr": row["stck_hgpr"],
                    "inter2_lwpr": row["stck_lwpr"],
                    "acml_vol": row["acml_vol"],
                    "inter2_sdpr": row["stck_sdpr"],
                    "inter2_prdy_clpr": row["stck_sdpr"],
                }
            )
    return _ok({"output": output})


async def _today_minutes(state: MockState, params: Mapping[str, str], _: str) -> JSONResponse:
    code = StockCode(params.get("FID_INPUT_ISCD", ""))
    until = params.get("FID_INPUT_HOUR_1", "153000")
    bars = state.account.minutes.get(code, [])
    rows = _minute_rows(bars)
    rows = [r for r in rows if r["stck_cntg_hour"] <= until][::-1][: protocol.TODAY_MINUTES_PER_CALL]
    return _ok({"output1": {"stck_prpr": rows[0]["stck_prpr"] if rows else "0"}, "output2": rows})


async def _past_minutes(state: MockState, params: Mapping[str, str], _: str) -> JSONResponse:
    code = StockCode(params.get("FID_INPUT_ISCD", ""))
    day = datetime.strptime(params.get("FID_INPUT_DATE_1", ""), "%Y%m%d").date()
    until = params.get("FID_INPUT_HOUR_1", "153000")
    rows: list[dict[str, str]] = []
    if state.history is not None:
        bars = state.history.read_arrays(code, Timeframe.MINUTE, day, day)
        running = 0
        for i in range(len(bars)):
            running += int(bars.value[i])
            rows.append(
                _bar_row(
                    _at(int(bars.ts[i])),
                    int(bars.open[i]),
                    int(bars.high[i]),
                    int(bars.low[i]),
                    int(bars.close[i]),
                    int(bars.volume[i]),
                    running,
                )
            )
    rows = [r for r in rows if r["stck_cntg_hour"] <= until][::-1][: protocol.PAST_MINUTES_PER_CALL]
    return _ok({"output1": {}, "output2": rows})


async def _daily_bars(state: MockState, params: Mapping[str, str], _: str) -> JSONResponse:
    code = StockCode(params.get("FID_INPUT_ISCD", ""))
    start = datetime.strptime(params.get("FID_INPUT_DATE_1", ""), "%Y%m%d").date()
    end = datetime.strptime(params.get("FID_INPUT_DATE_2", ""), "%Y%m%d").date()
    rows: list[dict[str, str]] = []
    if state.history is not None:
        bars = state.history.read_arrays(code, Timeframe.DAY, start, end)
        for i in range(len(bars)):
            rows.append(
                {
                    "stck_bsop_date": f"{_at(int(bars.ts[i])):%Y%m%d}",
                    "stck_oprc": str(bars.open[i]),
                    "stck_hgpr": str(bars.high[i]),
                    "stck_lwpr": str(bars.low[i]),
                    "stck_clpr": str(bars.close[i]),
                    "acml_vol": str(bars.volume[i]),
                    "acml_tr_pbmn": str(bars.value[i]),
                }
            )
    rows = rows[::-1][: protocol.DAILY_BARS_PER_CALL]
    return _ok({"output1": {}, "output2": rows})


def _at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS_PER_SECOND, KST)


def _minute_rows(bars: list[MarketBar]) -> list[dict[str, str]]:
    rows = []
    running = 0
    for bar in bars:
        running += bar.close * bar.volume
        rows.append(_bar_row(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume, running))
    return rows


def _bar_row(
    start: datetime, open_: int, high: int, low: int, close: int, volume: int, running: int
) -> dict[str, str]:
    return {
        "stck_bsop_date": f"{start:%Y%m%d}",
        "stck_cntg_hour": f"{start:%H%M%S}",
        "stck_prpr": str(close),
        "stck_oprc": str(open_),
        "stck_hgpr": str(high),
        "stck_lwpr": str(low),
        "cntg_vol": str(volume),
        "acml_tr_pbmn": str(running),
    }


# ----- WebSocket helpers
async def _send_loop(socket: _Socket) -> None:
    while True:
        frame = await socket.outbox.get()
        await socket.websocket.send_text(frame)


async def _ping_loop(socket: _Socket, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        stamp = f"{datetime.now(KST):%Y%m%d%H%M%S}"
        socket.outbox.put_nowait(json.dumps({"header": {"tr_id": protocol.PINGPONG, "datetime": stamp}}))


async def _on_client_message(state: MockState, socket: _Socket, text: str) -> None:
    try:
        message = json.loads(text)
        header, body = message["header"], message.get("body", {})
    except (ValueError, KeyError, TypeError):
        return
    tr_id = str(header.get("tr_id", ""))
    if tr_id == protocol.PINGPONG:
        state.stats["pongs"] += 1
        return
    request = body.get("input", {}) if isinstance(body, dict) else {}
    tr_id, tr_key = str(request.get("tr_id", "")), str(request.get("tr_key", ""))
    reply: dict[str, Any] = {"tr_id": tr_id, "tr_key": tr_key}
    if header.get("approval_key") not in state.approvals:
        socket.outbox.put_nowait(_ws_reply(reply, "1", "OPSP8996", "invalid approval : NOT FOUND"))
        return
    subscribe = header.get("tr_type") == "1"
    notice_tr = protocol.NOTICE_TR.on(state.settings.paper)
    if subscribe and state.registrations() >= protocol.WS_REGISTRATION_LIMIT:
        socket.outbox.put_nowait(_ws_reply(reply, "1", "OPSP0008", "MAX SUBSCRIBE OVER"))
        return
    if tr_id == notice_tr:
        if tr_key != state.settings.hts_id:
            socket.outbox.put_nowait(_ws_reply(reply, "1", "OPSP0011", "invalid tr_key"))
            return
        socket.notices = subscribe
        output = {"iv": socket.iv, "key": socket.key}
        socket.outbox.put_nowait(_ws_reply(reply, "0", "OPSP0000", "SUBSCRIBE SUCCESS", output))
    elif tr_id == protocol.TRADES_TR:
        (socket.codes.add if subscribe else socket.codes.discard)(tr_key)
        socket.outbox.put_nowait(_ws_reply(reply, "0", "OPSP0000", "SUBSCRIBE SUCCESS", {}))
    else:
        socket.outbox.put_nowait(_ws_reply(reply, "1", "OPSP0002", "invalid tr_id"))


def _ws_reply(
    header: dict[str, Any], rt_cd: str, msg_cd: str, msg: str, output: dict[str, str] | None = None
) -> str:
    body: dict[str, Any] = {"rt_cd": rt_cd, "msg_cd": msg_cd, "msg1": msg}
    if output is not None:
        body["output"] = output
    return json.dumps({"header": {**header, "encrypt": "N"}, "body": body})


# ----- HTTP helpers
def _check_headers(state: MockState, headers: Mapping[str, str]) -> JSONResponse | None:
    settings = state.settings
    if headers.get("appkey") != settings.app_key or headers.get("appsecret") != settings.app_secret:
        return _refusal(protocol.BAD_APP_KEY, "유효하지 않은 AppKey입니다.", status=403)
    if headers.get("custtype") != "P":
        return _refusal("EGW00206", "custtype 오류")
    authorization = headers.get("authorization", "")
    token = authorization.removeprefix("Bearer ").strip()
    now = datetime.now(KST)
    if not any(t.value == token for t in state.tokens):
        return _refusal(protocol.TOKEN_INVALID, "유효하지 않은 token 입니다.", status=500)
    if all(t.expires <= now for t in state.tokens if t.value == token):
        return _refusal(protocol.TOKEN_EXPIRED, "기간이 만료된 token 입니다.", status=500)
    return None


def _page(rows: list[dict[str, str]], key: str, size: int) -> tuple[list[dict[str, str]], bool, str]:
    offset = int(key) if key.isdigit() else 0
    page = rows[offset : offset + size]
    more = offset + size < len(rows)
    return page, more, str(offset + size) if more else ""


def _ok(body: dict[str, Any], more: bool = False) -> JSONResponse:
    return JSONResponse(
        {"rt_cd": "0", "msg_cd": "MCA00000", "msg1": "정상처리 되었습니다.", **body},
        headers={"tr_cont": "M" if more else "D"},
    )


def _refusal(code: str, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"rt_cd": "1", "msg_cd": code, "msg1": message}, status_code=status)


def _auth_error(code: str, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "error_description": message}, status_code=403)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
