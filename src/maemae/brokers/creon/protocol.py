"""Creon Plus's COM interface as maemae uses it: ProgIDs, input, header and data indices, codes.

One table for the adapter and the fake COM layer, so the two cannot drift. Sources are named per entry:
"ref" is ``reference/brokers.md`` section 2 (from Daishin's pages and the original system's code); entries
marked **unverified** come from public sample code only and have not been checked against a real Creon
installation (docs/brokers/creon.md lists them; ``tests/brokers/creon/test_creon_live.py`` checks them when
Creon is there).
"""

from __future__ import annotations

from typing import Final

from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderCondition, OrderType, Side
from maemae.errors import FatalBrokerError

# ----- ProgIDs (ref 2.2)
CYBOS: Final = "CpUtil.CpCybos"
TRADE_UTIL: Final = "CpTrade.CpTdUtil"
MARKET_EYE: Final = "CpSysDib.MarketEye"
STOCK_CHART: Final = "CpSysDib.StockChart"
NEW_ORDER: Final = "CpTrade.CpTd0311"
MODIFY_ORDER: Final = "CpTrade.CpTd0313"
CANCEL_ORDER: Final = "CpTrade.CpTd0314"
UNFILLED: Final = "CpTrade.CpTd5339"
DAY_ORDERS: Final = "CpTrade.CpTd5341"  # today's orders with their fills (unverified indices, below)
POSITIONS: Final = "CpTrade.CpTd6033"
ORDERABLE: Final = "CpTrade.CpTdNew5331A"
CONCLUSION: Final = "DsCbo1.CpConclusion"
STOCK_CUR: Final = "DsCbo1.StockCur"

# ----- request results and limits (ref 2.3)
RQ_OK: Final = 0
RQ_COMMUNICATION: Final = 1  # communication failure
RQ_CONFIRM_CANCELLED: Final = 2  # (order objects) cancelled in the confirmation dialog
RQ_OTHER: Final = 3
RQ_LIMIT: Final = 4  # (order objects) over the order-request limit: NOT sent, retry after the wait
DIB_ERROR: Final = -1
DIB_OK: Final = 0
LT_TRADE_REQUEST: Final = 0  # orders and account queries: 20 per 15 s
LT_NONTRADE_REQUEST: Final = 1  # quotes and charts: 60 per 15 s (over it, Creon waits inside the call)
LT_SUBSCRIBE: Final = 2  # real-time subscriptions: at most 400
TRADE_LIMIT: Final = 20
QUOTE_LIMIT: Final = 60
LIMIT_WINDOW_S: Final = 15.0
SUBSCRIPTION_LIMIT: Final = 400

# ----- codes (ref 2.4)
SIDE_CODES: Final = {Side.SELL: "1", Side.BUY: "2"}
CODE_SIDES: Final = {code: side for side, code in SIDE_CODES.items()}
PRICE_TYPES: Final = {
    OrderType.LIMIT: "01",  # 보통 (ref)
    OrderType.MARKET: "03",  # 시장가 (ref)
    OrderType.CONDITIONAL_LIMIT: "05",  # 조건부지정가 (unverified)
    OrderType.BEST: "12",  # 최유리지정가 (unverified)
    OrderType.PRIORITY: "13",  # 최우선지정가 (unverified)
}
PRICE_TYPE_ORDERS: Final = {code: order_type for order_type, code in PRICE_TYPES.items()}
CONDITIONS: Final = {OrderCondition.NONE: "0", OrderCondition.IOC: "1", OrderCondition.FOK: "2"}
CONDITION_CODES: Final = {code: condition for condition, code in CONDITIONS.items()}
PRICED_TYPES: Final = frozenset({OrderType.LIMIT, OrderType.CONDITIONAL_LIMIT})
GOODS_STOCK: Final = 1  # GoodsList(account, 1): stock products

# ----- CpTd0311 new order (ref 2.4)
ORDER_IN_SIDE, ORDER_IN_ACCOUNT, ORDER_IN_GOODS, ORDER_IN_CODE = 0, 1, 2, 3
ORDER_IN_QUANTITY, ORDER_IN_PRICE, ORDER_IN_CONDITION, ORDER_IN_PRICE_TYPE = 4, 5, 7, 8
ORDER_OUT_NUMBER: Final = 8
# CpTd0313 modify (ref 2.2): 1 original number, 2 account, 3 goods, 4 code, 5 quantity, 6 price; header 7
MODIFY_IN_ORIGINAL, MODIFY_IN_ACCOUNT, MODIFY_IN_GOODS, MODIFY_IN_CODE = 1, 2, 3, 4
MODIFY_IN_QUANTITY, MODIFY_IN_PRICE = 5, 6
MODIFY_OUT_NUMBER: Final = 7
# CpTd0314 cancel (ref 2.2): 1 original number, 2 account, 3 goods, 4 code, 5 quantity (0: all remaining)
CANCEL_IN_ORIGINAL, CANCEL_IN_ACCOUNT, CANCEL_IN_GOODS, CANCEL_IN_CODE, CANCEL_IN_QUANTITY = 1, 2, 3, 4, 5
CANCEL_OUT_NUMBER: Final = 6

# ----- CpTd5339 unfilled orders (ref 2.8): at most 20 a request, paged with Continue
UNFILLED_IN_ACCOUNT, UNFILLED_IN_GOODS, UNFILLED_IN_CODE, UNFILLED_IN_KIND = 0, 1, 3, 4
UNFILLED_IN_SORT, UNFILLED_IN_SESSION, UNFILLED_IN_COUNT = 5, 6, 7
UNFILLED_OUT_COUNT: Final = 5
UNFILLED_NUMBER, UNFILLED_ORIGINAL, UNFILLED_CODE, UNFILLED_NAME = 1, 2, 3, 4
UNFILLED_QUANTITY, UNFILLED_PRICE, UNFILLED_FILLED, UNFILLED_REMAINING, UNFILLED_SIDE = 6, 7, 8, 11, 13
PAGE_MAX: Final = 20

# ----- CpTd5341 today's orders (unverified: public sample code): 20 a request, paged with Continue
DAY_IN_ACCOUNT, DAY_IN_GOODS, DAY_IN_CODE, DAY_IN_COUNT = 0, 1, 2, 5
DAY_OUT_COUNT: Final = 6
DAY_NUMBER, DAY_ORIGINAL, DAY_CODE, DAY_QUANTITY, DAY_PRICE = 1, 2, 3, 7, 8
DAY_FILLED, DAY_FILL_PRICE, DAY_REJECTION, DAY_REMAINING, DAY_SIDE, DAY_KIND = 9, 11, 14, 22, 35, 36
KIND_NORMAL, KIND_MODIFY, KIND_CANCEL = "1", "2", "3"  # 정정취소구분 (as CpConclusion header 16)

# ----- CpTd6033 positions (ref 2.8): 50 a request, paged with Continue
POSITIONS_IN_ACCOUNT, POSITIONS_IN_GOODS, POSITIONS_IN_COUNT = 0, 1, 2
POSITIONS_OUT_COUNT: Final = 7
POSITION_NAME, POSITION_QUANTITY, POSITION_CODE, POSITION_SELLABLE, POSITION_AVERAGE = 0, 7, 12, 15, 17
POSITIONS_PAGE: Final = 50

# ----- CpTdNew5331A orderable cash: header 9 (ref), header 10 the deposit (unverified)
ORDERABLE_IN_ACCOUNT, ORDERABLE_IN_GOODS = 0, 1
ORDERABLE_OUT_CASH, ORDERABLE_OUT_DEPOSIT = 9, 10

# ----- MarketEye batch quotes (ref 2.2): input 0 field ids, 1 codes; header 2 count; data by field position
EYE_IN_FIELDS, EYE_IN_CODES = 0, 1
EYE_OUT_COUNT: Final = 2
EYE_CODE, EYE_TIME, EYE_PRICE, EYE_OPEN, EYE_HIGH, EYE_LOW, EYE_VOLUME = 0, 1, 4, 5, 6, 7, 10
EYE_PREVIOUS_CLOSE: Final = 23  # (unverified)
EYE_FIELDS: Final = (
    EYE_CODE,
    EYE_TIME,
    EYE_PRICE,
    EYE_OPEN,
    EYE_HIGH,
    EYE_LOW,
    EYE_VOLUME,
    EYE_PREVIOUS_CLOSE,
)
EYE_MAX_CODES: Final = 200

# ----- StockChart (ref 2.7): newest first, paged with Continue
CHART_IN_CODE, CHART_IN_BY, CHART_IN_END, CHART_IN_START, CHART_IN_COUNT = 0, 1, 2, 3, 4
CHART_IN_FIELDS, CHART_IN_KIND, CHART_IN_PERIOD, CHART_IN_ADJUSTED = 5, 6, 7, 9
CHART_OUT_COUNT: Final = 3
CHART_DATE, CHART_TIME, CHART_OPEN, CHART_HIGH, CHART_LOW, CHART_CLOSE, CHART_VOLUME, CHART_VALUE = (
    0,
    1,
    2,
    3,
    4,
    5,
    8,
    9,
)
CHART_FIELDS: Final = (
    CHART_DATE,
    CHART_TIME,
    CHART_OPEN,
    CHART_HIGH,
    CHART_LOW,
    CHART_CLOSE,
    CHART_VOLUME,
    CHART_VALUE,
)
CHART_BY_PERIOD: Final = "1"
CHART_DAILY, CHART_MINUTE = "D", "m"

# ----- CpConclusion events (ref 2.5)
EVENT_QUANTITY, EVENT_PRICE, EVENT_NUMBER, EVENT_ORIGINAL, EVENT_ACCOUNT, EVENT_CODE = 3, 4, 5, 6, 7, 9
EVENT_SIDE, EVENT_STATUS, EVENT_KIND, EVENT_PRICE_TYPE, EVENT_BALANCE = 12, 14, 16, 18, 23
STATUS_FILL, STATUS_CONFIRM, STATUS_REJECT, STATUS_ACCEPT = "1", "2", "3", "4"

# ----- StockCur real-time trades (ref 2.6)
CUR_CODE, CUR_CHANGE, CUR_OPEN, CUR_HIGH, CUR_LOW, CUR_VOLUME, CUR_PRICE, CUR_TIME, CUR_SESSION = (
    0,
    2,
    4,
    5,
    6,
    9,
    13,
    18,
    19,
)
CUR_REGULAR: Final = ord("2")  # header 19: '2' is the regular session (else an expected auction price)


def creon_code(code: StockCode) -> str:
    """``005930`` -> ``A005930`` (Creon names stocks with an ``A`` in front)."""
    return f"A{code}"


def stock_code(text: object) -> StockCode:
    """``A005930`` (or ``005930``) -> ``StockCode('005930')``."""
    raw = str(text).strip()
    if len(raw) == 7 and raw[0] in "AJQ":
        raw = raw[1:]
    try:
        return StockCode(raw)
    except ValueError:
        raise FatalBrokerError(f"Creon code {text!r}: expected A and six characters") from None


def text_code(value: object) -> str:
    """Creon returns one-character codes as characters or as their ordinal: both to text."""
    if isinstance(value, int) and value > 9:
        return chr(value)
    return str(value).strip()
