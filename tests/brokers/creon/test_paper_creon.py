"""A replayed day through the Creon adapter over the fake COM layer: on the live loop, and with Creon's faults
injected, where it completes with maemae's book equal to the fake's (the fault-free paper day:
tests/brokers/test_paper_parity.py)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from maemae.backtest.service import load_market
from maemae.brokers.creon.fake.venue import FakeCreonVenue
from maemae.brokers.creon.fake.world import FakeCreon
from maemae.brokers.sim.matching import MarketBar
from maemae.cli import main
from maemae.config import load_config
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.order_states import OrderState
from maemae.engine.books import book_differences
from maemae.engine.clock import SimulatedClock
from maemae.engine.replay import run_persisted_replay
from maemae.engine.runtime import RunOptions, check_mode, needs_confirmation, run_trading_day
from maemae.engine.venues import exchange_factory
from maemae.errors import BrokerConnectionLost, ConfigError
from maemae.execution.order_manager import SETTLED_BY_QUERY
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config
from tests.backtest.test_modes_parity import CONFIGS
from tests.engine.test_run import _config as run_config

DAY = date(2025, 12, 3)
OUTSIDE = StockCode("137630")
EXTERNAL_SHARES = 50


def test_run_when_replayed_through_the_creon_adapter_then_closes_with_book_equal(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = run_config(market_root, tmp_path)
    args = ["run", "--config", str(config_file), "--replay", DAY.isoformat(), "--broker", "creon-fake"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"{DAY}: the day is closed" in out
    assert "orders 0," not in out


class FaultyCreonVenue(FakeCreonVenue):
    """The fake Creon with a fault at chosen market times."""

    schedule: ClassVar[list[tuple[time, dict[str, Any]]]] = [
        (time(9, 0), {"lost_replies": 2}),
        (time(9, 40), {"limit_hits": 3}),
        (time(10, 0), {"lost_events": 4}),
        (time(10, 30), {"external": True}),
        (time(11, 0), {"refuse_orders": 1}),
    ]

    def on_bar(self, code: StockCode, bar: MarketBar) -> None:
        super().on_bar(code, bar)
        while self.schedule and bar.start.time() >= self.schedule[0][0]:
            _, action = self.schedule.pop(0)
            if action.pop("external", False):
                self.external_trade(OUTSIDE, Side.BUY, EXTERNAL_SHARES, bar.close)
            for name, count in action.items():
                setattr(self.world.faults, name, count)


def test_paper_when_creon_faults_injected_then_day_completes_and_book_equals_the_fake(
    market_root: Path, tmp_path: Path
) -> None:
    config = make_config(market_root, **CONFIGS["all_risk_rules"])
    market, days = load_market(config, DAY, DAY)
    clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
    world = FakeCreon(exchange_factory(config, market))
    FaultyCreonVenue.schedule = list(FaultyCreonVenue.schedule)
    venue = FaultyCreonVenue(world, clock=clock.now, trade_codes=[str(c) for c in market.instruments])
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        outcome = run_persisted_replay(config, market, days, venue, store, clock)
        engine = outcome.engine
        assert not venue.schedule  # every fault was injected
        assert world.faults.lost_replies == world.faults.limit_hits == world.faults.lost_events == 0
        orders = list(engine.orders.orders.values())
        settled = [
            o for o in orders if any(f"{SETTLED_BY_QUERY} found at the broker" in t.note for t in o.history)
        ]
        assert len(settled) == 2  # the two orders whose replies were lost: found, not sent again
        position = engine.portfolio.positions[OUTSIDE]
        assert position.account_quantity == position.owned_quantity + EXTERNAL_SHARES
        assert all(o.state is not OrderState.UNKNOWN for o in orders)
        assert book_differences(engine.orders, engine.portfolio, venue, venue.all_orders()) == []
        assert store.verify_audit().ok
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_run_with_creon_when_not_on_windows_then_one_line_and_a_person_confirms_either_way(
    market_root: Path, tmp_path: Path, mode: str
) -> None:
    config = load_config(run_config(market_root, tmp_path, '[broker]\nkind = "creon"', mode=mode))
    check_mode(config, replay=False)  # Creon trades paper and live
    assert needs_confirmation(config)  # and a person confirms the first order in both
    morning = SimulatedClock(datetime.combine(DAY, time(8, 0), tzinfo=KST))
    with pytest.raises(ConfigError, match="Creon Plus runs on Windows only"):
        run_trading_day(config, RunOptions(clock=morning))


class DisconnectingCreonVenue(FakeCreonVenue):
    """Creon Plus loses its connection at 10:00 of the replayed day."""

    def on_bar(self, code: StockCode, bar: MarketBar) -> None:
        super().on_bar(code, bar)
        if bar.start.time() >= time(10, 0) and self.world.connected:
            self.world.disconnect()


def test_paper_when_creon_disconnects_then_state_saved_exit_and_a_restart_finishes_the_day(
    market_root: Path, tmp_path: Path
) -> None:
    config = make_config(market_root)
    market, days = load_market(config, DAY, DAY)
    world = FakeCreon(exchange_factory(config, market))
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
        first = DisconnectingCreonVenue(world, clock=clock.now)
        with pytest.raises(BrokerConnectionLost):  # the runtime's persist-and-exit path: exit 7
            run_persisted_replay(config, market, days, first, store, clock)
        saved = store.load(DAY)
        assert saved.runtime["cursor"]["day"] == DAY.isoformat()
        sent_before = [o.order_id for o in saved.orders if o.broker_order_no]
        assert sent_before
        # the supervisor's restart, once Creon Plus is logged in again: a new process, a new adapter
        world.connected = True
        clock = SimulatedClock(datetime.combine(DAY, time(0), tzinfo=KST))
        second = FakeCreonVenue(world, clock=clock.now)
        outcome = run_persisted_replay(config, market, days, second, store, clock)
        engine = outcome.engine
        assert outcome.resumed_at is not None
        assert outcome.days  # the day closed
        numbers = [o.broker_order_no for o in engine.orders.orders.values() if o.broker_order_no]
        assert len(numbers) == len(set(numbers))  # nothing was sent twice
        assert book_differences(engine.orders, engine.portfolio, second, second.all_orders()) == []
    finally:
        store.close()
