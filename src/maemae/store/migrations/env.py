"""Alembic environment: migrations run on the connection maemae hands over (``maemae db migrate``)."""

from __future__ import annotations

from alembic import context

from maemae.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
