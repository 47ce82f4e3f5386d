"""The public moderation page: the blocked domains with their public reasons, and how many
moderation actions were taken each month. The territory's rules of the game are visible."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from node.services.moderation.domain_blocks import list_blocks
from node.services.moderation.journal import MONTHS_SHOWN, MonthCount, monthly_counts
from node.services.runtime import Runtime
from node.storage.base import utcnow


def obfuscated(domain: str) -> str:
    """A domain partly hidden the way Mastodon shows it (DomainBlock#public_domain): the
    middle half of its characters, dots excepted, become `*`.

    >>> obfuscated("example.com")
    'exa****.*om'
    >>> obfuscated("a.b")
    'a.b'
    """
    length = len(domain)
    visible = length // 4
    return "".join(
        "*" if visible < index < length - visible and char != "." else char
        for index, char in enumerate(domain)
    )


@dataclass(frozen=True, slots=True)
class PublicBlock:
    """A block as the public sees it."""

    domain: str
    severity: str
    reject_media: bool
    reject_reports: bool
    reason: str


@dataclass(frozen=True, slots=True)
class PublicModeration:
    """Everything the public page shows."""

    blocks: list[PublicBlock]
    months: list[MonthCount]


async def public_moderation(runtime: Runtime) -> PublicModeration:
    """The blocked domains (obfuscated ones partly hidden) and the last months' counts."""
    blocks = [
        PublicBlock(
            obfuscated(block.domain) if block.obfuscate else block.domain,
            block.severity,
            block.reject_media,
            block.reject_reports,
            block.public_comment,
        )
        for block in await list_blocks(runtime.sessions)
    ]
    since = utcnow() - timedelta(days=31 * MONTHS_SHOWN)
    months = await monthly_counts(runtime.sessions, runtime.config.territory.zone, since)
    return PublicModeration(blocks, months)
