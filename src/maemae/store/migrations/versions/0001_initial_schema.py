"""The initial schema: orders, their history, fills, positions, the account, runtime documents, snapshots,
daily results and the append-only, hash-chained audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 04:18:35.645726
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("settled_cash", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("reserved", sa.JSON(), nullable=False),
        sa.Column("realised_pnl", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("realised_by_order", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "cash_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("cash", sa.BigInteger(), nullable=False),
        sa.Column("settled_cash", sa.BigInteger(), nullable=False),
        sa.Column("orderable", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cash_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cash_snapshots_at"), ["at"], unique=False)

    op.create_table(
        "daily_results",
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("equity", sa.BigInteger(), nullable=False),
        sa.Column("cash", sa.BigInteger(), nullable=False),
        sa.Column("realised_pnl", sa.BigInteger(), nullable=False),
        sa.Column("unrealised_pnl", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("fills", sa.Integer(), nullable=False),
        sa.Column("denials", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("trading_day"),
    )
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("fill_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("broker_order_no", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trading_day", "fill_id", name="uq_fills_day_fill_id"),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fills_order_id"), ["order_id"], unique=False)

    op.create_table(
        "maemae_meta",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "seq", name="uq_order_events_order_seq"),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index("ix_order_events_order", ["order_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("order_type", sa.String(length=24), nullable=False),
        sa.Column("limit_price", sa.BigInteger(), nullable=True),
        sa.Column("condition", sa.String(length=8), nullable=False),
        sa.Column("strategy", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("broker_order_no", sa.String(length=40), nullable=True),
        sa.Column("filled_quantity", sa.BigInteger(), nullable=False),
        sa.Column("filled_amount", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_broker_order_no"), ["broker_order_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_trading_day"), ["trading_day"], unique=False)

    op.create_table(
        "param_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "portfolio_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("equity", sa.BigInteger(), nullable=False),
        sa.Column("cash", sa.BigInteger(), nullable=False),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("portfolio_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portfolio_snapshots_at"), ["at"], unique=False)

    op.create_table(
        "positions",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("owned_quantity", sa.BigInteger(), nullable=False),
        sa.Column("account_quantity", sa.BigInteger(), nullable=False),
        sa.Column("cost_basis", sa.BigInteger(), nullable=False),
        sa.Column("realised_pnl", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.String(length=40), nullable=True),
        sa.Column("strategy", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "runtime_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "signals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("strategy", sa.String(length=80), nullable=False),
        sa.Column("signal", sa.String(length=20), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signals_at"), ["at"], unique=False)
    op.bulk_insert(
        sa.table("maemae_meta", sa.column("key", sa.String), sa.column("value", sa.String)),
        [{"key": "application", "value": "maemae"}],
    )
    _make_audit_append_only()


_REFUSE = "audit_log is append-only"


def _make_audit_append_only() -> None:
    """Refuse UPDATE and DELETE on the audit log in the database itself."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse() CASCADE")

    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signals_at"))

    op.drop_table("signals")
    op.drop_table("runtime_state")
    op.drop_table("positions")
    with op.batch_alter_table("portfolio_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portfolio_snapshots_at"))

    op.drop_table("portfolio_snapshots")
    op.drop_table("param_changes")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_trading_day"))
        batch_op.drop_index(batch_op.f("ix_orders_state"))
        batch_op.drop_index(batch_op.f("ix_orders_broker_order_no"))

    op.drop_table("orders")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_events_order")

    op.drop_table("order_events")
    op.drop_table("maemae_meta")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fills_order_id"))

    op.drop_table("fills")
    op.drop_table("daily_results")
    with op.batch_alter_table("cash_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cash_snapshots_at"))

    op.drop_table("cash_snapshots")
    op.drop_table("audit_log")
    op.drop_table("account")
