"""The adapter contract against a real Creon Plus: opt-in, never run in CI (it needs Windows).

Run it on the Windows machine where Creon Plus is logged in, from an administrator prompt, in 32-bit Python
with pywin32 (docs/brokers/creon.md)::

    set MAEMAE_CREON_LIVE=1
    .venv\\Scripts\\pytest -m creon_live tests\\brokers\\creon\\test_creon_live.py

Log Creon Plus in to the **모의투자 (paper) server** for this: maemae cannot tell the two servers apart. It
places an order only when ``MAEMAE_CREON_LIVE_ORDERS=1`` too: one share of Samsung Electronics at 70 % of
the current price (below the day's lower limit is refused, so this is at most 30 % below), cancelled at once.
These tests also check the COM indices marked unverified in ``brokers/creon/protocol.py``.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta

import pytest

from maemae.brokers.creon.adapter import CreonBroker
from maemae.brokers.creon.com import Win32Runtime
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.krx.ticks import round_up_to_tick
from maemae.ports.broker import BrokerOrderStatus, OrderRequest

pytestmark = [
    pytest.mark.creon_live,
    pytest.mark.skipif(
        os.environ.get("MAEMAE_CREON_LIVE") != "1" or sys.platform != "win32",
        reason="set MAEMAE_CREON_LIVE=1 on Windows with Creon Plus logged in",
    ),
]

SAMSUNG = StockCode("005930")


@pytest.fixture(scope="module")
def creon() -> CreonBroker:
    return CreonBroker(Win32Runtime(), clock=lambda: datetime.now(KST), trade_codes=[str(SAMSUNG)])


def test_live_account_queries(creon: CreonBroker) -> None:
    cash = creon.cash()
    assert cash.deposit >= 0
    assert cash.orderable >= 0
    for holding in creon.holdings():
        assert 0 <= holding.sellable_quantity <= holding.quantity
    quote = creon.current_prices([SAMSUNG])[SAMSUNG]
    assert quote.price > 0
    assert quote.low <= quote.price <= quote.high
    assert quote.base_price > 0  # MarketEye field 23 (unverified): the previous close
    creon.open_orders()
    creon.day_orders()
    creon.fills_today()


def test_live_bars(creon: CreonBroker) -> None:
    today = datetime.now(KST).date()
    daily = creon.daily_bars(SAMSUNG, today - timedelta(days=40), today)
    assert len(daily) > 20
    assert (daily["high"] >= daily["low"]).all()
    minutes = creon.minute_bars(SAMSUNG, daily["ts"].iloc[-2].date())
    assert len(minutes) > 300


@pytest.mark.skipif(
    os.environ.get("MAEMAE_CREON_LIVE_ORDERS") != "1", reason="set MAEMAE_CREON_LIVE_ORDERS=1"
)
def test_live_order_placed_found_and_cancelled(creon: CreonBroker) -> None:
    quote = creon.current_prices([SAMSUNG])[SAMSUNG]
    today = datetime.now(KST).date()
    price = round_up_to_tick(quote.price * 7 // 10, today)
    ack = creon.submit(OrderRequest("live-test", SAMSUNG, Side.BUY, 1, OrderType.LIMIT, price))
    found = creon.order_status(ack.broker_order_no)  # CpTd5341 (unverified indices)
    assert found is not None
    assert found.status is BrokerOrderStatus.WORKING
    assert found.quantity == 1
    assert found.price == price
    assert [o for o in creon.open_orders() if o.broker_order_no == ack.broker_order_no]
    creon.cancel(ack.broker_order_no, SAMSUNG)
    after = creon.order_status(ack.broker_order_no)
    assert after is not None
    assert after.status is not BrokerOrderStatus.WORKING
    cancelled = [e for e in creon.poll_events() if e.broker_order_no == ack.broker_order_no]
    assert cancelled  # CpConclusion's confirmation of the cancel (or the day's orders saying so)
