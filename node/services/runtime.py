"""Everything the federation use cases share, built once per process by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.http import FederationClient
from federation.limits import InboxLimits, TokenBuckets, process_share
from instance_config import InstanceConfig
from node.services.federation.remote_actors import RemoteActors
from node.services.federation.signers import LocalSigners
from node.services.limits.logins import LoginLimiter
from node.services.limits.refusals import RefusalLog
from node.services.moderation.policy import ModerationPolicy
from node.storage.keyring import KeyRing


def _nothing() -> None:
    """Default wake-up when no worker runs in this process (the CLI): the server's worker
    finds new outbox entries on its next poll."""


@dataclass
class Runtime:
    """Shared objects of the node's federation use cases."""

    config: InstanceConfig
    sessions: async_sessionmaker[AsyncSession]
    client: FederationClient
    keyring: KeyRing
    signers: LocalSigners
    remote: RemoteActors
    #: what the abuse limits refused, for the admin
    refusals: RefusalLog
    #: login throttling (pages, OAuth password grant, account deletion)
    login_limits: LoginLimiter
    #: the inbox's rates per remote host and actor (this process's share, in its memory)
    inbox_limits: InboxLimits
    #: domain blocks and sanctioned remote accounts, in memory (shared with the client)
    moderation: ModerationPolicy = field(default_factory=ModerationPolicy)
    #: called after an outbox entry is committed, so the delivery worker starts at once
    wake_delivery: Callable[[], None] = field(default=_nothing)


def make_runtime(
    config: InstanceConfig,
    sessions: async_sessionmaker[AsyncSession],
    client: FederationClient,
    keyring: KeyRing,
    moderation: ModerationPolicy | None = None,
) -> Runtime:
    """Wire the shared objects together; `moderation` is the policy the client was given."""
    signers = LocalSigners(sessions, keyring, config)
    remote = RemoteActors(sessions, client, signers, config)
    refusals = RefusalLog(sessions)
    return Runtime(
        config,
        sessions,
        client,
        keyring,
        signers,
        remote,
        refusals,
        LoginLimiter(sessions, config, refusals),
        inbox_limits(config),
        moderation or ModerationPolicy(),
    )


def inbox_limits(config: InstanceConfig) -> InboxLimits:
    """This process's inbox buckets: its share of the configured per-host and per-actor
    rates, so that the `http.workers` processes of one node together admit what
    `[limits]` allows, not that many times it."""
    limits, workers = config.limits, config.http.workers

    def buckets(per_minute: int, burst: int) -> TokenBuckets:
        return TokenBuckets(process_share(per_minute, workers), process_share(burst, workers))

    return InboxLimits(
        hosts=buckets(limits.inbox_host_per_minute, limits.inbox_host_burst),
        actors=buckets(limits.inbox_actor_per_minute, limits.inbox_actor_burst),
    )
