"""Queries of the abuse limits: login failure counters and the refusal counts.

Every write is one atomic upsert, so that several processes on one PostgreSQL database count
together (and SQLite's single writer never sees a read-then-write race)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.storage.base import UTCDateTime
from node.storage.dialects import insert_or_ignore
from node.storage.models import LoginThrottle, Refusal


async def login_throttles(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> list[LoginThrottle]:
    """The counters of these (scope, key) pairs that exist."""
    found = []
    for scope, key in keys:
        row = await session.get(LoginThrottle, (scope, key))
        if row is not None:
            found.append(row)
    return found


async def count_login_failure(
    session: AsyncSession, scope: str, key: str, now: datetime, window: timedelta
) -> int:
    """Add one failure to a counter (a new window if the last one is over); the count now."""
    table = LoginThrottle.__table__
    moment = literal(now, UTCDateTime)
    over = table.c.window_started_at <= literal(now - window, UTCDateTime)
    statement = insert_or_ignore(session, LoginThrottle).values(
        scope=scope, key=key, failures=1, window_started_at=now, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.key],
        set_={
            "failures": case((over, 1), else_=table.c.failures + 1),
            "window_started_at": case((over, moment), else_=table.c.window_started_at),
            "updated_at": moment,
        },
    ).returning(table.c.failures)
    return int((await session.execute(statement)).scalar_one())


async def set_login_wait(
    session: AsyncSession,
    scope: str,
    key: str,
    *,
    next_attempt_at: datetime | None = None,
    locked_until: datetime | None = None,
) -> None:
    """Make the counter wait until `next_attempt_at`, or lock it until `locked_until` (a
    lock starts a new count)."""
    values: dict[str, object] = {"next_attempt_at": next_attempt_at}
    if locked_until is not None:
        values |= {"locked_until": locked_until, "failures": 0, "window_started_at": locked_until}
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        .values(**values)
    )


async def clear_login_failures(session: AsyncSession, scope: str, key: str) -> None:
    """Forget a counter (a successful login clears its account's)."""
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
    )


async def prune_login_throttles(session: AsyncSession, before: datetime) -> int:
    """Drop counters untouched since `before` whose lock is over; how many went."""
    result = await session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.updated_at < before,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < before),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def add_refusals(
    session: AsyncSession, counts: Iterable[tuple[str, str, datetime, int, datetime]]
) -> None:
    """Add (kind, key, minute, count, last_at) to the stored counts, one upsert each."""
    table = Refusal.__table__
    for kind, key, minute, count, last_at in counts:
        statement = insert_or_ignore(session, Refusal).values(
            kind=kind, key=key, minute=minute, count=count, last_at=last_at
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.kind, table.c.key, table.c.minute],
                set_={
                    "count": table.c.count + statement.excluded.count,
                    "last_at": statement.excluded.last_at,
                },
            )
        )


@dataclass(frozen=True, slots=True)
class RefusalTotal:
    """Refusals of one kind for one key since a moment: how many, and the last one."""

    kind: str
    key: str
    count: int
    last_at: datetime


async def refusal_totals(session: AsyncSession, since: datetime, limit: int) -> list[RefusalTotal]:
    """Per kind and key, the refusals since `since`, the most recent first."""
    last = func.max(Refusal.last_at)
    rows = await session.execute(
        select(Refusal.kind, Refusal.key, func.sum(Refusal.count), last)
        .where(Refusal.minute >= since)
        .group_by(Refusal.kind, Refusal.key)
        .order_by(last.desc())
        .limit(limit)
    )
    return [RefusalTotal(kind, key, int(count), at) for kind, key, count, at in rows]


async def prune_refusals(session: AsyncSession, before: datetime) -> None:
    """Drop the counts of minutes before `before`."""
    await session.execute(delete(Refusal).where(Refusal.minute < before))
