"""The local KIS server's balance totals (``inquire-balance`` output2) add up as KIS documents them.

KIS: ``tot_evlu_amt`` (총평가금액) = the holdings' value (유가증권 평가금액 합계금액) + the D+2 deposit
(``prvs_rcdl_excc_amt``). The mock added the D+0 deposit instead (``dnca_tot_amt``), which still holds the
won of today's buys: the reviewer's account showed 147,275,096 won for about 99.6 M.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from maemae.brokers.kis import protocol
from maemae.brokers.kis.mock.venue import KisMockVenue
from maemae.domain.enums import OrderType, Side
from maemae.ports.broker import OrderRequest
from tests.brokers.conftest import CASH, Feed, Market

BALANCE_PARAMS = {
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


def test_mock_balance_when_bought_today_then_total_is_holdings_plus_d2_deposit_not_d0(
    connect: Callable[..., KisMockVenue], feed: Feed, market: Market
) -> None:
    venue = connect(websocket=False)
    feed.open(venue)
    feed.until(venue, time(9, 5))
    for code in market.codes[:3]:
        venue.submit(OrderRequest(f"b{code}", code, Side.BUY, 100, OrderType.MARKET, None))
    feed.until(venue, time(9, 10))
    paid = sum(o.filled_amount or 0 for o in venue.day_orders())
    assert paid > 0
    account = {"CANO": venue.rest.credentials.account, "ACNT_PRDT_CD": venue.rest.credentials.product_code}
    body = venue.rest.get(protocol.BALANCE_PATH, protocol.BALANCE, {**account, **BALANCE_PARAMS}).body
    holdings = sum(int(row["evlu_amt"]) for row in body["output1"])
    totals = {key: int(value) for key, value in body["output2"][0].items()}
    assert totals["dnca_tot_amt"] == CASH  # D+0: today's buys are not paid before D+2
    commission = CASH - paid - totals["prvs_rcdl_excc_amt"]  # D+2: paid for, with the commission
    assert 0 < commission < paid * 0.001
    assert totals["scts_evlu_amt"] == totals["evlu_amt_smtl_amt"] == holdings
    assert totals["tot_evlu_amt"] == totals["prvs_rcdl_excc_amt"] + holdings
    assert totals["nass_amt"] == totals["tot_evlu_amt"]
    assert abs(totals["tot_evlu_amt"] - CASH) < paid * 0.05  # the account is worth what it was, not more
