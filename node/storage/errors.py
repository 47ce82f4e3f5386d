"""Database failures worth telling an admin about in plain words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


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
