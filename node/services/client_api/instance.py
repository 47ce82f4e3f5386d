"""Figures the instance entities give: residents, activity, posts, known servers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from node.convert.mastodon import AccountFacts
from node.domain.actors import ActorKind
from node.services.client_api.accounts import local_facts
from node.services.runtime import Runtime
from node.storage.actors import count_accounts, get_actor_of_kind
from node.storage.models import OutboxEntry, RemoteActor


@dataclass(frozen=True, slots=True)
class InstanceCounts:
    """Counts for /api/v1/instance and /api/v2/instance."""

    users: int
    active: int
    statuses: int
    domains: int
    territory: AccountFacts | None


async def instance_counts(runtime: Runtime, active_since: datetime) -> InstanceCounts:
    """The node's residents, those seen since a date, public posts and known servers."""
    async with runtime.sessions() as session:
        statuses = await session.scalar(
            select(func.count()).where(OutboxEntry.type == "Create", OutboxEntry.public)
        )
        domains = await session.scalar(select(func.count(func.distinct(RemoteActor.domain))))
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
        return InstanceCounts(
            users=await count_accounts(session),
            active=await count_accounts(session, active_since),
            statuses=int(statuses or 0),
            domains=int(domains or 0),
            territory=await local_facts(runtime, session, territory) if territory else None,
        )
