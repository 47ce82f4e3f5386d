"""Group commit: many small writes share one transaction, written by one writer at a time.

SQLite has a single write lock; one transaction per request makes writers queue for it and
costs several thread hops each (DESIGN.md, "Libraries": about 1,000 rows/s against 3,500 with
group commit). Callers await their write's result, which is given only after the commit, so
an inbox still answers 202 only once its activity is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.storage.errors import is_database_unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
V = TypeVar("V")
Write = Callable[[AsyncSession], Awaitable[Any]]
#: Takes the values of a whole batch at once (one statement for them all, not one each) and
#: gives one result per value, in order.
BatchWrite = Callable[[AsyncSession, list[V]], Awaitable[list[Any]]]

#: Largest number of writes committed together.
MAX_BATCH = 500
#: Longest a batch waits for a write turn held by someone else (see `write_turn`), seconds.
MAX_TURN_WAIT_SECONDS = 0.25
#: Most writes waiting for their batch; more are refused at once (WritesQueueFull).
MAX_PENDING = 5_000


class WritesQueueFull(Exception):
    """MAX_PENDING writes already wait for the writer: this one is refused, not queued (the
    database is slower than what arrives; the caller asks its client to come back later)."""


async def _each(session: AsyncSession, operations: list[Write]) -> list[Any]:
    """The batch write of plain writes: each runs in turn in the shared transaction."""
    return [await operation(session) for operation in operations]


class GroupCommitter:
    """Runs submitted writes in shared transactions, one batch at a time.

    The writer task exists only while there is work, so nothing lingers between batches.
    A batch that fails is retried write by write, so one bad write fails alone.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], max_pending: int = MAX_PENDING
    ) -> None:
        self._sessions = sessions
        self._max_pending = max_pending
        self._pending: list[tuple[BatchWrite[Any], Any, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """Writers outside the committer (the inbox worker's handlers) take turns with it:
        inside the block no batch starts, so their writes find SQLite's single write lock
        free instead of sleeping in its busy handler while batches keep taking it. Either
        side waits at most MAX_TURN_WAIT_SECONDS for its turn (a handler may be slow, a
        batch may be stuck on a lock taken by another process), then goes on without it."""
        turn = await self._take_turn()
        try:
            yield
        finally:
            if turn:
                self._turn.release()

    async def write(self, operation: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `operation` inside a shared transaction; returns its result once committed."""
        result: T = await self.write_in_batch(_each, operation)
        return result

    async def write_in_batch(self, batch_write: BatchWrite[V], value: V) -> Any:
        """Add `value` to the next batch's call of `batch_write`, which gets the values of
        every write of the batch together (one multi-row statement instead of one statement
        per write); returns this value's result once committed. Raises WritesQueueFull when
        MAX_PENDING writes already wait, and the database's error when it cannot be written
        (locked past its busy timeout, read-only, full, gone): every write of that batch
        gets it at once, and the next batch tries again."""
        if len(self._pending) >= self._max_pending:
            raise WritesQueueFull(f"{len(self._pending)} writes wait for the database")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((batch_write, value, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="group-commit")
        return await future

    async def _drain(self) -> None:
        while self._pending:
            # One more turn of the event loop: the requests already under way add their
            # writes, and the batch shares one transaction among more of them.
            await asyncio.sleep(0)
            turn = await self._take_turn()
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                async with self._sessions.begin() as session:
                    results = await _run(session, batch)
            except Exception as exc:
                if is_database_unavailable(exc):  # no write of the batch can succeed now
                    log.warning("group commit failed", extra={"error": _first_line(exc)})
                    _fail(batch, exc)
                    continue
                # isolate the failing write: the others must not fail
                log.warning(
                    "group commit failed; writing one by one", extra={"error": _first_line(exc)}
                )
                await self._one_by_one(batch)
                continue
            finally:
                if turn:
                    self._turn.release()
            for (_, _, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _take_turn(self) -> bool:
        """Wait for the write turn (bounded); True when this batch holds it."""
        if not self._turn.locked():
            await self._turn.acquire()
            return True
        try:
            await asyncio.wait_for(self._turn.acquire(), MAX_TURN_WAIT_SECONDS)
        except TimeoutError:
            log.debug("went on without the write turn")
            return False
        return True

    async def _one_by_one(
        self, batch: list[tuple[BatchWrite[Any], Any, asyncio.Future[Any]]]
    ) -> None:
        for batch_write, value, future in batch:
            try:
                async with self._sessions.begin() as session:
                    (result,) = await batch_write(session, [value])
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)


def _fail(batch: list[tuple[BatchWrite[Any], Any, asyncio.Future[Any]]], error: Exception) -> None:
    """Give `error` to every write of the batch still waiting."""
    for _, _, future in batch:
        if not future.done():
            future.set_exception(error)


async def _run(
    session: AsyncSession, batch: list[tuple[BatchWrite[Any], Any, asyncio.Future[Any]]]
) -> list[Any]:
    """Each batch write called once with its values (in order of first arrival); the results
    in the order of `batch`."""
    groups: dict[BatchWrite[Any], list[int]] = {}
    for index, (batch_write, _, _) in enumerate(batch):
        groups.setdefault(batch_write, []).append(index)
    results: list[Any] = [None] * len(batch)
    for batch_write, indexes in groups.items():
        answers = await batch_write(session, [batch[i][1] for i in indexes])
        for index, answer in zip(indexes, answers, strict=True):
            results[index] = answer
    return results


def _first_line(error: BaseException) -> str:
    """The error's type and first line (SQL errors go on with the statement and its rows)."""
    return f"{type(error).__name__}: {next(iter(str(error).splitlines()), '')}"[:300]
