"""Reading JSON that comes from outside: bounded in nesting, refused with a reason.

Python's json parser and everything that walks its result (pyld, json.dumps, our own
readers) recurse once per level: a 10,000-deep ``[[[…]]]`` (20 KB) raises RecursionError
wherever it goes. No real document nests deeper than a few levels, so every JSON read
from a peer, a client or an uploaded file goes through ``parse_json``, which refuses
anything deeper than MAX_JSON_DEPTH with JsonRefused (a ValueError), never RecursionError.
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 64
"""Arrays and objects nested deeper than this are refused; ActivityPub documents use
fewer than 10 levels, GeoJSON multipolygons 4."""


class JsonRefused(ValueError):
    """Not JSON, or JSON nested too deeply; the message says which."""


def json_depth_exceeds(value: Any, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests arrays and objects deeper than `max_depth`.

    Iterative (a stack of (value, depth)), so it cannot itself overflow.

    >>> json_depth_exceeds([[1]], 2), json_depth_exceeds([[[1]]], 2), json_depth_exceeds(3, 0)
    (False, True, False)
    """
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        if not isinstance(current, (dict, list)):
            continue
        if depth >= max_depth:
            return True
        children = current.values() if isinstance(current, dict) else current
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def check_json_depth(value: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise JsonRefused when parsed JSON nests deeper than `max_depth`."""
    if json_depth_exceeds(value, max_depth):
        raise JsonRefused(f"JSON nested deeper than {max_depth} levels")


def parse_json(text: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON text (bytes: UTF-8) from outside; raise JsonRefused when it is not JSON
    or nests deeper than `max_depth`.

    >>> parse_json(b'{"a": [1]}')
    {'a': [1]}
    >>> parse_json("[" * 10_000 + "]" * 10_000)
    Traceback (most recent call last):
    ...
    protocols.json_input.JsonRefused: JSON nested deeper than 64 levels
    """
    try:
        value = json.loads(text)
    except RecursionError:  # the C parser gives up cleanly past the interpreter's limit
        raise JsonRefused(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise JsonRefused("not valid JSON") from None
    if _openings(text) > max_depth:  # else it cannot nest that deep: no need to walk it
        check_json_depth(value, max_depth)
    return value


def _openings(text: str | bytes) -> int:
    """How many `[` and `{` the text holds (in strings too): a bound on its nesting."""
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{")
    return text.count("[") + text.count("{")
