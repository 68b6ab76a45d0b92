"""The minute bars a live day built from its price snapshots, kept until the day closes, so that a run started
again during the day trades on the same bars as before its stop.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 00:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_minute_bars",
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("start", sa.String(length=40), nullable=False),
        sa.Column("open", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.Column("close", sa.BigInteger(), nullable=False),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("trading_day", "code", "start"),
    )


def downgrade() -> None:
    op.drop_table("live_minute_bars")
