"""What a denied intent asked for is saved with its order, on a real SQLite file and a real PostgreSQL
server, so that ``maemae orders``, ``/api/view`` and the dashboard list a denied buy that left the number to
the gate's sizing without a quantity, not with the one share its order holds; and a store of schema 0002 is
brought to it by ``maemae db migrate``, its orders keeping their quantity as their ask."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from maemae.cli import main
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import OrderIntent
from maemae.ports.state import StateChange
from maemae.service.status import orders
from maemae.store.database import alembic_config
from maemae.store.repository import SqlStateStore
from tests.execution.test_denial_quantity import CODE, DAY, NOW, _orders


def test_denied_orders_when_saved_and_read_back_then_listed_with_what_their_intents_asked(
    database_url: str,
) -> None:
    manager = _orders()
    sized = manager.record_denial(OrderIntent(CODE, Side.BUY, None, OrderType.MARKET), "cooldown: x", NOW)
    negative = manager.record_denial(OrderIntent(CODE, Side.BUY, -3, OrderType.MARKET), "bad: x", NOW)
    seven = manager.record_denial(OrderIntent(CODE, Side.BUY, 7, OrderType.MARKET), "daily_cap: x", NOW)
    sent = manager.submit(OrderIntent(CODE, Side.BUY, None, OrderType.MARKET), 12, NOW)
    store = SqlStateStore(database_url)
    try:
        store.commit(StateChange(orders=[sized, negative, seven, sent]))
        loaded = {o.order_id: o for o in store.load(DAY).orders}
        rows = {r.order_id: r.quantity for r in orders(store, DAY, {})}
    finally:
        store.close()
    assert {i: (o.quantity, o.asked_quantity) for i, o in loaded.items()} == {
        sized.order_id: (1, None),
        negative.order_id: (1, -3),
        seven.order_id: (7, 7),
        sent.order_id: (12, None),
    }
    assert rows == {sized.order_id: None, negative.order_id: -3, seven.order_id: 7, sent.order_id: 12}


def test_store_of_schema_0002_when_migrated_then_its_orders_keep_their_quantity_as_their_ask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
        connection.exec_driver_sql(
            "INSERT INTO orders (order_id, trading_day, code, side, quantity, order_type, limit_price, "
            "condition, strategy, source, reason, state, broker_order_no, filled_quantity, filled_amount, "
            "commission, tax, created_at, updated_at) VALUES ('20251203-000001', '2025-12-03', '005930', "
            "'buy', 1, 'market', NULL, 'none', '', 'strategy', '', 'denied', NULL, 0, 0, 0, 0, "
            "'2025-12-03T09:30:00+09:00', '2025-12-03T09:30:00+09:00')"
        )
    engine.dispose()
    assert main(["db", "migrate", "--url", url]) == 0
    assert "0002 -> 0003" in capsys.readouterr().out
    store = SqlStateStore(url)
    try:
        (order,) = store.load(DAY).orders
    finally:
        store.close()
    assert (order.quantity, order.asked_quantity, order.listed_quantity) == (1, 1, 1)
