"""Two years in a few seconds: the sample is created now, through the node's services, then
each row it created is moved back to the moment the story gives it.

The services stamp what they create with the current time (some take a `now`, and the demo
gives it). Right after each step, `Backdater` rewrites the timestamps of the rows that step
created or changed: creation and update times, and the steps of the visible history. Every
sample moment is before the demo started, so a history step still dated after that start is
one the current step just wrote.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.domain.local_time import local_day
from node.storage.models import StateChange


@dataclass(frozen=True, slots=True)
class Clock:
    """The moment the demo started, and the sample's moments relative to it, on the
    territory's clock (`zone`)."""

    now: datetime
    zone: tzinfo

    def at(self, days_ago: float) -> datetime:
        """The moment (UTC) so many days before the demo (negative: after), at a believable
        hour of the territory's clock.

        Whole days fall in the evening, between 17:00 and 20:00 local time depending on the
        day; the fraction of a day moves the moment earlier that day (0.5: around noon), never
        before 06:00, so never into the night hour that summer time skips or repeats. Later
        sample moments always map to later moments, so the story's order holds.
        """
        whole = math.floor(days_ago)
        midnight = datetime.combine(local_day(self.now, self.zone), time(0), tzinfo=self.zone)
        evening = timedelta(hours=20) - timedelta(hours=3) * _spread(whole)
        moment = (
            midnight - timedelta(days=whole) + evening - timedelta(hours=11) * (days_ago - whole)
        ).astimezone(UTC)
        if days_ago >= 0 and moment >= self.now:  # today's evening has not come yet
            moment = self.now - timedelta(days=days_ago)
        return moment

    def day(self, days_ago: float) -> date:
        """The territory's day so many days before the demo (negative: after)."""
        return local_day(self.at(days_ago), self.zone)


def _spread(number: int) -> float:
    """A fixed, evenly spread value in [0, 1) for a number (Knuth's multiplicative hash)."""
    return ((number * 2654435761) % 2**32) / 2**32


class Backdater:
    """Moves rows the demo just created back to their sample moment."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], started: datetime) -> None:
        self._sessions = sessions
        self._started = started

    async def stamp(self, when: datetime, *objects: Any, created: bool = False) -> None:
        """Date the history steps just written for these objects (they have a `uri`), and
        their update time; with `created`, their creation time too."""
        async with self._sessions.begin() as session:
            await self._history(session, when, [o.uri for o in objects])
            for item in objects:
                model = type(item)
                columns = model.__table__.c
                values = {"updated_at": when} if "updated_at" in columns else {}
                if created and "created_at" in columns:
                    values["created_at"] = when
                if values:
                    await _set(session, model, [model.id == item.id], values)

    async def history(self, when: datetime, uris: Iterable[str]) -> None:
        """Date the history steps just written for objects known by their URI."""
        async with self._sessions.begin() as session:
            await self._history(session, when, list(uris))

    async def rows(self, model: Any, where: list[Any], **values: Any) -> None:
        """Set columns of the rows of `model` matching every condition of `where`."""
        async with self._sessions.begin() as session:
            await _set(session, model, where, values)

    async def _history(self, session: AsyncSession, when: datetime, uris: list[str]) -> None:
        if uris:
            await _set(
                session,
                StateChange,
                [StateChange.object_uri.in_(uris), StateChange.at >= self._started],
                {"at": when},
            )


async def _set(session: AsyncSession, model: Any, where: list[Any], values: dict[str, Any]) -> None:
    await session.execute(
        update(model).where(*where).values(**values).execution_options(synchronize_session=False)
    )
