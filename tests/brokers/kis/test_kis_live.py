"""The adapter contract against a real KIS **paper** (모의투자) account: opt-in, never run in CI.

Run it with your paper keys in the environment (docs/brokers/kis.md)::

    MAEMAE_KIS_LIVE=1 KIS_APP_KEY=... KIS_APP_SECRET=... KIS_ACCOUNT=... KIS_HTS_ID=... \\
        .venv/bin/pytest -m kis_live tests/brokers/kis/test_kis_live.py

It talks to KIS's paper server only (``paper = true`` is forced), and places an order only when
``MAEMAE_KIS_LIVE_ORDERS=1`` too: one share of Samsung Electronics at the day's lower limit price, which
is then cancelled.
"""

from __future__ import annotations

import os
import time as wall
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from maemae.brokers.kis import protocol
from maemae.brokers.kis.adapter import KisBroker
from maemae.config.broker import KisBrokerConfig
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.ports.broker import BrokerOrderStatus, OrderRequest

pytestmark = [
    pytest.mark.kis_live,
    pytest.mark.skipif(
        os.environ.get("MAEMAE_KIS_LIVE") != "1" or not os.environ.get("KIS_APP_KEY"),
        reason="set MAEMAE_KIS_LIVE=1 and the KIS_* paper keys to run against KIS's paper server",
    ),
]

SAMSUNG = StockCode("005930")


@pytest.fixture(scope="module")
def kis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KisBroker]:
    cache = Path(os.environ.get("MAEMAE_KIS_TOKEN_CACHE", tmp_path_factory.mktemp("kis") / "token.json"))
    config = KisBrokerConfig(paper=True, token_cache=cache, requests_per_second=2)
    assert config.paper  # never the real server from a test
    broker = KisBroker.from_config(config, clock=lambda: datetime.now(KST), trade_codes=[str(SAMSUNG)])
    yield broker
    broker.close()


def test_live_account_queries(kis: KisBroker) -> None:
    cash = kis.cash()
    assert cash.deposit >= 0
    assert cash.orderable >= 0
    for holding in kis.holdings():
        assert 0 <= holding.sellable_quantity <= holding.quantity
    quote = kis.quote(SAMSUNG)
    assert quote.price > 0
    assert kis.current_prices([SAMSUNG])[SAMSUNG].price > 0
    kis.open_orders()
    kis.fills_today()


def test_live_bars(kis: KisBroker) -> None:
    today = datetime.now(KST).date()
    daily = kis.daily_bars(
        SAMSUNG, today.replace(day=1) if today.day > 10 else today.replace(month=1, day=1), today
    )
    assert len(daily) > 0
    assert (daily["high"] >= daily["low"]).all()


def test_live_stream_connects_and_subscribes(kis: KisBroker) -> None:
    assert kis.stream is not None
    deadline = wall.monotonic() + 15
    while not kis.stream.connected.is_set():
        assert wall.monotonic() < deadline, "the KIS WebSocket did not connect"
        wall.sleep(0.2)


@pytest.mark.skipif(os.environ.get("MAEMAE_KIS_LIVE_ORDERS") != "1", reason="set MAEMAE_KIS_LIVE_ORDERS=1")
def test_live_order_placed_found_and_cancelled(kis: KisBroker) -> None:
    quote = kis.quote(SAMSUNG)
    row = kis.rest.get(
        protocol.PRICE_PATH, protocol.PRICE, {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": str(SAMSUNG)}
    ).body["output"]
    lower = int(row["stck_llam"])  # the day's lower limit: a buy there does not fill on a normal day
    assert 0 < lower < quote.price
    ack = kis.submit(OrderRequest("live-test", SAMSUNG, Side.BUY, 1, OrderType.LIMIT, lower))
    found = kis.order_status(ack.broker_order_no)
    assert found is not None
    assert found.status is BrokerOrderStatus.WORKING
    assert [o for o in kis.find_orders(SAMSUNG, Side.BUY) if o.broker_order_no == ack.broker_order_no]
    kis.cancel(ack.broker_order_no, SAMSUNG)
    after = kis.order_status(ack.broker_order_no)
    assert after is not None
    assert after.status is not BrokerOrderStatus.WORKING
