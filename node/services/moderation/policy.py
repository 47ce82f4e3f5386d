"""The moderation decisions federation consults on every request, kept in memory.

One `ModerationPolicy` per process: the inbox pipeline, the outbound client and the delivery
worker read it without I/O (it implements federation.ports.DomainPolicy). It is reloaded
from the database after every change made in this process, and periodically by the server
so that changes made by a CLI command reach it too.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.domain_policy import DomainRules, suspends
from federation.ports import DomainRule, DomainSeverity
from node.storage.models import DomainBlock, RemoteActorSanction
from protocols.activitystreams import host_of

#: How often the server reloads the blocks, for changes made by another process (the CLI).
REFRESH_SECONDS = 5.0


class ModerationPolicy:
    """Domain blocks and sanctioned remote accounts, as a snapshot in memory."""

    def __init__(self) -> None:
        """An empty policy: nothing blocked until `refresh` loads the database's."""
        self.domains = DomainRules()
        self._actors: dict[str, DomainSeverity] = {}

    def rule_for(self, domain: str) -> DomainRule | None:
        """The most specific domain block covering `domain` (federation's DomainPolicy)."""
        return self.domains.rule_for(domain)

    def is_cut_off(self, actor_uri: str) -> bool:
        """Whether nothing from this actor may be received: it, or its domain, is suspended."""
        return self._actors.get(actor_uri) is DomainSeverity.SUSPEND or suspends(
            self.domains, host_of(actor_uri)
        )

    def rejects_media(self, domain: str) -> bool:
        """Whether the domain's images (avatars) must not be shown: a block with
        reject_media, or a suspension."""
        rule = self.rule_for(domain)
        return rule is not None and (rule.reject_media or rule.severity is DomainSeverity.SUSPEND)

    def replace(self, rules: list[DomainRule], actors: dict[str, DomainSeverity]) -> None:
        """Swap in a new snapshot."""
        self.domains.replace(rules)
        self._actors = dict(actors)

    async def refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Reload the snapshot from the database."""
        async with sessions() as session:
            rules = await load_domain_rules(session)
            actors = {
                uri: DomainSeverity(severity)
                for uri, severity in await session.execute(
                    select(RemoteActorSanction.actor_uri, RemoteActorSanction.severity)
                )
            }
        self.replace(rules, actors)


async def load_domain_rules(session: AsyncSession) -> list[DomainRule]:
    """Every stored domain block as the rule federation applies."""
    return [
        DomainRule(
            domain=block.domain,
            severity=DomainSeverity(block.severity),
            reject_media=block.reject_media,
            reject_reports=block.reject_reports,
        )
        for block in await session.scalars(select(DomainBlock))
    ]
