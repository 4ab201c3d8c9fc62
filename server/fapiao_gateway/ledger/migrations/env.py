"""Alembic environment: migrations run on the connection ledger.engine.migrate hands over."""

from alembic import context
from fapiao_gateway.ledger.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through fapiao_gateway.ledger.engine.migrate")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
