"""Applying stored activities through a dispatch table, oldest first, a batch at a time: one
claim, the handlers one after the other, then every outcome recorded in one transaction.

Handlers say what happened; an activity whose target has not arrived yet (an Undo or a
Delete overtaking its Create or Follow) is held and retried, not lost. When the store itself
fails (the database locked, full or gone), the activity is neither failed nor skipped: the
pass ends (the outcomes of the activities applied before it are still recorded), and the
worker loop retries it after a backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from federation.inbox.pacing import never_wait
from federation.liveness import Progress
from federation.ports import InboxQueue, QueuedActivity, Settlement
from federation.worker_loop import keep_running
from protocols.activitystreams import type_of

log = logging.getLogger(__name__)

#: How long an activity waits for its missing target before it is dropped.
HOLD_FOR = timedelta(minutes=10)
#: Delay between two tries of a held activity.
RETRY_HELD_AFTER = timedelta(seconds=5)
#: Activities claimed, applied and settled together.
BATCH = 200
#: Longest the worker keeps the write turn before letting the intake commit, in seconds.
WRITE_TURN_SECONDS = 0.05


@contextlib.asynccontextmanager
async def _no_turn() -> AsyncIterator[None]:
    yield


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
#: Applies consecutive activities of one type together (one transaction for them all) and
#: gives their outcomes, in order, for the activities up to the first one it leaves to the
#: type's one-at-a-time handler: that one is applied before any later activity is looked
#: at, since a later one may depend on it (a comment on an object its Create brings).
BatchHandler = Callable[[list[dict[str, Any]]], Awaitable[list[Outcome]]]


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
        write_turn: Callable[[], contextlib.AbstractAsyncContextManager[None]] | None = None,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
        make_way: Callable[[float], Awaitable[float]] = never_wait,
    ) -> None:
        """`unavailable` tells a failure of the store (a handler's database locked or gone:
        try the activity again later) from a failure of the activity itself (recorded).
        `write_turn` is held while handlers run, a few tens of milliseconds at a time, so
        that they and the intake's writer take turns on a database with one write lock.
        `batch_handlers` apply runs of consecutive activities of their type together (the
        common, purely local cases: a handler's own transaction per activity costs more
        than the work). `make_way` is awaited after each stretch of work, outside the write
        turn, with how long it took (federation.inbox.pacing: the intake goes first)."""
        self._queue = queue
        self._make_way = make_way
        self._write_turn = write_turn or _no_turn
        self._handlers = handlers
        self._batch_handlers = batch_handlers or {}
        self._clock = clock
        self._unavailable = unavailable
        self.wakeup = asyncio.Event()
        self.progress = Progress("inbox")

    async def run_once(self, limit: int = BATCH) -> int:
        """Apply the due items (at most `limit`) and record their outcomes together; returns
        how many were looked at."""
        items = await self._queue.claim_due(self._clock(), limit)
        self.progress.found(len(items))
        settlements: list[Settlement] = []
        try:
            while len(settlements) < len(items):
                started = time.monotonic()
                async with self._write_turn():
                    turn_ends = time.monotonic() + WRITE_TURN_SECONDS
                    while len(settlements) < len(items) and time.monotonic() < turn_ends:
                        await self._apply_next(items[len(settlements) :], settlements)
                        self.progress.advanced()
                await self._make_way(time.monotonic() - started)
        finally:  # what was applied is recorded, even when the store failed on the next one
            if settlements:
                async with self._write_turn():
                    await self._queue.settle_many(settlements)
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

    async def _apply_next(self, items: list[QueuedActivity], into: list[Settlement]) -> None:
        """Apply the first item, or the run of items of its type when a batch handler takes
        that type (up to the first one it leaves to the one-at-a-time handler, applied next);
        their settlements go `into` the list one by one, in order (those made before a
        failure of the store are kept)."""
        kind = type_of(items[0].activity) or ""
        batch_handler = self._batch_handlers.get(kind)
        if batch_handler is None:
            into.append(await self._apply(items[0]))
            return
        run = list(itertools.takewhile(lambda i: type_of(i.activity) == kind, items))
        try:
            outcomes = await batch_handler([item.activity for item in run])
        except Exception as exc:  # one activity failed the batch: each on its own
            if self._unavailable(exc):
                raise
            log.warning(
                "inbox batch failed; applying one by one", extra={"error": _first_line(exc)}
            )
            for item in run:
                into.append(await self._apply(item))
            return
        decided = zip(run[: len(outcomes)], outcomes, strict=True)
        into.extend(self._settlement(item, outcome) for item, outcome in decided)
        if len(outcomes) < len(run):
            into.append(await self._apply(run[len(outcomes)]))

    async def _apply(self, item: QueuedActivity) -> Settlement:
        kind = type_of(item.activity) or ""
        handler = self._handlers.get(kind)
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
        return self._settlement(item, outcome)

    def _settlement(self, item: QueuedActivity, outcome: Outcome) -> Settlement:
        """What to record; a held item waits again, or is dropped once HOLD_FOR is over."""
        now = self._clock()
        hold_until = None
        if outcome.state == "held":
            if now - item.received_at >= HOLD_FOR:
                outcome = Outcome.ignored(f"target never arrived: {outcome.note}")
            else:
                hold_until = now + RETRY_HELD_AFTER
        return Settlement(item.item_id, outcome.state, outcome.note, hold_until)


def _first_line(error: BaseException) -> str:
    """The error's type and first line (SQL errors go on with the statement and its rows)."""
    return f"{type(error).__name__}: {next(iter(str(error).splitlines()), '')}"[:300]
