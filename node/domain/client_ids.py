"""Ids of the client API's statuses and notifications: decimal strings, as Mastodon's
snowflakes, that sort by time (clients compare them as numbers, or by length then lexically)
and say where the item lives.

An id is the creation time in milliseconds (13 digits), one digit for the source and the
source's key as a number (an outbox sequence, or a ULID read in base 32), padded to 39
digits: always 53 digits, so that every order clients use is time order across sources.

>>> value = status_id(1_780_000_000_000, "o", "42")
>>> len(value), parse_status_id(value)
(53, ('o', '42'))
>>> parse_status_id(status_id(1, "n", "01kc0000000000000000000000"))
('n', '01kc0000000000000000000000')
>>> parse_status_id("nonsense") is None
True
"""

from __future__ import annotations

from datetime import UTC, datetime

#: outbox entries (everything the node published), remote notes, remote Maillage objects;
#: for notifications: follows, reactions, mentions, closed decisions
SOURCES = {"o": "1", "n": "2", "r": "3", "f": "4", "x": "5", "m": "6", "d": "7"}
_BY_DIGIT = {digit: source for source, digit in SOURCES.items()}
#: sources whose keys are integers; the others are ULIDs (26 Crockford base 32 characters)
NUMBERED = frozenset({"o"})
ID_LENGTH = 53
KEY_DIGITS = 39  # 2**128 has 39 digits
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def millis(moment: datetime) -> int:
    """Milliseconds since the epoch of an aware or naive-UTC datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, int(moment.timestamp() * 1000))


def _ulid_number(key: str) -> int:
    number = 0
    for char in key.lower():
        number = number * 32 + _CROCKFORD.index(char)
    return number


def _ulid_text(number: int) -> str:
    chars = []
    for _ in range(26):
        number, rest = divmod(number, 32)
        chars.append(_CROCKFORD[rest])
    return "".join(reversed(chars))


def status_id(at_millis: int, source: str, key: str) -> str:
    """The id of an item created at `at_millis` in `source` under `key`."""
    number = int(key) if source in NUMBERED else _ulid_number(key)
    return f"{min(at_millis, 10**13 - 1):013d}{SOURCES[source]}{number:0{KEY_DIGITS}d}"


def parse_status_id(value: str) -> tuple[str, str] | None:
    """The source and key an id names, or None when it is not one of ours."""
    if len(value) != ID_LENGTH or not value.isdigit() or value[13] not in _BY_DIGIT:
        return None
    source, number = _BY_DIGIT[value[13]], int(value[14:])
    if source in NUMBERED:
        return source, str(number)
    return (source, _ulid_text(number)) if number < 32**26 else None


def id_millis(value: str) -> int | None:
    """The creation time an id carries, to bound a page query; None for foreign ids."""
    return int(value[:13]) if parse_status_id(value) else None
