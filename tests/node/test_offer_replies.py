"""A resident answers, from this node, another territory's offer listed here."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from node.storage.models import OutboxEntry, OutboxTarget, RemoteObject
from node.web.app import create_app
from node.web.keys import runtime_key, sessions_key
from tests.conftest import initialise
from tests.testrig.people import HTTP_NODE, as_person, submit
from tests.testrig.remote import FakeRemote


async def test_a_resident_replies_to_a_neighbours_offer(
    aiohttp_client: Any, aiohttp_server: Any, make_config: Any
) -> None:
    remote = FakeRemote()
    server = await aiohttp_server(remote.app)
    remote.base = str(server.make_url("")).rstrip("/")
    neighbour = remote.add_actor("territoire")
    config = make_config(node=HTTP_NODE, federation={"allow_private_addresses": True})
    await initialise(config)
    client = await aiohttp_client(create_app(config, workers=False))
    await client.app[runtime_key].remote.get_actor(neighbour.uri)
    offer_uri = f"{remote.base}/objects/broyeur"
    async with client.app[sessions_key].begin() as session:
        session.add(
            RemoteObject(
                uri=offer_uri,
                kind="vf:Proposal",
                actor_uri=neighbour.uri,
                name="Prêt d'un broyeur",
                state="open",
                url=offer_uri,
                raw="{}",
            )
        )
    await as_person(client, "camille")
    response = await submit(
        client, "/offers", "/offers/replies", uri=offer_uri, text="Je peux le prendre samedi ?"
    )
    assert response.status == 302
    async with client.app[sessions_key]() as session:
        entry = (
            await session.scalars(select(OutboxEntry).where(OutboxEntry.type == "Create"))
        ).one()
        inboxes = set(
            await session.scalars(select(OutboxTarget.inbox).where(OutboxTarget.seq == entry.seq))
        )
    note = json.loads(entry.body)["object"]
    assert note["inReplyTo"] == offer_uri and neighbour.uri in note["cc"]
    assert inboxes == {f"{neighbour.uri}/inbox"}

    async with client.app[sessions_key].begin() as session:
        row = (await session.scalars(select(RemoteObject))).one()
        row.state = "closed"
    response = await submit(client, "/offers", "/offers/replies", uri=offer_uri, text="Encore là ?")
    assert response.status == 400
