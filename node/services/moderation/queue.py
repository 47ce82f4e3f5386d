"""What the moderation queue page shows: the reports, and the sanctions in force."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from node.services.moderation.reports import QueuedReport, list_reports
from node.services.runtime import Runtime
from node.storage.models import (
    Account,
    AccountSanction,
    HiddenContent,
    RemoteActor,
    RemoteActorSanction,
)

REPORT_STATES = ("open", "resolved", "dismissed")
#: How many hidden items the page lists (the newest).
HIDDEN_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Suspended:
    """A resident's suspension in force."""

    username: str
    reason: str
    sanction: AccountSanction


@dataclass(frozen=True, slots=True)
class SanctionedRemote:
    """A remote account limited or suspended, with its handle when known."""

    sanction: RemoteActorSanction
    handle: str


@dataclass(frozen=True, slots=True)
class Queue:
    """The queue page: reports in one state, and what moderation has in force."""

    state: str
    reports: list[QueuedReport]
    hidden: list[HiddenContent]
    suspended: list[Suspended]
    remote: list[SanctionedRemote]


async def moderation_queue(runtime: Runtime, state: str = "open") -> Queue:
    """The reports in `state` (open by default) and the sanctions in force."""
    state = state if state in REPORT_STATES else "open"
    reports = await list_reports(runtime, state=state)
    async with runtime.sessions() as session:
        hidden = list(
            await session.scalars(
                select(HiddenContent).order_by(HiddenContent.hidden_at.desc()).limit(HIDDEN_SHOWN)
            )
        )
        suspended = [
            Suspended(username, sanction.reason, sanction)
            for sanction, username in await session.execute(
                select(AccountSanction, Account.username)
                .join(Account, Account.id == AccountSanction.account_id)
                .where(AccountSanction.kind == "suspension", AccountSanction.lifted_at.is_(None))
                .order_by(Account.username)
            )
        ]
        remote = [
            SanctionedRemote(sanction, f"@{username}@{domain}" if username else sanction.actor_uri)
            for sanction, username, domain in await session.execute(
                select(RemoteActorSanction, RemoteActor.username, RemoteActor.domain)
                .outerjoin(RemoteActor, RemoteActor.uri == RemoteActorSanction.actor_uri)
                .order_by(RemoteActorSanction.created_at.desc())
            )
        ]
    return Queue(state, reports, hidden, suspended, remote)
