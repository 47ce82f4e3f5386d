"""Applying stored activities through a dispatch table, one at a time, oldest first.

Handlers say what happened; an activity whose target has not arrived yet (an Undo or a
Delete overtaking its Create or Follow) is held and retried, not lost. When the store itself
fails (the database locked, full or gone), the activity is neither failed nor skipped: the
pass ends, and the worker loop retries it after a backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from federation.liveness import Progress
from federation.ports import InboxQueue, QueuedActivity
from federation.worker_loop import keep_running
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


def _never(_error: BaseException) -> bool:
    return False


class InboxWorker:
    """Drains the inbox queue through handlers chosen by activity type."""

    def __init__(
        self,
        queue: InboxQueue,
        handlers: Mapping[str, Handler],
        clock: Callable[[], datetime],
        unavailable: Callable[[BaseException], bool] = _never,
    ) -> None:
        """`unavailable` tells a failure of the store (a handler's database locked or gone:
        try the activity again later) from a failure of the activity itself (recorded)."""
        self._queue = queue
        self._handlers = handlers
        self._clock = clock
        self._unavailable = unavailable
        self.wakeup = asyncio.Event()
        self.progress = Progress("inbox")

    async def run_once(self, limit: int = 100) -> int:
        """Apply every due item (at most `limit`); returns how many were looked at."""
        items = await self._queue.claim_due(self._clock(), limit)
        self.progress.found(len(items))
        for item in items:
            await self._apply(item)
            self.progress.advanced()
        return len(items)

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        """Work until cancelled, woken by new arrivals or every few seconds for held items;
        a failed pass is logged and retried after a backoff."""

        async def one_pass() -> bool:
            return await self.run_once() > 0

        await keep_running(one_pass, self.progress, idle_seconds=idle_seconds, wakeup=self.wakeup)

    async def count_waiting(self) -> int:
        """How many stored activities are due now (for /healthz)."""
        return await self._queue.count_due(self._clock())

    async def _apply(self, item: QueuedActivity) -> None:
        kind = type_of(item.activity) or ""
        handler = self._handlers.get(kind)
        now = self._clock()
        if handler is None:
            outcome = Outcome.ignored(f"{kind or 'untyped'} activities are stored, not applied")
        else:
            try:
                outcome = await handler(item.activity)
            except Exception as exc:  # the activity's failure: record it, go on with the next
                if self._unavailable(exc):
                    raise  # the store's failure: the activity stays due, the loop backs off
                log.exception("inbox handler failed", extra={"activity": item.activity.get("id")})
                outcome = Outcome("failed", f"{type(exc).__name__}: {exc}")
        hold_until = None
        if outcome.state == "held":
            if now - item.received_at >= HOLD_FOR:
                outcome = Outcome.ignored(f"target never arrived: {outcome.note}")
            else:
                hold_until = now + RETRY_HELD_AFTER
        await self._queue.settle(item.item_id, outcome.state, outcome.note, hold_until)
