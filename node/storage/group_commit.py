"""Group commit: many small writes share one transaction, written by one writer at a time.

SQLite has a single write lock; one transaction per request makes writers queue for it and
costs several thread hops each (DESIGN.md, "Libraries": about 1,000 rows/s against 3,500 with
group commit). Callers await their write's result, which is given only after the commit, so
an inbox still answers 202 only once its activity is durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")
Write = Callable[[AsyncSession], Awaitable[Any]]

#: Largest number of writes committed together.
MAX_BATCH = 500


class GroupCommitter:
    """Runs submitted writes in shared transactions, one batch at a time.

    The writer task exists only while there is work, so nothing lingers between batches.
    A batch that fails is retried write by write, so one bad write fails alone.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, operation: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `operation` inside a shared transaction; returns its result once committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((operation, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="group-commit")
        result: T = await future
        return result

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                async with self._sessions.begin() as session:
                    results = [await operation(session) for operation, _ in batch]
            except Exception:  # isolate the failing write: the others must not fail with it
                await self._one_by_one(batch)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, batch: list[tuple[Write, asyncio.Future[Any]]]) -> None:
        for operation, future in batch:
            try:
                async with self._sessions.begin() as session:
                    result = await operation(session)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)
