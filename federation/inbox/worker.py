"""Applying stored activities through a dispatch table, one at a time, oldest first.

Handlers say what happened; an activity whose target has not arrived yet (an Undo or a
Delete overtaking its Create or Follow) is held and retried, not lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from federation.ports import InboxQueue, QueuedActivity
from protocols.activitystreams import type_of

log = logging.getLogger(__name__)

#: How long an activity waits for its missing target before it is dropped.
HOLD_FOR = timedelta(minutes=10)
#: Delay between two tries of a held activity.
RETRY_HELD_AFTER = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying an activity gave: applied, ignored (with why), or held (target missing)."""

    state: str
    note: str = ""

    @classmethod
    def applied(cls, note: str = "") -> Outcome:
        return cls("applied", note)

    @classmethod
    def ignored(cls, note: str) -> Outcome:
        return cls("ignored", note)

    @classmethod
    def held(cls, note: str) -> Outcome:
        return cls("held", note)


Handler = Callable[[dict[str, Any]], Awaitable[Outcome]]


class InboxWorker:
    """Drains the inbox queue through handlers chosen by activity type."""

    def __init__(
        self,
        queue: InboxQueue,
        handlers: Mapping[str, Handler],
        clock: Callable[[], datetime],
    ) -> None:
        self._queue = queue
        self._handlers = handlers
        self._clock = clock
        self.wakeup = asyncio.Event()

    async def run_once(self, limit: int = 100) -> int:
        """Apply every due item (at most `limit`); returns how many were looked at."""
        items = await self._queue.claim_due(self._clock(), limit)
        for item in items:
            await self._apply(item)
        return len(items)

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        """Work until cancelled, woken by new arrivals or every few seconds for held items."""
        while True:
            if await self.run_once():
                continue
            self.wakeup.clear()
            try:
                await asyncio.wait_for(self.wakeup.wait(), idle_seconds)
            except TimeoutError:
                pass

    async def _apply(self, item: QueuedActivity) -> None:
        kind = type_of(item.activity) or ""
        handler = self._handlers.get(kind)
        now = self._clock()
        if handler is None:
            outcome = Outcome.ignored(f"{kind or 'untyped'} activities are stored, not applied")
        else:
            try:
                outcome = await handler(item.activity)
            except Exception as exc:  # the worker boundary: record, never crash the loop
                log.exception("inbox handler failed", extra={"activity": item.activity.get("id")})
                outcome = Outcome("failed", f"{type(exc).__name__}: {exc}")
        hold_until = None
        if outcome.state == "held":
            if now - item.received_at >= HOLD_FOR:
                outcome = Outcome.ignored(f"target never arrived: {outcome.note}")
            else:
                hold_until = now + RETRY_HELD_AFTER
        await self._queue.settle(item.item_id, outcome.state, outcome.note, hold_until)
