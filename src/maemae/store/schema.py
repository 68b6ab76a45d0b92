"""The state database's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Conventions: money and quantities are ``BigInteger`` won and shares; moments are stored as ISO 8601 text with
their ``+09:00`` offset (:class:`KstTimestamp`), which round-trips exactly on both databases and sorts in time
order; JSON columns hold small documents (risk state, pending settlements). The Alembic migrations in
``migrations/versions`` create exactly these tables; a test compares the two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from maemae.domain.clock_time import KST, require_kst

SCHEMA_APPLICATION = "maemae"


class KstTimestamp(TypeDecorator[datetime]):
    """A timezone-aware Asia/Seoul datetime kept as ISO text, microseconds included."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return require_kst(value, "stored time").isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(str(value)).astimezone(KST)


metadata = MetaData()

meta = Table(
    "maemae_meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("trading_day", Date, nullable=False, index=True),
    Column("code", String(6), nullable=False),
    Column("side", String(4), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    # what the intent asked for: NULL where it left the number to the gate's sizing (Order.asked_quantity)
    Column("asked_quantity", BigInteger),
    Column("order_type", String(24), nullable=False),
    Column("limit_price", BigInteger),
    Column("condition", String(8), nullable=False),
    Column("strategy", String(80), nullable=False),
    Column("source", String(24), nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("broker_order_no", String(40), index=True),
    Column("filled_quantity", BigInteger, nullable=False),
    Column("filled_amount", BigInteger, nullable=False),
    Column("commission", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("created_at", KstTimestamp, nullable=False),
    Column("updated_at", KstTimestamp, nullable=False),
)

order_events = Table(
    "order_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", KstTimestamp, nullable=False),
    Column("event", String(24), nullable=False),
    Column("state", String(20), nullable=False),
    Column("note", Text, nullable=False),
    UniqueConstraint("order_id", "seq", name="uq_order_events_order_seq"),
)

fills = Table(
    "fills",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trading_day", Date, nullable=False),
    Column("fill_id", String(64), nullable=False),
    Column("order_id", String(40), nullable=False, index=True),
    Column("broker_order_no", String(40), nullable=False),
    Column("code", String(6), nullable=False),
    Column("side", String(4), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("commission", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("at", KstTimestamp, nullable=False),
    UniqueConstraint("trading_day", "fill_id", name="uq_fills_day_fill_id"),
)

positions = Table(
    "positions",
    metadata,
    Column("code", String(6), primary_key=True),
    Column("owned_quantity", BigInteger, nullable=False),
    Column("account_quantity", BigInteger, nullable=False),
    Column("cost_basis", BigInteger, nullable=False),
    Column("realised_pnl", BigInteger, nullable=False),
    Column("opened_at", KstTimestamp),
    Column("strategy", String(80), nullable=False),
    Column("updated_at", KstTimestamp, nullable=False),
)

account = Table(
    "account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("settled_cash", BigInteger, nullable=False),
    Column("pending", JSON, nullable=False),
    Column("reserved", JSON, nullable=False),
    Column("realised_pnl", BigInteger, nullable=False),
    Column("commission", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("realised_by_order", JSON, nullable=False),
    Column("updated_at", KstTimestamp, nullable=False),
)

runtime_state = Table(
    "runtime_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", KstTimestamp, nullable=False),
)

cash_snapshots = Table(
    "cash_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", KstTimestamp, nullable=False, index=True),
    Column("source", String(20), nullable=False),
    Column("cash", BigInteger, nullable=False),
    Column("settled_cash", BigInteger, nullable=False),
    Column("orderable", BigInteger, nullable=False),
)

param_changes = Table(
    "param_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", KstTimestamp, nullable=False),
    Column("key", String(200), nullable=False),
    Column("old", JSON),
    Column("new", JSON),
    Column("actor", String(80), nullable=False),
)

signals = Table(
    "signals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", KstTimestamp, nullable=False, index=True),
    Column("code", String(6), nullable=False),
    Column("strategy", String(80), nullable=False),
    Column("signal", String(20), nullable=False),
    Column("values", JSON, nullable=False),
)

portfolio_snapshots = Table(
    "portfolio_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", KstTimestamp, nullable=False, index=True),
    Column("equity", BigInteger, nullable=False),
    Column("cash", BigInteger, nullable=False),
    Column("positions", JSON, nullable=False),
)

daily_results = Table(
    "daily_results",
    metadata,
    Column("trading_day", Date, primary_key=True),
    Column("equity", BigInteger, nullable=False),
    Column("cash", BigInteger, nullable=False),
    Column("realised_pnl", BigInteger, nullable=False),
    Column("unrealised_pnl", BigInteger, nullable=False),
    Column("commission", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("orders", Integer, nullable=False),
    Column("fills", Integer, nullable=False),
    Column("denials", Integer, nullable=False),
)

# the minute bars a live day built from its price snapshots, kept until the day closes: a run started again
# during the day goes on with the same bars (engine.live); the day's close deletes them
live_minute_bars = Table(
    "live_minute_bars",
    metadata,
    Column("trading_day", Date, primary_key=True),
    Column("code", String(6), primary_key=True),
    Column("start", KstTimestamp, primary_key=True),
    Column("open", BigInteger, nullable=False),
    Column("high", BigInteger, nullable=False),
    Column("low", BigInteger, nullable=False),
    Column("close", BigInteger, nullable=False),
    Column("volume", BigInteger, nullable=False),
    Column("value", BigInteger, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", KstTimestamp, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("data", Text, nullable=False),  # canonical JSON: the exact text the hash covers
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

Index("ix_order_events_order", order_events.c.order_id)
