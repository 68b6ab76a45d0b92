"""The KIS Open API wire protocol, written down once for the adapter and the local KIS server.

Everything here is a fact about KIS's interface (reference/brokers.md section 3, KIS's public documentation):
paths, transaction ids (``tr_id``) for the real and the paper (모의투자) servers, order-division codes, the
columns of the WebSocket frames and the error codes maemae acts on. The adapter (``brokers.kis.adapter``) and
the mock (``brokers.kis.mock``) both import it, so the two cannot drift apart on a name; what keeps them
honest against the real service is that every value here comes from KIS's documentation, and the opt-in
``kis_live`` tests run the same contract against a real paper account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from maemae.domain.enums import OrderCondition, OrderType, Side

REAL_BASE_URL: Final = "https://openapi.koreainvestment.com:9443"
PAPER_BASE_URL: Final = "https://openapivts.koreainvestment.com:29443"
REAL_WS_URL: Final = "ws://ops.koreainvestment.com:21000/tryitout"
PAPER_WS_URL: Final = "ws://ops.koreainvestment.com:31000/tryitout"

# ----- REST paths
TOKEN_PATH: Final = "/oauth2/tokenP"
APPROVAL_PATH: Final = "/oauth2/Approval"
_STOCK: Final = "/uapi/domestic-stock/v1"
ORDER_CASH_PATH: Final = f"{_STOCK}/trading/order-cash"
ORDER_RVSECNCL_PATH: Final = f"{_STOCK}/trading/order-rvsecncl"
PSBL_RVSECNCL_PATH: Final = f"{_STOCK}/trading/inquire-psbl-rvsecncl"
BALANCE_PATH: Final = f"{_STOCK}/trading/inquire-balance"
PSBL_ORDER_PATH: Final = f"{_STOCK}/trading/inquire-psbl-order"
DAILY_CCLD_PATH: Final = f"{_STOCK}/trading/inquire-daily-ccld"
PRICE_PATH: Final = f"{_STOCK}/quotations/inquire-price"
MULTI_PRICE_PATH: Final = f"{_STOCK}/quotations/intstock-multprice"
TODAY_MINUTES_PATH: Final = f"{_STOCK}/quotations/inquire-time-itemchartprice"
PAST_MINUTES_PATH: Final = f"{_STOCK}/quotations/inquire-time-dailychartprice"
DAILY_BARS_PATH: Final = f"{_STOCK}/quotations/inquire-daily-itemchartprice"


@dataclass(frozen=True, slots=True)
class TrId:
    """A transaction id on the real server and on the paper server (the same for market data)."""

    real: str
    paper: str

    def on(self, paper: bool) -> str:
        return self.paper if paper else self.real


BUY = TrId("TTTC0012U", "VTTC0012U")
SELL = TrId("TTTC0011U", "VTTC0011U")
MODIFY_CANCEL = TrId("TTTC0013U", "VTTC0013U")
CANCELLABLE = TrId("TTTC0084R", "VTTC0084R")
BALANCE = TrId("TTTC8434R", "VTTC8434R")
ORDERABLE = TrId("TTTC8908R", "VTTC8908R")
DAILY_CCLD = TrId("TTTC0081R", "VTTC0081R")
PRICE = TrId("FHKST01010100", "FHKST01010100")
MULTI_PRICE = TrId("FHKST11300006", "FHKST11300006")
TODAY_MINUTES = TrId("FHKST03010200", "FHKST03010200")
PAST_MINUTES = TrId("FHKST03010230", "FHKST03010230")
DAILY_BARS = TrId("FHKST03010100", "FHKST03010100")

MULTI_PRICE_MAX: Final = 30  # stocks per intstock-multprice call
TODAY_MINUTES_PER_CALL: Final = 30
PAST_MINUTES_PER_CALL: Final = 120
DAILY_BARS_PER_CALL: Final = 100
DAILY_CCLD_PAGE: Final = TrId("100", "15")  # rows per inquire-daily-ccld page (as text: it is a row count)
BALANCE_PAGE: Final = TrId("50", "20")
WS_REGISTRATION_LIMIT: Final = 41  # per app key, trades and notices together

# ----- order division (ORD_DVSN): type and condition together
_ORDER_DIVISIONS: Final[dict[tuple[OrderType, OrderCondition], str]] = {
    (OrderType.LIMIT, OrderCondition.NONE): "00",
    (OrderType.MARKET, OrderCondition.NONE): "01",
    (OrderType.CONDITIONAL_LIMIT, OrderCondition.NONE): "02",
    (OrderType.BEST, OrderCondition.NONE): "03",
    (OrderType.PRIORITY, OrderCondition.NONE): "04",
    (OrderType.LIMIT, OrderCondition.IOC): "11",
    (OrderType.LIMIT, OrderCondition.FOK): "12",
    (OrderType.MARKET, OrderCondition.IOC): "13",
    (OrderType.MARKET, OrderCondition.FOK): "14",
    (OrderType.BEST, OrderCondition.IOC): "15",
    (OrderType.BEST, OrderCondition.FOK): "16",
}
_DIVISION_TERMS: Final = {code: terms for terms, code in _ORDER_DIVISIONS.items()}


def order_division(order_type: OrderType, condition: OrderCondition) -> str | None:
    """KIS's ``ORD_DVSN`` for an order's type and condition, or None when KIS has no such order."""
    return _ORDER_DIVISIONS.get((order_type, condition))


def division_terms(code: str) -> tuple[OrderType, OrderCondition] | None:
    return _DIVISION_TERMS.get(code)


PRICED_TYPES: Final = frozenset({OrderType.LIMIT, OrderType.CONDITIONAL_LIMIT})

# ----- sides: order bodies and queries use 01 sell / 02 buy
SIDE_CODES: Final = {Side.SELL: "01", Side.BUY: "02"}
CODE_SIDES: Final = {code: side for side, code in SIDE_CODES.items()}

MODIFY_CODE: Final = "01"  # RVSE_CNCL_DVSN_CD
CANCEL_CODE: Final = "02"

# ----- WebSocket
TRADES_TR: Final = "H0STCNT0"
NOTICE_TR = TrId("H0STCNI0", "H0STCNI9")
PINGPONG: Final = "PINGPONG"

TRADE_COLUMNS: Final = [
    "MKSC_SHRN_ISCD",
    "STCK_CNTG_HOUR",
    "STCK_PRPR",
    "PRDY_VRSS_SIGN",
    "PRDY_VRSS",
    "PRDY_CTRT",
    "WGHN_AVRG_STCK_PRC",
    "STCK_OPRC",
    "STCK_HGPR",
    "STCK_LWPR",
    "ASKP1",
    "BIDP1",
    "CNTG_VOL",
    "ACML_VOL",
    "ACML_TR_PBMN",
    "SELN_CNTG_CSNU",
    "SHNU_CNTG_CSNU",
    "NTBY_CNTG_CSNU",
    "CTTR",
    "SELN_CNTG_SMTN",
    "SHNU_CNTG_SMTN",
    "CCLD_DVSN",
    "SHNU_RATE",
    "PRDY_VOL_VRSS_ACML_VOL_RATE",
    "OPRC_HOUR",
    "OPRC_VRSS_PRPR_SIGN",
    "OPRC_VRSS_PRPR",
    "HGPR_HOUR",
    "HGPR_VRSS_PRPR_SIGN",
    "HGPR_VRSS_PRPR",
    "LWPR_HOUR",
    "LWPR_VRSS_PRPR_SIGN",
    "LWPR_VRSS_PRPR",
    "BSOP_DATE",
    "NEW_MKOP_CLS_CODE",
    "TRHT_YN",
    "ASKP_RSQN1",
    "BIDP_RSQN1",
    "TOTAL_ASKP_RSQN",
    "TOTAL_BIDP_RSQN",
    "VOL_TNRT",
    "PRDY_SMNS_HOUR_ACML_VOL",
    "PRDY_SMNS_HOUR_ACML_VOL_RATE",
    "HOUR_CLS_CODE",
    "MRKT_TRTM_CLS_CODE",
    "VI_STND_PRC",
]

NOTICE_COLUMNS: Final = [
    "CUST_ID",
    "ACNT_NO",
    "ODER_NO",
    "ODER_QTY",
    "SELN_BYOV_CLS",
    "RCTF_CLS",
    "ODER_KIND",
    "ODER_COND",
    "STCK_SHRN_ISCD",
    "CNTG_QTY",
    "CNTG_UNPR",
    "STCK_CNTG_HOUR",
    "RFUS_YN",
    "CNTG_YN",
    "ACPT_YN",
    "BRNC_NO",
    "ACNT_NO2",
    "ACNT_NAME",
    "ORD_COND_PRC",
    "ORD_EXG_GB",
    "POPUP_YN",
    "FILLER",
    "CRDT_CLS",
    "CRDT_LOAN_DATE",
    "CNTG_ISNM40",
    "ODER_PRC",
]

NOTICE_FILL: Final = "2"  # CNTG_YN: 2 = a fill, 1 = an order, modify, cancel or reject was received
NOTICE_ACCEPTANCE: Final = "1"
NOTICE_NORMAL, NOTICE_MODIFY, NOTICE_CANCEL = "0", "1", "2"  # RCTF_CLS

# ----- error codes (msg_cd) maemae acts on
RATE_LIMITED: Final = "EGW00201"  # 초당 거래건수를 초과하였습니다
TOKEN_EXPIRED: Final = "EGW00123"  # 기간이 만료된 token 입니다
TOKEN_INVALID: Final = "EGW00121"  # 유효하지 않은 token 입니다
TOKEN_TOO_SOON: Final = "EGW00133"  # 접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)
BAD_APP_KEY: Final = "EGW00103"  # 유효하지 않은 AppKey 입니다
TOKEN_ERRORS: Final = frozenset({TOKEN_EXPIRED, TOKEN_INVALID})
FATAL_ERRORS: Final = frozenset({BAD_APP_KEY, "EGW00105", "EGW00002"})  # bad key, bad secret, bad account
SUCCESS: Final = "0"  # rt_cd
