"""Ids of the client API's statuses and notifications: opaque strings that sort by time
(clients compare them by length, then lexically) and name where the item lives.

A status id is the creation time in milliseconds (13 digits), a letter for the source and
the source's key padded to 26 characters: always 40 characters, so that lexical order is
time order across sources.

>>> value = status_id(1_780_000_000_000, "o", "42")
>>> len(value), parse_status_id(value)
(40, ('o', '42'))
>>> parse_status_id("nonsense") is None
True
"""

from __future__ import annotations

from datetime import UTC, datetime

#: outbox entries (everything the node published), remote notes, remote Maillage objects,
#: and for notifications: follows, reactions, mentions, closed decisions
SOURCES = frozenset({"o", "n", "r", "f", "x", "m", "d"})
#: sources whose keys are integers (zero-padded in the id); the others are ULIDs
NUMBERED = frozenset({"o"})
ID_LENGTH = 40
KEY_LENGTH = 26


def millis(moment: datetime) -> int:
    """Milliseconds since the epoch of an aware or naive-UTC datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, int(moment.timestamp() * 1000))


def status_id(at_millis: int, source: str, key: str) -> str:
    """The id of an item created at `at_millis` in `source` under `key`."""
    return f"{min(at_millis, 10**13 - 1):013d}{source}{key:0>{KEY_LENGTH}}"


def parse_status_id(value: str) -> tuple[str, str] | None:
    """The source and key an id names, or None when it is not one of ours."""
    if len(value) != ID_LENGTH or not value[:13].isdigit() or value[13] not in SOURCES:
        return None
    source, key = value[13], value[14:]
    if source in NUMBERED:
        return (source, str(int(key))) if key.isdigit() else None
    return source, key


def id_millis(value: str) -> int | None:
    """The creation time an id carries, to bound a page query; None for foreign ids."""
    return int(value[:13]) if parse_status_id(value) else None
