"""Signing identities of local actors, loaded once per process (implements SignerSource)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.signing import Signer
from instance_config import InstanceConfig
from node.convert.urls import actor_id as actor_url
from node.domain.actors import ActorKind
from node.storage.actors import get_actor_of_kind
from node.storage.keyring import KeyRing
from node.storage.models import LocalActor

#: The actors that sign most: every fetch (the instance) and every publication (the territory).
WARM_KINDS = (ActorKind.INSTANCE, ActorKind.TERRITORY)


class LocalSigners:
    """The RSA key each local actor signs its requests with, keyed `<actor>#main-key`."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], keyring: KeyRing, config: InstanceConfig
    ) -> None:
        self._sessions = sessions
        self._keyring = keyring
        self._config = config
        self._signers: dict[str, Signer] = {}
        self._instance_id: str | None = None

    def signer_of(self, actor: LocalActor) -> Signer:
        """The signer of a loaded local actor."""
        signer = self._signers.get(actor.id)
        if signer is None:
            keys = self._keyring.keys_for(actor)
            signer = Signer(f"{actor_url(self._config, actor)}#main-key", keys.rsa_private)
            self._signers[actor.id] = signer
        return signer

    async def signer_for(self, actor_id: str) -> Signer:
        """The signer of a local actor by its database id."""
        if actor_id in self._signers:
            return self._signers[actor_id]
        async with self._sessions() as session:
            actor = await session.get(LocalActor, actor_id)
        if actor is None:
            raise LookupError(f"no local actor {actor_id}")
        return self.signer_of(actor)

    async def warm_up(self) -> None:
        """Load the instance's and the territory's keys now (about 30 ms each), so that the
        first fetch or the first delivery of a fan-out does not wait for them."""
        async with self._sessions() as session:
            actors = [await get_actor_of_kind(session, kind) for kind in WARM_KINDS]
        for actor in actors:
            if actor is not None:  # a node not initialised yet has none
                self.signer_of(actor)

    async def instance_signer(self) -> Signer:
        """The instance actor's signer, used for every signed GET (FEP-2677)."""
        if self._instance_id is None:
            async with self._sessions() as session:
                actor = await get_actor_of_kind(session, ActorKind.INSTANCE)
            if actor is None:
                raise LookupError("the node has no instance actor: run `maillage init`")
            self._instance_id = actor.id
            return self.signer_of(actor)
        return await self.signer_for(self._instance_id)
