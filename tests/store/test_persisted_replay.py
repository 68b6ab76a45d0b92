"""The persisted replay trades exactly like the in-memory backtest, and a restart after the last day changes
nothing (the store says where it stands)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select

from maemae.backtest.service import load_market, run_backtest
from maemae.domain.clock_time import KST
from maemae.engine.clock import SimulatedClock
from maemae.engine.composition import make_sim_exchange
from maemae.engine.replay import run_persisted_replay
from maemae.store import schema
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config
from tests.backtest.test_modes_parity import CONFIGS

START, END = date(2025, 12, 2), date(2025, 12, 4)


def test_persisted_replay_when_run_then_same_orders_fills_and_days_as_the_backtest(
    market_root: Path, tmp_path: Path
) -> None:
    config = make_config(market_root, **CONFIGS["all_risk_rules"])
    backtest = run_backtest(config, start=START, end=END, every_bar=True)
    market, days = load_market(config, START, END)
    clock = SimulatedClock(datetime.combine(days[0], time(0), tzinfo=KST))
    venue = make_sim_exchange(config, market.calendar, market.instruments, clock.now)
    store = SqlStateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        outcome = run_persisted_replay(config, market, days, venue, store, clock)

        def terms(orders: object) -> list[tuple[object, ...]]:
            return sorted(
                (
                    o.order_id,
                    o.code,
                    o.side,
                    o.quantity,
                    o.limit_price,
                    o.state,
                    o.filled_quantity,
                    o.filled_amount,
                )
                for o in orders  # type: ignore[attr-defined]
            )

        assert terms(outcome.engine.orders.orders.values()) == terms(backtest.engine.orders.orders.values())
        assert len(backtest.recorder.fills) > 10
        stored_fills = [f for day in days for f in store.fills(day)]
        assert sorted(f.fill_id for f in stored_fills) == sorted(f.fill_id for f in backtest.recorder.fills)
        saved = store.load(days[-1])
        assert terms(o for o in saved.orders if o.created_at.date() == days[-1]) == terms(
            o for o in backtest.engine.orders.orders.values() if o.created_at.date() == days[-1]
        )
        with store.engine.connect() as connection:
            results = connection.execute(
                select(schema.daily_results).order_by(schema.daily_results.c.trading_day)
            )
            equity = [(row.trading_day, row.equity) for row in results]
        assert equity == [(record.day, record.equity) for record in backtest.recorder.days]
        assert store.verify_audit().ok
        audit_kinds = {entry.kind for entry in store.audit_entries()}
        assert {"order", "denial", "fill", "recovery"} <= audit_kinds

        # a restart after the last day: recovery finds nothing to do and no step is taken again
        records = store.verify_audit().records
        again = run_persisted_replay(config, market, days, venue, store, SimulatedClock(clock.now()))
        assert again.recovery.found == again.recovery.never_sent == again.recovery.recovered_fills == []
        assert again.recovery.differences == []
        assert len(store.order_ids()) == len(backtest.engine.orders.orders)
        assert store.verify_audit().records == records + 1  # only the recovery record itself
    finally:
        store.close()
