"""The crash test (issue 5): a replayed trading day against the simulated exchange in its own process, maemae
killed with SIGKILL at random points and restarted, must end exactly where a run without crashes ends:
the same orders at the exchange (none sent twice), every fill stored once, positions and cash equal to the
exchange's, and an intact audit chain.

The normal run kills 2 × 25 times; ``make chaos`` sets MAEMAE_CHAOS_KILLS=250 for 500 kills.
"""

from __future__ import annotations

import json
import os
import random
from datetime import date
from pathlib import Path

import pytest

from maemae.brokers.sim.remote import RemoteExchange
from maemae.execution.order_manager import SETTLED_BY_QUERY
from maemae.ports.broker import BrokerOrder
from maemae.store.repository import SqlStateStore
from tests.backtest.conftest import make_config
from tests.backtest.test_modes_parity import CONFIGS
from tests.store.crash_harness import Setup, exchange_process, store_url, trader_life

DAY = date(2025, 12, 3)
KILLS = int(os.environ.get("MAEMAE_CHAOS_KILLS", "25"))


def _exchange_view(address: tuple[str, int], authkey: bytes) -> tuple[list[BrokerOrder], list, list, object]:
    from datetime import datetime, time

    from maemae.domain.clock_time import KST

    remote = RemoteExchange(address, authkey, lambda: datetime.combine(DAY, time(23), tzinfo=KST))
    try:
        return remote.all_orders(), remote.fills_today(), remote.holdings(), remote.cash()
    finally:
        remote.close()


def _order_terms(order: BrokerOrder) -> tuple[object, ...]:
    return (
        order.client_order_id,
        order.code,
        order.side,
        order.quantity,
        order.price,
        order.order_type,
        order.filled_quantity,
        order.status,
        order.submitted_at,
    )


@pytest.fixture(scope="module")
def reference(market_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The same day without a crash: what every crashed run must end with."""
    config = make_config(market_root, **CONFIGS["all_risk_rules"])
    directory = tmp_path_factory.mktemp("reference")
    with exchange_process(config) as (address, authkey):
        setup = Setup(config, DAY, store_url(directory, "state.db"), authkey)
        life = trader_life(setup, address, None)
        orders, fills, holdings, cash = _exchange_view(address, authkey)
    assert life.points
    assert life.points > 100
    assert len(orders) >= 10
    assert len(fills) >= 10
    return {
        "config": config,
        "points": life.points,
        "orders": orders,
        "fills": fills,
        "holdings": holdings,
        "cash": cash,
    }


@pytest.mark.whole_day
@pytest.mark.parametrize("seed", [1, 2])
def test_crash_when_killed_at_random_points_then_no_duplicate_order_no_lost_fill(
    reference: dict[str, object], tmp_path: Path, seed: int
) -> None:
    """Days are replayed, each against a fresh exchange and database, with kills at random points until the
    day is done; then the next day-run starts, until KILLS kills have happened."""
    chooser = random.Random(seed)
    kills = runs = 0
    while kills < KILLS:
        runs += 1
        kills += _day_with_kills(reference, tmp_path / f"run{runs}", chooser, KILLS - kills)
    assert kills == KILLS


def _day_with_kills(reference: dict[str, object], directory: Path, chooser: random.Random, most: int) -> int:
    config, total = reference["config"], int(reference["points"])  # type: ignore[call-overload]
    directory.mkdir()
    kills = 0
    with exchange_process(config) as (address, authkey):  # type: ignore[arg-type]
        setup = Setup(config, DAY, store_url(directory, "state.db"), authkey)  # type: ignore[arg-type]
        while kills < most:
            # mostly near points (recovery itself, the next steps), sometimes far into the day
            reach = total // 10 if chooser.random() < 0.7 else total // 3
            if not trader_life(setup, address, chooser.randint(1, max(reach, 2))).killed:
                break
            kills += 1
        assert not trader_life(setup, address, None).killed
        orders, fills, holdings, cash = _exchange_view(address, authkey)
    store = SqlStateStore(setup.url)
    try:
        _assert_consistent(store, orders, fills, holdings, cash)
        saved = store.load(DAY)
        by_query = [  # transitions a restart settled by asking the broker, not from its events
            line.note
            for order in saved.orders
            for line in order.history
            if line.note.startswith(SETTLED_BY_QUERY)
        ]
        _write_stats(kills, by_query, store.audit_entries())
    finally:
        store.close()
    if not by_query:
        # Recovery settled nothing by query: the day is exactly the uncrashed day. (When it did, a fact was
        # learnt at another step than in the uncrashed run, e.g. a cancel confirmed by a query before the next
        # event poll, or an order saved but never sent; timing may then differ, the checks above may not.)
        assert sorted(map(_order_terms, orders)) == sorted(map(_order_terms, reference["orders"]))  # type: ignore[arg-type]
        assert sorted(f.fill_id for f in fills) == sorted(f.fill_id for f in reference["fills"])  # type: ignore[attr-defined]
    return kills


def _write_stats(kills: int, by_query: list[str], audit: list) -> None:
    """With MAEMAE_CHAOS_STATS=FILE, one JSON line per day-run of what the kills made recovery do."""
    target = os.environ.get("MAEMAE_CHAOS_STATS")
    if not target:
        return
    recoveries = [entry.data for entry in audit if entry.kind == "recovery"]
    stats = {
        "kills": kills,
        "recoveries_completed": len(recoveries),
        "submits_found_at_broker": sum("found at the broker" in n for n in by_query),
        "submits_never_sent": sum("never sent" in n for n in by_query),
        "modifies_found_at_broker": sum("modified at the broker" in n for n in by_query),
        "cancels_or_modifies_lost": sum("never reached the broker" in n for n in by_query),
        "orders_closed_by_status": sum("broker reports" in n for n in by_query),
        "fills_recovered_by_query": sum(len(r["recovered_fills"]) for r in recoveries),
        "reconcile_differences": sum(len(r["differences"]) for r in recoveries),
    }
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(stats) + "\n")


def _assert_consistent(
    store: SqlStateStore, orders: list[BrokerOrder], fills: list, holdings: list, cash: object
) -> None:
    """What must hold after any crashes: no order sent twice or unknown to maemae, no fill lost or doubled,
    positions and cash equal to the exchange's, nothing left open, the audit chain intact."""
    saved = store.load(DAY)
    by_id = {order.order_id: order for order in saved.orders}
    # every order at the exchange is one of maemae's, sent once: a client id has more than one exchange
    # order only through modifies, each replacing the last (one working at a time, numbers in order)
    chains: dict[str, list[BrokerOrder]] = {}
    for order in orders:
        assert order.client_order_id in by_id, f"exchange order {order.broker_order_no} unknown to maemae"
        chains.setdefault(order.client_order_id, []).append(order)
    for client_id, chain in chains.items():
        mine = by_id[client_id]
        assert len(chain) == 1 + sum(1 for t in mine.history if t.event.value == "modify_confirmed")
        assert mine.broker_order_no == max(chain, key=lambda o: o.broker_order_no).broker_order_no
        assert mine.filled_quantity == sum(o.filled_quantity for o in chain)
    sent_states = {
        "accepted",
        "partially_filled",
        "filled",
        "cancelled",
        "expired",
        "pending_cancel",
        "pending_modify",
    }
    assert {o.order_id for o in saved.orders if o.state.value in sent_states} == set(chains)
    assert not [o.order_id for o in saved.orders if o.is_open], "an order is still open after the close"
    # every fill once, none lost
    stored = store.fills(DAY)
    assert sorted(f.fill_id for f in stored) == sorted(f.fill_id for f in fills)
    # positions and cash as the exchange has them
    owned = {p.code: p.owned_quantity for p in saved.positions if p.owned_quantity}
    assert owned == {h.code: h.quantity for h in holdings}
    assert {p.code: p.account_quantity for p in saved.positions if p.account_quantity} == owned
    assert saved.account is not None
    assert saved.account.account.settled_cash == cash.deposit  # type: ignore[attr-defined]
    assert store.verify_audit().ok
