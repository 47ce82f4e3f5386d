"""What federation needs from the application, as small structural interfaces.

`node` implements these (storage, keys, handlers); federation never imports node, so its
pipeline and workers stay testable and auditable on their own (Lemmy's trait seam).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from protocols.keys import PublicKey


@dataclass(frozen=True, slots=True)
class ActorKey:
    """A public key and the actor that owns it (the actor's document lists the key)."""

    key_id: str
    owner: str
    public_key: PublicKey


class KeyResolver(Protocol):
    """Finds the public key a signature names: cached, or fetched with a signed GET."""

    async def get_key(self, key_id: str, *, refresh: bool = False) -> ActorKey | None:
        """The key, or None when it cannot be had (gone, unreachable, malformed).

        `refresh` bypasses the cache: used once when a signature fails, for key rotation.
        """
        ...


class KnownKeys(Protocol):
    """The keys this node already holds, without any network fetch (offline use)."""

    async def cached_key(self, key_id: str) -> ActorKey | None:
        """The key if this node has it stored, else None."""
        ...


@dataclass(frozen=True, slots=True)
class ReceivedActivity:
    """An authenticated activity, ready to be stored raw."""

    activity_id: str
    type: str
    actor: str
    object_id: str | None
    raw: dict[str, Any]
    #: `raw` as the sender's JSON text, when nothing of it was changed on reading (stored
    #: as is: serialising the document again costs as much as parsing it)
    raw_text: str | None = None


class StoreUnavailable(Exception):
    """The store cannot take the activity now (its database locked, read-only, full or
    unreachable, or too many writes already waiting): the sender should try again later."""


class InboxStore(Protocol):
    """Keeps received activities; the unique activity id deduplicates."""

    async def add_if_new(self, activity: ReceivedActivity) -> bool:
        """Store the activity unless its id is known; True when it was new, once it is
        durable. Raises StoreUnavailable when it cannot be stored now."""
        ...

    def backlog(self) -> int:
        """How many stored activities wait to be applied, as last known (no query: asked on
        every inbox POST, for backpressure)."""
        ...


@dataclass(frozen=True, slots=True)
class QueuedActivity:
    """A stored activity waiting for its effects to be applied."""

    item_id: str
    activity: dict[str, Any]
    attempts: int
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Settlement:
    """What applying a stored activity gave (applied, ignored, held, failed), to record."""

    item_id: str
    state: str
    note: str
    #: when a held item is due again
    hold_until: datetime | None = None


class InboxQueue(Protocol):
    """The worker's view of stored activities."""

    async def claim_due(self, now: datetime, limit: int) -> list[QueuedActivity]:
        """Pending items and held items whose wait is over, oldest first."""
        ...

    async def settle_many(self, settlements: list[Settlement]) -> None:
        """Record what applying a batch of items gave, in one transaction."""
        ...

    async def count_due(self, now: datetime) -> int:
        """How many items `claim_due` would give with no limit."""
        ...


class DomainSeverity(StrEnum):
    """What a domain block does, with Mastodon's names (admin/domain_blocks)."""

    #: nothing but the flags (reject_media, reject_reports)
    NOOP = "noop"
    #: the domain's accounts are limited: hidden from public lists, visible on direct link
    SILENCE = "silence"
    #: nothing is received from, fetched from or delivered to the domain; its content goes
    SUSPEND = "suspend"


@dataclass(frozen=True, slots=True)
class DomainRule:
    """The block that applies to a domain (host, or host:port for that port only)."""

    domain: str
    severity: DomainSeverity
    reject_media: bool = False
    reject_reports: bool = False


class DomainPolicy(Protocol):
    """The node's domain blocks, looked up without I/O (kept in memory by the node and
    refreshed when an admin changes them)."""

    def rule_for(self, domain: str) -> DomainRule | None:
        """The most specific block covering `domain` (host[:port]; a block of a host covers
        its subdomains and every port), or None."""
        ...
