"""Domain blocks: add, change and lift them; a suspension removes what the domain left here.

Severities and flags are Mastodon's (noop, silence, suspend; reject_media, reject_reports,
public and private comments, obfuscate). The configuration's `federation.blocked_domains`
keeps working: its domains are stored as suspensions at start-up (source "config"), and such
a block is lifted by removing it from the configuration file.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.domain_policy import InvalidDomain, covering, normalise_domain
from federation.ports import DomainSeverity
from instance_config import InstanceConfig
from node.services.moderation.journal import record_action
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Account, DomainBlock
from node.storage.moderation import Removed, remove_domains_content

#: Longest public or private comment kept (Mastodon has no limit; a page must stay readable).
MAX_COMMENT = 1000


class BlockError(ValueError):
    """A block refused; the message (French) says why, `field` names what is wrong
    (domain, severity, comment) for the forms and the block list import."""

    def __init__(self, message: str, field: str = "domain") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class BlockRequest:
    """A domain block as asked for, validated."""

    domain: str
    severity: DomainSeverity
    reject_media: bool = False
    reject_reports: bool = False
    public_comment: str = ""
    private_comment: str = ""
    obfuscate: bool = False


def block_request(
    domain: str,
    severity: str,
    *,
    reject_media: bool = False,
    reject_reports: bool = False,
    public_comment: str = "",
    private_comment: str = "",
    obfuscate: bool = False,
) -> BlockRequest:
    """Validate a block: a normalised domain, a known severity, comments of bounded size."""
    try:
        name = normalise_domain(domain)
    except InvalidDomain:
        raise BlockError(f"« {domain.strip()[:100]} » n'est pas un nom de domaine.") from None
    try:
        level = DomainSeverity(severity.strip().lower())
    except ValueError:
        raise BlockError(
            f"Sévérité inconnue « {severity.strip()[:40]} » : noop, silence ou suspend.",
            "severity",
        ) from None
    for comment in (public_comment, private_comment):
        if len(comment) > MAX_COMMENT:
            raise BlockError(f"Un commentaire compte au plus {MAX_COMMENT} caractères.", "comment")
    return BlockRequest(
        name,
        level,
        reject_media,
        reject_reports,
        public_comment.strip(),
        private_comment.strip(),
        obfuscate,
    )


@dataclass(frozen=True, slots=True)
class SavedBlock:
    """A block stored: whether it is new, and what its suspension removed."""

    block: DomainBlock
    created: bool
    removed: Removed


async def save_block(
    runtime: Runtime,
    request: BlockRequest,
    moderator: Account | None = None,
    *,
    source: str = "admin",
) -> SavedBlock:
    """Add or change a block; a suspension removes the domain's content and follow relations
    at once. The in-memory policy is reloaded before returning."""
    async with runtime.sessions.begin() as session:
        saved = await store_block(session, runtime.config, request, moderator, source=source)
    await runtime.moderation.refresh(runtime.sessions)
    return saved


async def store_block(
    session: AsyncSession,
    config: InstanceConfig,
    request: BlockRequest,
    moderator: Account | None = None,
    *,
    source: str = "admin",
) -> SavedBlock:
    """`save_block` inside the caller's transaction."""
    refuse_own_domain(config, request.domain)
    block = await session.get(DomainBlock, request.domain)
    created = block is None
    if block is None:
        block = DomainBlock(domain=request.domain, source=source)
        session.add(block)
    was_suspended = block.severity == DomainSeverity.SUSPEND.value
    fill_block(block, request)
    removed = Removed()
    if request.severity is DomainSeverity.SUSPEND and not was_suspended:
        await session.flush()
        removed = await remove_domains_content(session, {request.domain})
    await journal_block(session, request, moderator)
    return SavedBlock(block, created, removed)


def refuse_own_domain(config: InstanceConfig, domain: str) -> None:
    """A node never blocks itself (a block of its host or a parent domain would)."""
    if domain in covering(config.node.domain):
        raise BlockError("Ce nœud ne peut pas bloquer son propre domaine.", "own_domain")


def fill_block(block: DomainBlock, request: BlockRequest) -> None:
    """Give a stored block the severity, flags and comments asked for."""
    block.severity = request.severity.value
    block.reject_media = request.reject_media
    block.reject_reports = request.reject_reports
    block.public_comment = request.public_comment
    block.private_comment = request.private_comment
    block.obfuscate = request.obfuscate
    block.updated_at = utcnow()


async def journal_block(
    session: AsyncSession, request: BlockRequest, moderator: Account | None
) -> None:
    """Journal a block (counted on the public page)."""
    reason = f"{request.severity.value}: {request.private_comment or request.public_comment}"
    await record_action(session, "block_domain", request.domain, reason.strip(), moderator)


async def remove_block(runtime: Runtime, domain: str, moderator: Account | None = None) -> None:
    """Lift a block: the domain federates again (what a suspension removed stays removed)."""
    try:
        name = normalise_domain(domain)
    except InvalidDomain:
        raise BlockError(f"« {domain.strip()[:100]} » n'est pas un nom de domaine.") from None
    async with runtime.sessions.begin() as session:
        block = await session.get(DomainBlock, name)
        if block is None:
            raise BlockError(f"Le domaine {name} n'est pas bloqué.", "not_blocked")
        if block.source == "config" and name in _configured(runtime.config):
            raise BlockError(
                f"Le blocage de {name} vient de la configuration (federation.blocked_domains) : "
                "retirez-le du fichier de configuration.",
                "configured",
            )
        await session.delete(block)
        await record_action(session, "unblock_domain", name, "", moderator)
    await runtime.moderation.refresh(runtime.sessions)


async def list_blocks(sessions: async_sessionmaker[AsyncSession]) -> list[DomainBlock]:
    """Every block, by domain."""
    async with sessions() as session:
        return list(await session.scalars(select(DomainBlock).order_by(DomainBlock.domain)))


def _configured(config: InstanceConfig) -> set[str]:
    names = set()
    for domain in config.federation.blocked_domains:
        try:
            names.add(normalise_domain(domain))
        except InvalidDomain:
            continue  # the configuration loader already refused malformed domains
    return names


async def adopt_configured_blocks(
    sessions: async_sessionmaker[AsyncSession], config: InstanceConfig
) -> int:
    """Store the configuration's blocked domains as suspensions (once each); returns how many
    were new. Their content is removed as for any suspension."""
    wanted = _configured(config)
    if not wanted:
        return 0
    added = 0
    async with sessions.begin() as session:
        known = set(
            await session.scalars(select(DomainBlock.domain).where(DomainBlock.domain.in_(wanted)))
        )
        for domain in sorted(wanted - known):
            request = BlockRequest(
                domain, DomainSeverity.SUSPEND, private_comment="federation.blocked_domains"
            )
            try:
                await store_block(session, config, request, source="config")
            except BlockError:
                continue  # the node's own domain: `maillage check` says so
            added += 1
    return added
