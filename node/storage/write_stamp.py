"""A counter of the writes made to the database through one engine, so that what is computed
from the database (a page, an actor document) can be kept until something changes.

Every statement other than a SELECT (or a PRAGMA) marks its connection; when the connection
commits, and again when it goes back to the pool (after the commit has happened), the
counter moves on. Whoever caches reads the counter *before* computing: a write that lands
during the computation then always makes the kept result older than the counter. Writes by
other processes are not seen here: caches also bound how long they keep a result.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_WROTE = "maillage_wrote"
_READS = ("SELECT", "PRAGMA", "WITH", "SHOW", "EXPLAIN")
#: Tables whose writes change nothing a cached answer shows: the queues, sessions, tokens and
#: caches of the machinery. Without this, every activity arriving in the inbox (thousands a
#: second in a burst) would empty the caches meant for exactly such bursts.
_BOOKKEEPING = frozenset(
    {
        "inbox_items",
        "outbox_targets",
        "delivery_cursors",
        "web_sessions",
        "remote_keys",
        "oauth_apps",
        "oauth_codes",
        "oauth_tokens",
        "client_markers",
        "dismissed_notifications",
    }
)
_TARGET = re.compile(r'^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.I)


class WriteStamp:
    """How many writing transactions have ended through the engine it watches."""

    def __init__(self) -> None:
        self.value = 0

    def watch(self, engine: AsyncEngine) -> WriteStamp:
        """Count the writes made through `engine` (once per engine)."""
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._statement)
        event.listen(sync_engine, "commit", self._commit)
        event.listen(sync_engine.pool, "checkin", self._checkin)
        return self

    def _statement(self, connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(_READS):
            return
        target = _TARGET.match(statement)
        if target is None or target.group(1).lower() not in _BOOKKEEPING:
            connection.info[_WROTE] = True

    def _commit(self, connection: Any) -> None:
        if connection.info.get(_WROTE):
            self.value += 1

    def _checkin(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_WROTE, False):
            self.value += 1
