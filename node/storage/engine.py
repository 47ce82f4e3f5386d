"""Engines and session factories: SQLite tuned for one small server, PostgreSQL for scale-out."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

#: How long a SQLite writer waits for the lock before failing, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: str) -> AsyncEngine:
    """An async engine for a sqlite+aiosqlite or postgresql+asyncpg URL."""
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True)
    options: dict[str, Any] = {}
    if ":memory:" in url:
        # One shared connection, or every session would see its own empty database.
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers, enforced foreign keys, and a busy timeout on every connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (pages render after the transaction)."""
    return async_sessionmaker(engine, expire_on_commit=False)
