"""The state store on a real SQLite file and a real PostgreSQL server (each test runs on both)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DatabaseError

from maemae.domain.account import Account, PendingSettlement
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import OrderType, Side
from maemae.domain.fill import Fill
from maemae.domain.order import Order
from maemae.domain.order_states import OrderEvent, OrderState
from maemae.domain.position import Position
from maemae.errors import StoreError
from maemae.ports.state import AccountTotals, AuditEntry, StateChange
from maemae.store.repository import SqlStateStore
from maemae.store.schema import metadata

DAY = date(2025, 12, 3)
T0 = datetime(2025, 12, 3, 9, 5, tzinfo=KST)
CODE = StockCode("005930")


def _order(number: int = 1) -> Order:
    order = Order(
        f"20251203-{number:06d}", CODE, Side.BUY, 10, OrderType.LIMIT, 70_000, T0, reason="RSI 주문"
    )
    order.apply(OrderEvent.SUBMIT, T0, "sent")
    return order


def _fill(order: Order, fill_id: str = "F1", quantity: int = 4) -> Fill:
    return Fill(
        fill_id,
        order.order_id,
        "S0000001",
        CODE,
        Side.BUY,
        quantity,
        70_000,
        T0 + timedelta(minutes=1),
        42,
        0,
    )


@pytest.fixture
def store(database_url: str) -> SqlStateStore:
    opened = SqlStateStore(database_url)
    yield opened  # type: ignore[misc]
    opened.close()


def test_store_when_state_committed_then_load_gives_it_back_exactly(store: SqlStateStore) -> None:
    order = _order()
    store.commit(StateChange(orders=[order]))
    order.broker_order_no = "S0000001"
    order.apply(OrderEvent.ACCEPT, T0, "broker order S0000001")
    fill = _fill(order)
    order.record_fill(fill)
    position = Position(CODE, 4, 6, 280_042, 0, fill.ts, "rsi_minute")
    account = Account(1_000_000, [PendingSettlement(date(2025, 12, 5), -280_042)], {order.order_id: 420_000})
    store.commit(
        StateChange(
            orders=[order],
            fills=[fill],
            positions=[position],
            account=AccountTotals(account, 1_234, 42, 0, {"x": 5}),
            runtime={"risk": {"version": 1, "day": "2025-12-03"}},
        )
    )
    saved = store.load(DAY)
    (loaded,) = saved.orders
    assert loaded.state is OrderState.PARTIALLY_FILLED
    assert (loaded.filled_quantity, loaded.filled_amount, loaded.commission) == (4, 280_000, 42)
    assert [t.event for t in loaded.history] == [
        OrderEvent.SUBMIT,
        OrderEvent.ACCEPT,
        OrderEvent.FILL_PARTIAL,
    ]
    assert loaded.history[0].at == T0
    assert loaded.history[0].at.tzinfo is not None
    assert loaded.reason == "RSI 주문"
    assert loaded.fill_ids == {"F1"}
    assert saved.positions == [position]
    assert saved.fill_ids == frozenset({"F1"})
    assert saved.account is not None
    assert saved.account.account.cash == 1_000_000 - 280_042
    assert saved.account.account.orderable_cash == 1_000_000 - 280_042 - 420_000
    assert (saved.account.realised_pnl, saved.account.commission, dict(saved.account.realised_by_order)) == (
        1_234,
        42,
        {"x": 5},
    )
    assert saved.runtime == {"risk": {"version": 1, "day": "2025-12-03"}}


def test_store_when_same_fill_recorded_twice_then_one_fill(store: SqlStateStore) -> None:
    order = _order()
    fill = _fill(order)
    store.commit(StateChange(orders=[order], fills=[fill]))
    store.commit(StateChange(fills=[fill]))
    store.commit(StateChange(fills=[fill, _fill(order, "F2", 6)]))
    assert [f.fill_id for f in store.fills(DAY)] == ["F1", "F2"]


def test_store_when_position_closed_then_row_removed(store: SqlStateStore) -> None:
    store.commit(StateChange(positions=[Position(CODE, 5, 5, 100, 0, T0, "s")]))
    store.commit(StateChange(closed_positions=[CODE]))
    assert store.load(DAY).positions == []


def test_store_when_a_write_fails_midway_then_nothing_of_the_change_is_stored(
    store: SqlStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise DatabaseError("insert", {}, Exception("disk I/O error"))

    monkeypatch.setattr(SqlStateStore, "_append_audit", fail)
    order = _order()
    with pytest.raises(StoreError, match="disk I/O error"):
        store.commit(
            StateChange(orders=[order], fills=[_fill(order)], audit=[AuditEntry(T0, "order", "x", {})])
        )
    saved = store.load(DAY)
    assert saved.orders == []
    assert saved.fill_ids == frozenset()


def _history(store: SqlStateStore) -> list[tuple[OrderEvent, str]]:
    (loaded,) = store.load(DAY).orders
    return [(line.event, line.note) for line in loaded.history]


def test_store_when_an_order_is_written_again_after_a_restart_then_each_history_line_once(
    database_url: str,
) -> None:
    order = _order()
    first = SqlStateStore(database_url)
    first.commit(StateChange(orders=[order]))
    order.apply(OrderEvent.ACCEPT, T0, "broker order S0000001")
    first.commit(StateChange(orders=[order]))
    first.close()
    second = SqlStateStore(database_url)  # the restart: it knows nothing of what the first one wrote
    try:
        order.record_fill(_fill(order))
        second.commit(StateChange(orders=[order]))
        second.commit(StateChange(orders=[order, order]))  # nothing new: nothing added, nothing refused
        assert _history(second) == [
            (OrderEvent.SUBMIT, "sent"),
            (OrderEvent.ACCEPT, "broker order S0000001"),
            (OrderEvent.FILL_PARTIAL, order.history[-1].note),
        ]
    finally:
        second.close()


def test_store_when_a_commit_fails_then_its_retry_stores_the_order_lines_once(
    store: SqlStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = _order()
    store.commit(StateChange(orders=[order]))
    order.apply(OrderEvent.ACCEPT, T0, "accepted")

    def fail(*_args: object) -> None:
        raise DatabaseError("insert", {}, Exception("disk I/O error"))

    with monkeypatch.context() as patch:
        patch.setattr(SqlStateStore, "_append_audit", fail)
        with pytest.raises(StoreError):
            store.commit(StateChange(orders=[order], audit=[AuditEntry(T0, "order", "x", {})]))
    store.commit(StateChange(orders=[order]))
    assert _history(store) == [(OrderEvent.SUBMIT, "sent"), (OrderEvent.ACCEPT, "accepted")]


def test_store_when_it_wrote_an_order_then_its_next_change_asks_no_count_of_its_lines(
    store: SqlStateStore,
) -> None:
    order = _order()
    store.commit(StateChange(orders=[order]))
    order.apply(OrderEvent.ACCEPT, T0, "accepted")
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    store.commit(StateChange(orders=[order]))
    event.remove(store.engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "count(" in s.lower()]
    assert _history(store) == [(OrderEvent.SUBMIT, "sent"), (OrderEvent.ACCEPT, "accepted")]


def test_store_when_one_change_holds_a_key_twice_then_the_last_row_is_kept(store: SqlStateStore) -> None:
    older, newer = Position(CODE, 5, 5, 100, 0, T0, "s"), Position(CODE, 7, 7, 140, 0, T0, "s")
    store.commit(StateChange(positions=[older, newer], runtime={"risk": {"n": 1}}))
    assert store.load(DAY).positions == [newer]
    assert store.runtime_document("risk") == {"n": 1}


def test_store_when_orders_of_other_days_then_load_gives_today_and_still_open(store: SqlStateStore) -> None:
    old = Order("20251202-000001", CODE, Side.SELL, 1, OrderType.MARKET, None, T0 - timedelta(days=1))
    old.apply(OrderEvent.SUBMIT, old.created_at)
    old.apply(OrderEvent.SUBMIT_TIMEOUT, old.created_at)  # left UNKNOWN: must come back to be settled
    done = Order("20251202-000002", CODE, Side.SELL, 1, OrderType.MARKET, None, T0 - timedelta(days=1))
    done.apply(OrderEvent.DENY, done.created_at, "cooldown")
    store.commit(StateChange(orders=[old, done, _order()]))
    assert [o.order_id for o in store.load(DAY).orders] == ["20251202-000001", "20251203-000001"]


def test_audit_when_untouched_then_chain_verifies(store: SqlStateStore) -> None:
    for n in range(5):
        store.commit(StateChange(audit=[AuditEntry(T0, "order", f"o{n}", {"n": n, "note": "한글"})]))
    result = store.verify_audit()
    assert result.ok
    assert result.records == 5
    assert [e.data["n"] for e in store.audit_entries()] == [0, 1, 2, 3, 4]


def test_audit_when_update_or_delete_attempted_then_database_refuses(store: SqlStateStore) -> None:
    store.commit(StateChange(audit=[AuditEntry(T0, "order", "o1", {"n": 1})]))
    for statement in ("UPDATE audit_log SET subject = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))
    assert store.verify_audit().ok


def _drop_audit_guard(store: SqlStateStore) -> None:
    """What someone with direct access to the database could do to get around the triggers."""
    with store.engine.begin() as connection:
        if store.engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE audit_log SET data = '{\"n\":99}' WHERE seq = 3", "record 3 (order o3) was altered"),
        ("DELETE FROM audit_log WHERE seq = 2", "record 2 is missing (next present is 3)"),
        ("UPDATE audit_log SET hash = prev_hash WHERE seq = 4", "record 4 (order o4) was altered"),
    ],
)
def test_audit_when_records_tampered_then_verify_names_the_first(
    store: SqlStateStore, tamper: str, expected: str
) -> None:
    for n in range(1, 7):
        store.commit(StateChange(audit=[AuditEntry(T0, "order", f"o{n}", {"n": n})]))
    _drop_audit_guard(store)
    with store.engine.begin() as connection:
        connection.exec_driver_sql(tamper)
    result = store.verify_audit()
    assert not result.ok
    assert result.problem == expected


def test_migrations_when_applied_then_schema_equals_the_models(store: SqlStateStore) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    # the models' KstTimestamp is stored as VARCHAR(40), which is what the migration creates
    assert [d for d in differences if not _same_type_change(d)] == []


def _same_type_change(difference: object) -> bool:
    if not isinstance(difference, list):
        return False
    return all(item[0] == "modify_type" and "VARCHAR(40)" in str(item[-2]).upper() for item in difference)


def test_store_when_two_writers_append_audit_then_chain_stays_intact(database_url: str) -> None:
    first, second = SqlStateStore(database_url), SqlStateStore(database_url)
    try:
        for n in range(10):
            writer = first if n % 2 else second
            writer.commit(StateChange(audit=[AuditEntry(T0, "operator", f"w{n}", {"n": n})]))
        assert first.verify_audit().records == 10
        assert first.verify_audit().ok
    finally:
        first.close()
        second.close()


def test_store_engine_is_the_configured_backend(database_url: str) -> None:
    store = SqlStateStore(database_url)
    try:
        assert store.engine.dialect.name == database_url.split(":")[0].split("+")[0]
    finally:
        store.close()


def test_sqlite_store_runs_in_wal_mode(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/wal.db"
    SqlStateStore(url).close()
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_store_when_the_same_kind_of_change_is_written_again_then_no_statement_is_built_again(
    store: SqlStateStore,
) -> None:
    built: list[object] = []
    insert = store._insert

    def counted(table: object) -> object:
        built.append(table)
        return insert(table)

    store._insert = counted  # type: ignore[assignment]
    account = AccountTotals(Account(1_000_000), 0, 0, 0)
    for n in range(3):
        order = _order(n)
        position = Position(CODE, n, n, 100 * n, 0, T0, "s")
        store.commit(StateChange(orders=[order], positions=[position], account=account, runtime={"risk": {}}))
    assert len(built) == 4  # orders, positions, account, runtime_state: once each
    assert [o.order_id for o in store.load(DAY).orders] == [_order(n).order_id for n in range(3)]
