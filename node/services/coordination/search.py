"""Searching the coordinator's index: full text (SQLite FTS5, PostgreSQL full text) and
filters by kind, theme, state, outcome, territory and date, newest first."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from node.storage.models import CoordinationEntry

MAX_RESULTS = 200
#: words of a query: letters and digits of any script (everything else is a separator, so
#: no FTS5 or tsquery syntax reaches the engine from a visitor's query)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Filters:
    """What a search asks for; empty fields do not filter."""

    query: str = ""
    kind: str = ""
    theme: str = ""
    state: str = ""
    outcome: str = ""
    territory: str = ""
    since: datetime | None = None
    until: datetime | None = None


def fold(text: str) -> str:
    """Lower case without accents, as the index keeps text for PostgreSQL.

    >>> fold("Vélobus À l'ÉCOLE")
    "velobus a l'ecole"
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_words(query: str) -> list[str]:
    """The words searched for, at most twelve, each at most 64 characters.

    >>> query_words('vélo "OR" NEAR(école*) -bus')
    ['vélo', 'OR', 'NEAR', 'école', 'bus']
    """
    return [word[:64] for word in _WORD.findall(query)][:12]


def _full_text(
    query: Select[tuple[CoordinationEntry]], words: list[str], dialect: str
) -> Select[tuple[CoordinationEntry]]:
    if dialect == "postgresql":
        # each word as a prefix, all of them required
        terms = " & ".join(f"{fold(word)}:*" for word in words)
        return query.where(
            text("coordination_entries.search @@ to_tsquery('simple', :terms)")
        ).params(terms=terms)
    # FTS5: each word quoted (no operator can slip in) and matched as a prefix
    match = " ".join('"' + word.replace('"', "") + '"*' for word in words)
    return query.where(
        text(
            "coordination_entries.rowid IN "
            "(SELECT rowid FROM coordination_search WHERE coordination_search MATCH :match)"
        )
    ).params(match=match)


async def search(
    session: AsyncSession, filters: Filters, limit: int = MAX_RESULTS
) -> list[CoordinationEntry]:
    """Index entries matching the filters, newest first."""
    query = select(CoordinationEntry)
    words = query_words(filters.query)
    if words:
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        query = _full_text(query, words, dialect)
    for column, value in (
        (CoordinationEntry.kind, filters.kind),
        (CoordinationEntry.theme, filters.theme),
        (CoordinationEntry.state, filters.state),
        (CoordinationEntry.outcome, filters.outcome),
        (CoordinationEntry.territory_uri, filters.territory),
    ):
        if value:
            query = query.where(column == value)
    if filters.since is not None:
        query = query.where(CoordinationEntry.published >= filters.since)
    if filters.until is not None:
        query = query.where(CoordinationEntry.published < filters.until)
    query = query.order_by(CoordinationEntry.published.desc(), CoordinationEntry.uri).limit(limit)
    return list(await session.scalars(query))
