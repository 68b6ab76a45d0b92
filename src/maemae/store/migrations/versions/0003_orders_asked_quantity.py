"""What a denied intent asked for, saved with its order: the order holds at least one share, which is not what
an intent that left the number to the gate's sizing asked for, and the lists of orders must not show it.

The orders saved before keep their quantity as their ask: what a denial recorded then asked for was not
saved, so its list line stays as it was.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 03:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("asked_quantity", sa.BigInteger(), nullable=True))
    op.execute("UPDATE orders SET asked_quantity = quantity")


def downgrade() -> None:
    with op.batch_alter_table("orders") as table:
        table.drop_column("asked_quantity")
