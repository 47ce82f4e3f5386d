"""Alembic environment: migrations always run on a connection handed in by node.storage.migrate."""

from alembic import context

from node.storage import models  # noqa: F401  (registers every table on Base.metadata)
from node.storage.base import Base, is_modelled

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `maillage db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
    include_object=is_modelled,
)
with context.begin_transaction():
    context.run_migrations()
