"""After a gap, read what the followed actors published while the link was down.

Each followed actor's outbox is paged back to the newest activity the node already holds
(federation/backfill.py), within a budget per actor; what is new goes into the inbox store,
oldest first, and the inbox worker applies it as if it had been delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import select

from federation.backfill import BackfillFailed, catch_up
from federation.http import FetchError
from node.services.federation.remote_actors import LookupFailed
from node.services.runtime import Runtime
from node.storage.inbox import SqlInbox
from node.storage.models import Follow, InboxItem

log = logging.getLogger(__name__)


@dataclass
class ActorCatchup:
    """What backfilling one followed actor gave."""

    actor: str
    new: int = 0
    pages: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""


@dataclass
class BackfillReport:
    """Every followed actor's catch-up."""

    actors: list[ActorCatchup] = field(default_factory=list)

    @property
    def new(self) -> int:
        """Activities found that the node did not have."""
        return sum(actor.new for actor in self.actors)


def _nothing() -> None:
    """Default wake-up: no worker runs in this process."""


async def backfill_followed(
    runtime: Runtime, inbox: SqlInbox, wake_inbox: Callable[[], None] = _nothing
) -> BackfillReport:
    """Page back the outbox of every actor a local actor follows (accepted follows only).

    An actor whose server does not answer is reported and left for the next reconnect; the
    others go on.
    """
    report = BackfillReport()
    for uri in await _followed(runtime):
        catchup = ActorCatchup(uri)
        report.actors.append(catchup)
        try:
            actor = await runtime.remote.get_actor(uri)
            if not actor.outbox:
                catchup.error = "the actor publishes no outbox"
                continue
            found = await catch_up(uri, actor.outbox, partial(_fetch, runtime), _known(runtime))
        except (LookupFailed, BackfillFailed) as failed:
            catchup.error = str(failed)
            log.info("backfill skipped", extra={"actor": uri, "reason": str(failed)})
            continue
        catchup.pages, catchup.refused = found.pages, found.refused
        for activity in found.activities:
            if await inbox.add_if_new(activity):
                catchup.new += 1
    if report.new:
        wake_inbox()
    return report


async def _followed(runtime: Runtime) -> list[str]:
    """Remote actors some local actor follows, their follow accepted."""
    local = f"{runtime.config.node.base_url}/%"
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(Follow.followed_uri)
            .where(Follow.follower_uri.like(local), Follow.state == "accepted")
            .distinct()
        )
        return sorted(rows)


async def _fetch(runtime: Runtime, url: str) -> dict[str, Any]:
    """A signed GET by the instance actor (servers in authorized-fetch mode require one)."""
    try:
        return await runtime.client.fetch_document(url, await runtime.signers.instance_signer())
    except FetchError as error:
        raise BackfillFailed(str(error)) from None


def _known(runtime: Runtime) -> Callable[[list[str]], Any]:
    """Which of some activity ids the inbox already holds."""

    async def known(ids: list[str]) -> set[str]:
        if not ids:
            return set()
        async with runtime.sessions() as session:
            rows = await session.scalars(
                select(InboxItem.activity_id).where(InboxItem.activity_id.in_(ids))
            )
            return set(rows)

    return known
