"""``SimExchange.carry_over``: a new simulated exchange takes over its predecessor's book as the store kept
it (``engine.sim_book``), and goes on exactly where that exchange would have: the same orders working and
their cash reserved, order numbers and fill ids that go on from the predecessor's, and orders of a day that
never reached its close expiring when the next day opens."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from maemae.brokers.sim.exchange import SimExchange
from maemae.data.instruments import Instrument
from maemae.domain.account import Account, PendingSettlement
from maemae.domain.enums import Market, OrderType, Side
from maemae.krx.calendar import default_calendar
from maemae.krx.costs import CostModel
from maemae.ports.broker import BrokerFill, BrokerOrder, BrokerOrderStatus, OrderRequest, OrderUpdate
from tests.brokers.test_sim_exchange import CODE, DAY, LIMITS, Clock, at, bar, buy

NEXT_DAY = date(2025, 3, 5)
COSTS = CostModel(Decimal("0.00015"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim_before_its_day(clock: Clock) -> SimExchange:
    """A new exchange, as a restarted run makes it: its first day not started yet."""
    return SimExchange(
        clock=clock,
        calendar=default_calendar(),
        costs=COSTS,
        instruments={CODE: Instrument(CODE, "삼성전자", Market.KOSPI)},
        initial_cash=100_000_000,
    )


def _shown(number: str, request: OrderRequest, status: BrokerOrderStatus, filled: int = 0) -> BrokerOrder:
    return BrokerOrder(
        number,
        request.code,
        request.side,
        request.quantity,
        request.price,
        request.order_type,
        filled,
        status,
        at(9, 5),
        request.client_order_id,
        filled_amount=filled * (request.price or 0),
    )


def _predecessor_book(sim: SimExchange) -> tuple[OrderRequest, OrderRequest]:
    """Hand ``sim`` a book: 50,000,000 won settled and 2,000,000 won of a sale pending, 30 shares, a filled
    order S0000007, and two buys working, S0000008 (limit, 4 of 10 filled) and S0000009 (market); three of
    the day's fills made."""
    limit_buy = buy(10, 70_000)
    market_buy = OrderRequest("c3", CODE, Side.BUY, 5, OrderType.MARKET, None)
    account = Account(50_000_000, [PendingSettlement(date(2025, 3, 6), 2_000_000)])
    orders = [
        (buy(26, 69_000), _shown("S0000007", buy(26, 69_000), BrokerOrderStatus.FILLED, 26)),
        (limit_buy, _shown("S0000008", limit_buy, BrokerOrderStatus.WORKING, 4)),
        (market_buy, _shown("S0000009", market_buy, BrokerOrderStatus.WORKING)),
    ]
    sim.carry_over(DAY, account, {CODE: (30, 2_080_000)}, orders, 3)
    return limit_buy, market_buy


def test_carry_over_when_the_same_day_goes_on_then_orders_work_cash_is_reserved_and_ids_go_on(
    sim_before_its_day: SimExchange, clock: Clock
) -> None:
    sim = sim_before_its_day
    _predecessor_book(sim)
    sim.start_day(DAY, {CODE: 70_000})
    assert [o.broker_order_no for o in sim.open_orders()] == ["S0000008", "S0000009"]
    # the limit buy's 6 left at 70,000 and the market buy's 5 at the upper limit, each with its commission
    limit_part, market_part = 6 * 70_000, 5 * LIMITS.upper
    reserved = limit_part + market_part + COSTS.commission(limit_part) + COSTS.commission(market_part)
    assert sim.cash().deposit == 50_000_000
    assert sim.cash().orderable == 52_000_000 - reserved
    assert sim.holdings()[0].quantity == 30
    assert sim.order_status("S0000007").filled_quantity == 26  # type: ignore[union-attr]
    clock.now = at(9, 10)
    sim.on_bar(CODE, bar(10, 69_900, 70_100, 69_800, 70_000, v=10_000))
    fills = [e for e in sim.poll_events() if isinstance(e, BrokerFill)]
    assert [(f.fill_id, f.broker_order_no, f.quantity) for f in fills] == [
        ("20250304-000004", "S0000008", 6),  # the fourth fill of the day, not a second "first"
        ("20250304-000005", "S0000009", 5),
    ]
    assert sim.submit(buy(1, 69_000)).broker_order_no == "S0000010"  # numbers go on from the highest


def test_carry_over_when_the_next_day_starts_then_the_old_orders_expire_and_the_sale_settles(
    sim_before_its_day: SimExchange,
) -> None:
    sim = sim_before_its_day
    _predecessor_book(sim)
    sim.start_day(NEXT_DAY, {CODE: 70_000})
    expired = [e for e in sim.poll_events() if isinstance(e, OrderUpdate)]
    assert [(e.broker_order_no, e.status, e.cancelled_quantity) for e in expired] == [
        ("S0000008", BrokerOrderStatus.EXPIRED, 6),
        ("S0000009", BrokerOrderStatus.EXPIRED, 5),
    ]
    assert sim.open_orders() == []
    # nothing reserved; the sale settles on the 6th, and is orderable before it settles (as at KRX)
    assert (sim.cash().deposit, sim.cash().orderable) == (50_000_000, 52_000_000)
    assert sim.holdings()[0].quantity == 30
