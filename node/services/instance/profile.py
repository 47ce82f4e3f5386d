"""Telling followers when the territory's profile changed (name or description in the
configuration), so that Mastodon and other servers refresh what they show."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.convert.activities import make_activity, public_addressing, strip_context
from node.convert.actors import actor_to_as
from node.convert.urls import actor_id, collection_url
from node.domain.actors import ActorKind
from node.services.federation.outbox import publish
from node.storage.actors import get_actor_of_kind
from node.storage.keyring import KeyRing


async def publish_profile_changes(
    sessions: async_sessionmaker[AsyncSession], config: InstanceConfig, keyring: KeyRing
) -> bool:
    """Send Update(actor) to the territory's followers if its name or description changed
    since last time; returns whether it did."""
    async with sessions.begin() as session:
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
        if territory is None:
            return False
        wanted = (config.territory.name, config.territory.description)
        if (territory.display_name, territory.summary) == wanted:
            return False
        territory.display_name, territory.summary = wanted
        uri = actor_id(config, territory)
        document = strip_context(actor_to_as(config, territory, keyring.keys_for(territory)))
        to, cc = public_addressing(collection_url(config, territory, "followers"))
        update = make_activity(config, "Update", uri, document, to=to, cc=cc)
        await publish(session, territory.id, uri, update, to_followers=True)
    return True
