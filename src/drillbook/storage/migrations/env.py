"""Alembic environment: runs with the connection drillbook hands it (see engine.migrate)."""

from __future__ import annotations

from alembic import context

from drillbook.storage.base import Base
from drillbook.storage.engine import import_models

import_models()
config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise SystemExit("run migrations through drillbook (they run on first use)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
