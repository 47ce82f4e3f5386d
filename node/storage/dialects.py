"""The few statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def insert_or_ignore(session: AsyncSession, model: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's database (call
    `.values(...).on_conflict_do_nothing()` on the result)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect != "postgresql":
        return sqlite_insert(model)
    # PostgreSQL's dialect (about 20 ms and 2 MB to load) is already loaded by then on a node
    # that uses it, and never needed on a SQLite node.
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert(model)
