"""Creating a node's own actors and first admin: what `maillage init` and a first `serve` do."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.domain.actors import ActorKind, Role
from node.services.accounts.passwords import hash_password, one_time_password
from node.storage.actors import count_accounts, get_actor_of_kind
from node.storage.models import Account, LocalActor
from protocols.keys import generate_actor_keys

ADMIN_USERNAME = "admin"


@dataclass(frozen=True, slots=True)
class AdminCredentials:
    """The first admin's login, printed once by the CLI."""

    username: str
    password: str


def instance_username(config: InstanceConfig) -> str:
    """The instance actor's username: the host name, as Mastodon does (it holds a dot or is
    an address, so it can never collide with a local handle, which has none)."""
    return config.node.host


async def initialise_node(
    sessions: async_sessionmaker[AsyncSession], config: InstanceConfig
) -> AdminCredentials | None:
    """Create the instance and territory actors, and a first admin when the node has no
    account; returns the admin's one-time credentials, or None when nothing was created."""
    async with sessions.begin() as session:
        await _ensure_actor(
            session, ActorKind.INSTANCE, instance_username(config), config.node.domain
        )
        await _ensure_actor(
            session,
            ActorKind.TERRITORY,
            config.territory.handle,
            config.territory.name,
            config.territory.description,
        )
        if await count_accounts(session):
            return None
        password = one_time_password()
        admin_actor = await _ensure_actor(session, ActorKind.PERSON, ADMIN_USERNAME, "Admin")
        session.add(
            Account(
                username=ADMIN_USERNAME,
                password_hash=hash_password(password),
                role=Role.ADMIN.value,
                actor_id=admin_actor.id,
                must_change_password=True,
            )
        )
        return AdminCredentials(ADMIN_USERNAME, password)


async def _ensure_actor(
    session: AsyncSession, kind: ActorKind, username: str, name: str, summary: str = ""
) -> LocalActor:
    """The node's actor of that kind (one instance, one territory), created with keys if absent."""
    if kind is not ActorKind.PERSON:
        existing = await get_actor_of_kind(session, kind)
        if existing is not None:
            return existing
    keys = generate_actor_keys()
    actor = LocalActor(
        kind=kind.value,
        username=username,
        display_name=name,
        summary=summary,
        rsa_private_pem=keys.rsa_private_pem,
        ed25519_private_pem=keys.ed25519_private_pem,
        discoverable=kind is not ActorKind.PERSON,
        indexable=kind is not ActorKind.PERSON,
    )
    session.add(actor)
    await session.flush()
    return actor
