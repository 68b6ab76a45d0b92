"""A run that lost its store's instance lock sends nothing more: every submit, cancel and modify through the
guarded broker checks the lock first and stops the run (``InstanceLockLost``, exit 7) before the request
reaches the exchange; what the order manager had recorded is settled by a query at the next start. With a
real lock on SQLite, the real order manager and the simulated exchange."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from maemae.config import parse_config
from maemae.domain.enums import OrderType, Side
from maemae.domain.events import DomainEvent, OrderStateChanged
from maemae.domain.intents import OrderIntent
from maemae.domain.order import Order
from maemae.domain.order_states import OrderState
from maemae.engine.broker_wrapper import innermost
from maemae.engine.composition import build_core
from maemae.engine.confirmation import FirstOrderConfirmation
from maemae.engine.lock_guard import LockGuardedBroker
from maemae.engine.recovery import settle_in_doubt
from maemae.errors import InstanceLockLost
from maemae.krx.calendar import default_calendar
from maemae.ports.messages import OrderRequest
from maemae.ports.state import AuditEntry, StateChange
from maemae.store.instance_lock import instance_lock, lock_file
from maemae.store.repository import SqlStateStore
from tests.engine.one_stock import CODE, NOW, one_stock_exchange


def test_orders_when_the_lock_is_lost_then_nothing_reaches_the_exchange_and_recovery_settles_them(
    tmp_path: Path,
) -> None:
    exchange = one_stock_exchange()
    calendar = default_calendar()
    with instance_lock(f"sqlite:///{tmp_path / 'state.db'}") as lock:
        guarded = LockGuardedBroker(exchange, lock.check)
        core = build_core(parse_config({}), calendar, {}, guarded, resilient=True)
        assert innermost(guarded) is exchange
        working = core.orders.submit(OrderIntent(CODE, Side.BUY, 1, limit_price=69_000), 1, NOW)
        assert _state(working) is OrderState.ACCEPTED
        assert working.broker_order_no is not None
        seen: list[DomainEvent] = []
        core.orders.listeners.append(seen.append)

        os.remove(lock_file(tmp_path / "state.db"))

        with pytest.raises(InstanceLockLost) as lost:
            core.orders.submit(OrderIntent(CODE, Side.BUY, 2, limit_price=69_500), 2, NOW)
        with pytest.raises(InstanceLockLost):
            core.orders.cancel(working, NOW, "unfilled timeout")
        with pytest.raises(InstanceLockLost):
            guarded.modify(working.broker_order_no, CODE, 69_100)
        assert guarded.open_orders() == exchange.open_orders()  # reads still pass: recovery needs them

    assert lost.value.exit_code == 7
    assert [(o.quantity, o.price) for o in exchange.all_orders()] == [(1, 69_000)]  # nothing more reached it
    unsent = next(o for o in core.orders.orders.values() if o is not working)
    # recorded before the request, as every order is; left as they were for the next start to settle
    assert [e.new for e in seen if isinstance(e, OrderStateChanged)] == [
        OrderState.SUBMITTED,
        OrderState.PENDING_CANCEL,
    ]
    assert _state(unsent) is OrderState.SUBMITTED
    assert _state(working) is OrderState.PENDING_CANCEL
    found, never_sent = settle_in_doubt(core.orders, exchange, NOW)  # what recovery does after the restart
    assert (found, never_sent) == ([], [unsent.order_id])
    assert _state(unsent) is OrderState.REJECTED
    assert _state(working) is OrderState.ACCEPTED  # the cancel never reached the exchange: still working


def _state(order: Order) -> OrderState:
    """The order's state now (read through a call, so a type checker does not keep an earlier one)."""
    return order.state


def test_first_live_order_when_the_lock_is_lost_during_its_confirmation_is_not_sent(tmp_path: Path) -> None:
    """The guard sits under the confirmation, as the run composes them: a person may take minutes to answer,
    and the lock may be lost meanwhile; the check right before the broker catches it."""
    exchange = one_stock_exchange()
    with instance_lock(f"sqlite:///{tmp_path / 'state.db'}") as lock:

        def answer_after_the_loss(prompt: str) -> str:
            os.remove(lock_file(tmp_path / "state.db"))
            return "12345678"

        broker = FirstOrderConfirmation(
            LockGuardedBroker(exchange, lock.check), "12345678", confirmed=False, ask=answer_after_the_loss
        )
        with pytest.raises(InstanceLockLost):
            broker.submit(OrderRequest("c1", CODE, Side.BUY, 1, OrderType.LIMIT, 69_000))
    assert exchange.all_orders() == []


def test_store_when_the_lock_is_lost_writes_nothing_more(tmp_path: Path) -> None:
    """A run sets its lock's check before every write of its store: once the lock is lost, another run may
    hold the store, and this one must not overwrite its cursor, positions or cash."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with instance_lock(url) as lock:
        store = SqlStateStore(url)
        store.before_write = lock.check
        entry = AuditEntry(NOW, "note", "before", {})
        store.commit(StateChange(audit=[entry]))
        os.remove(lock_file(tmp_path / "state.db"))
        with pytest.raises(InstanceLockLost):
            store.commit(StateChange(audit=[AuditEntry(NOW, "note", "after", {})]))
        assert [e.subject for e in store.audit_entries()] == ["before"]
        store.close()
