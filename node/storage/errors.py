"""Database failures worth telling an admin about in plain words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

#: SQLSTATE classes of a database that is unwell rather than of a wrong statement: connection
#: exception, transaction rollback (serialisation failure, deadlock), insufficient resources
#: (disk full, out of memory), operator intervention (shutdown, restart, starting up),
#: system error (I/O).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "40", "53", "57", "58")


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened; the message says what to check."""


def safe_url(url: str) -> str:
    """The database URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


@asynccontextmanager
async def reporting_database_errors(url: str) -> AsyncIterator[None]:
    """Turn connection failures into DatabaseUnavailable naming the URL and the fix."""
    try:
        yield
    except (OperationalError, InterfaceError, DBAPIError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise DatabaseUnavailable(
            f"cannot use the database {safe_url(url)}: {reason}. Check database.url in "
            "maillage.toml (or MAILLAGE_DATABASE_URL) and that the database server is running."
        ) from exc


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` is the database failing (locked, full, unreachable, restarting), after
    which the same work may well succeed: workers then retry it instead of recording it as
    failed. Errors of the work itself (a constraint violated, a bug) are not."""
    if isinstance(error, OperationalError | InterfaceError | DisconnectionError | PoolTimeout):
        return True  # SQLite's locked, full and I/O errors are OperationalError
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        return isinstance(sqlstate, str) and sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
    return isinstance(error, OSError)  # the connection refused or reset, out of disk space
