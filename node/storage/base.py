"""Declarative base with stable constraint names, and a UTC datetime column type."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(AsyncAttrs, DeclarativeBase):
    """Base of every model; constraint names are stable so migrations stay reviewable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store aware datetimes as UTC; refuse naive ones, which are always a bug."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read back as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


#: Schema the migrations make by hand, which the models do not declare: the coordinator's
#: full-text search (SQLite's FTS5 table and its shadow tables, PostgreSQL's tsvector column).
UNMODELLED_TABLE_PREFIX = "coordination_search"
UNMODELLED_COLUMNS = frozenset({("coordination_entries", "search")})


def is_modelled(
    obj: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's include_object: leave out what UNMODELLED_* names."""
    if kind == "table" and name and name.startswith(UNMODELLED_TABLE_PREFIX):
        return False
    if kind == "column":
        table = getattr(getattr(obj, "table", None), "name", None)
        return (table, name) not in UNMODELLED_COLUMNS
    if kind == "index" and name == "ix_coordination_entries_search":
        return False
    return True
