"""A paper run over a replayed day with injected faults: a trade made outside maemae in the account, rejected
orders, a failing balance query, partial fills (the volume cap). The day completes, the external shares are
reconciled, audited and never sold, and maemae's books match the exchange's at the close."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from maemae.backtest.service import load_market
from maemae.brokers.sim.exchange import SimExchange
from maemae.brokers.sim.matching import MarketBar
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.order_states import OrderState
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.replay import run_persisted_replay
from maemae.errors import OrderRejected, RetryableBrokerError
from maemae.ports.broker import Holding, OrderAck, OrderRequest
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config
from tests.backtest.test_modes_parity import CONFIGS

DAY = date(2025, 12, 3)
OUTSIDE = StockCode("137630")  # a stock maemae also trades that day
EXTERNAL_SHARES = 50


class FaultyExchange:
    """The simulated exchange with faults injected at chosen moments."""

    def __init__(self, exchange: SimExchange) -> None:
        self.exchange = exchange
        self.external_done = False
        self.submits = 0
        self.injected_rejects = 0
        self.holdings_failures = 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.exchange, name)

    def on_bar(self, code: StockCode, bar: MarketBar) -> None:
        self.exchange.on_bar(code, bar)
        if not self.external_done and bar.start.time() >= time(10, 30):
            self.exchange.external_trade(OUTSIDE, Side.BUY, EXTERNAL_SHARES, bar.close)
            self.external_done = True

    def submit(self, request: OrderRequest) -> OrderAck:
        self.submits += 1
        if self.submits % 4 == 0:
            self.injected_rejects += 1
            raise OrderRejected("injected: the broker refused the order")
        return self.exchange.submit(request)

    def holdings(self) -> list[Holding]:
        if self.holdings_failures:
            self.holdings_failures -= 1
            raise RetryableBrokerError("injected: balance query timed out")
        return self.exchange.holdings()


@pytest.mark.whole_day
def test_paper_when_faults_injected_then_day_completes_and_books_match(
    market_root: Path, tmp_path: Path
) -> None:
    config = make_config(market_root, **CONFIGS["all_risk_rules"])
    market, days = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
    faulty = FaultyExchange(make_sim_exchange(config, market.calendar, market.instruments, clock.now))
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        outcome = run_persisted_replay(config, market, days, faulty, store, clock)  # type: ignore[arg-type]
        engine = outcome.engine
        assert faulty.external_done
        assert faulty.injected_rejects >= 2
        assert engine.orders.broker.retries >= 1  # type: ignore[attr-defined]
        orders = list(engine.orders.orders.values())
        assert sum(1 for o in orders if o.state is OrderState.REJECTED) == faulty.injected_rejects
        assert any(0 < o.filled_quantity < o.quantity for o in orders)  # partial fills happened
        # the external shares: reconciled into the account quantity, never owned, never sold
        position = engine.portfolio.positions[OUTSIDE]
        assert position.account_quantity == position.owned_quantity + EXTERNAL_SHARES
        bought = sum(o.filled_quantity for o in orders if o.code == OUTSIDE and o.side is Side.BUY)
        sold = sum(o.filled_quantity for o in orders if o.code == OUTSIDE and o.side is Side.SELL)
        assert sold <= bought
        reconciled = [e for e in store.audit_entries() if e.kind == "reconcile" and e.subject == str(OUTSIDE)]
        assert reconciled
        assert reconciled[0].data["field"] == "account_quantity"
        assert reconciled[0].data["broker"] - reconciled[0].data["maemae"] == EXTERNAL_SHARES
        # at the close maemae's books are the exchange's
        held = {h.code: h.quantity for h in faulty.exchange.holdings()}
        assert {
            c: p.account_quantity for c, p in engine.portfolio.positions.items() if p.account_quantity
        } == held
        assert engine.portfolio.account.settled_cash == faulty.exchange.cash().deposit
        saved = store.load(DAY)
        assert {p.code: p.account_quantity for p in saved.positions if p.account_quantity} == held
        assert store.verify_audit().ok
    finally:
        store.close()
