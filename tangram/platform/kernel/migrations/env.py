"""Alembic environment: runs on the connection handed in by :mod:`tangram.platform.kernel.migrate`."""

from __future__ import annotations

from alembic import context

from tangram.platform.kernel.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through tangram.platform.kernel.migrate (tangram db upgrade)"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
