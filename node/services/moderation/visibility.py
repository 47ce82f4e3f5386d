"""What moderation changes on the read side: hidden items and comments (their reason shown in
their place), limited remote accounts (left out of lists), residents' suspensions and
warnings. Reads only: the pages' services ask here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.domain_policy import DomainRules
from federation.ports import DomainRule, DomainSeverity
from node.storage.models import AccountSanction, DomainBlock, HiddenContent, RemoteActorSanction
from protocols.activitystreams import host_of


async def hidden_reasons(session: AsyncSession, uris: Iterable[str]) -> dict[str, str]:
    """The reasons of those URIs that moderation hid."""
    wanted = list(dict.fromkeys(uris))
    if not wanted:
        return {}
    rows = await session.execute(
        select(HiddenContent.uri, HiddenContent.reason).where(HiddenContent.uri.in_(wanted))
    )
    return {uri: reason for uri, reason in rows}


async def limited_among(session: AsyncSession, actor_uris: Iterable[str]) -> set[str]:
    """Those remote actors that moderation limited (silenced) or suspended, themselves or
    through their domain: their posts stay out of lists."""
    wanted = [uri for uri in dict.fromkeys(actor_uris) if uri]
    if not wanted:
        return set()
    limited = set(
        await session.scalars(
            select(RemoteActorSanction.actor_uri).where(RemoteActorSanction.actor_uri.in_(wanted))
        )
    )
    blocks = DomainRules(
        DomainRule(domain, DomainSeverity(severity))
        for domain, severity in await session.execute(
            select(DomainBlock.domain, DomainBlock.severity).where(
                DomainBlock.severity.in_(
                    (DomainSeverity.SILENCE.value, DomainSeverity.SUSPEND.value)
                )
            )
        )
    )
    if len(blocks):
        limited |= {uri for uri in wanted if blocks.rule_for(host_of(uri)) is not None}
    return limited


async def active_suspension(session: AsyncSession, account_id: str) -> AccountSanction | None:
    """The suspension in force on a resident's account, if any."""
    return (
        await session.scalars(
            select(AccountSanction)
            .where(
                AccountSanction.account_id == account_id,
                AccountSanction.kind == "suspension",
                AccountSanction.lifted_at.is_(None),
            )
            .order_by(AccountSanction.created_at.desc())
        )
    ).first()


async def warnings_of(
    sessions: async_sessionmaker[AsyncSession], account_id: str
) -> list[AccountSanction]:
    """The warnings a resident received, newest first (shown on their profile)."""
    async with sessions() as session:
        return list(
            await session.scalars(
                select(AccountSanction)
                .where(AccountSanction.account_id == account_id, AccountSanction.kind == "warning")
                .order_by(AccountSanction.created_at.desc())
            )
        )


@dataclass(frozen=True, slots=True)
class Marks:
    """What moderation changes on one page: the hidden URIs with their reasons, and the
    limited authors whose posts stay out of its lists."""

    hidden: dict[str, str] = field(default_factory=dict)
    limited: frozenset[str] = frozenset()


async def moderation_marks(
    sessions: async_sessionmaker[AsyncSession],
    uris: Iterable[str],
    authors: Iterable[str] = (),
) -> Marks:
    """The marks of a page showing these objects (the item, its comments) by these authors."""
    async with sessions() as session:
        hidden = await hidden_reasons(session, uris)
        limited = await limited_among(session, authors)
    return Marks(hidden, frozenset(limited))
