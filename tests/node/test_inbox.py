"""Receiving: the inbox pipeline and the worker on a real node and a fake remote server,
with real signatures and a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from federation.inbox.worker import HOLD_FOR, InboxWorker
from node.services.federation.following import answer_follow_request
from node.services.federation.inbox_handlers import inbox_handlers
from node.storage.models import (
    Follow,
    InboxItem,
    Note,
    OutboxEntry,
    OutboxTarget,
    Reaction,
    RemoteActor,
)
from node.web.app import create_app
from node.web.keys import inbox_store_key, inbox_worker_key, runtime_key, sessions_key
from protocols.activitystreams import PUBLIC
from tests.conftest import BASE_URL, initialise
from tests.testrig.remote import AS, FakeRemote, RemoteActorDoc, signed_post

TERRITORY = f"{BASE_URL}/actors/territoire"
INBOX = f"{BASE_URL}/inbox"


async def make_node(aiohttp_client: Any, make_config: Any, **federation: Any) -> TestClient:
    config = make_config(federation={"allow_private_addresses": True, **federation})
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    return await make_node(aiohttp_client, make_config)


async def post(
    node: TestClient, actor: RemoteActorDoc, activity: dict[str, Any], **kw: Any
) -> tuple[int, dict]:
    body, headers = signed_post(actor, INBOX, activity, **kw)
    response = await node.post("/inbox", data=body, headers=headers)
    return response.status, await response.json()


async def count(node: TestClient, model: Any, *where: Any) -> int:
    async with node.app[sessions_key]() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def note_create(actor: RemoteActorDoc, number: int, **note: Any) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{actor.uri}/activities/{number}",
        "type": "Create",
        "actor": actor.uri,
        "to": [PUBLIC],
        "cc": [TERRITORY],
        "object": {
            "id": f"{actor.uri}/notes/{number}",
            "type": "Note",
            "attributedTo": actor.uri,
            "to": [PUBLIC],
            "cc": [TERRITORY],
            "content": f"<p>note {number}</p>",
            "tag": [{"type": "Mention", "href": TERRITORY}],
            **note,
        },
    }


async def test_signed_activity_is_stored_once_and_applied(
    node: TestClient, remote: FakeRemote
) -> None:
    alice = remote.add_actor("alice")
    activity = note_create(alice, 1)
    assert await post(node, alice, activity) == (202, {"accepted": activity["id"]})
    assert (await post(node, alice, activity))[0] == 202  # a duplicate: accepted, not stored twice
    assert await count(node, InboxItem) == 1
    assert remote.fetches == [alice.uri]  # the key was fetched once, then cached
    await node.app[inbox_worker_key].run_once()
    assert await count(node, Note, Note.uri == activity["object"]["id"]) == 1


async def test_follow_is_accepted_and_the_accept_logged_for_delivery(
    node: TestClient, remote: FakeRemote
) -> None:
    bob = remote.add_actor("bob")
    follow = {
        "@context": AS,
        "id": f"{bob.uri}/follows/1",
        "type": "Follow",
        "actor": bob.uri,
        "object": TERRITORY,
    }
    assert (await post(node, bob, follow))[0] == 202
    await node.app[inbox_worker_key].run_once()
    assert (
        await count(node, Follow, Follow.follower_uri == bob.uri, Follow.state == "accepted") == 1
    )
    async with node.app[sessions_key]() as session:
        entry = (
            await session.scalars(select(OutboxEntry).where(OutboxEntry.type == "Accept"))
        ).one()
        target = (
            await session.scalars(select(OutboxTarget).where(OutboxTarget.seq == entry.seq))
        ).one()
    accept = json.loads(entry.body)
    assert accept["object"]["id"] == follow["id"] and accept["actor"] == TERRITORY
    assert target.inbox == f"{bob.uri}/inbox"
    response = await node.get(
        "/actors/territoire/followers?page=1", headers={"Accept": "application/activity+json"}
    )
    followers = await response.json(content_type=None)
    assert followers["orderedItems"] == [bob.uri]


async def test_manual_approval_waits_for_the_admin(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node = await make_node(aiohttp_client, make_config, manual_approval=True)
    carol = remote.add_actor("carol")
    follow = {
        "@context": AS,
        "id": f"{carol.uri}/follows/1",
        "type": "Follow",
        "actor": carol.uri,
        "object": TERRITORY,
    }
    await post(node, carol, follow)
    await node.app[inbox_worker_key].run_once()
    assert await count(node, Follow, Follow.state == "pending") == 1
    assert await count(node, OutboxEntry, OutboxEntry.type == "Accept") == 0
    await answer_follow_request(node.app[runtime_key], carol.uri, accept=True)
    assert await count(node, Follow, Follow.state == "accepted") == 1
    assert await count(node, OutboxEntry, OutboxEntry.type == "Accept") == 1


async def test_undo_and_delete_arriving_first_are_held_then_applied(
    node: TestClient, remote: FakeRemote
) -> None:
    dave = remote.add_actor("dave")
    now = datetime.now(UTC)
    worker = InboxWorker(
        node.app[inbox_store_key], inbox_handlers(node.app[runtime_key]), lambda: now
    )
    note_id = f"{BASE_URL}/notes/01jaaaaaaaaaaaaaaaaaaaaaaa"
    like = {
        "@context": AS,
        "id": f"{dave.uri}/likes/1",
        "type": "Like",
        "actor": dave.uri,
        "object": note_id,
    }
    undo = {
        "@context": AS,
        "id": f"{dave.uri}/undos/1",
        "type": "Undo",
        "actor": dave.uri,
        "object": like,
    }
    create = note_create(dave, 7)
    delete = {
        "@context": AS,
        "id": f"{dave.uri}/deletes/7",
        "type": "Delete",
        "actor": dave.uri,
        "object": create["object"]["id"],
    }
    await post(node, dave, undo)
    await post(node, dave, delete)
    await worker.run_once()
    assert await count(node, InboxItem, InboxItem.state == "held") == 2
    await post(node, dave, like)
    await post(node, dave, create)
    await worker.run_once()
    assert (
        await count(node, Reaction) == 1 and await count(node, Note, Note.deleted_at.is_(None)) == 1
    )
    now += timedelta(seconds=10)  # the held ones are tried again
    await worker.run_once()
    assert await count(node, Reaction) == 0
    assert await count(node, Note, Note.deleted_at.is_(None)) == 0
    assert await count(node, InboxItem, InboxItem.state == "applied") == 4


async def test_held_activity_whose_target_never_comes_is_dropped(
    node: TestClient, remote: FakeRemote
) -> None:
    erin = remote.add_actor("erin")
    now = datetime.now(UTC)
    worker = InboxWorker(
        node.app[inbox_store_key], inbox_handlers(node.app[runtime_key]), lambda: now
    )
    delete = {
        "@context": AS,
        "id": f"{erin.uri}/deletes/1",
        "type": "Delete",
        "actor": erin.uri,
        "object": f"{erin.uri}/notes/never",
    }
    await post(node, erin, delete)
    await worker.run_once()
    now += HOLD_FOR + timedelta(seconds=1)
    await worker.run_once()
    assert await count(node, InboxItem, InboxItem.state == "ignored") == 1


async def test_update_of_the_actor_refreshes_the_cache(
    node: TestClient, remote: FakeRemote
) -> None:
    gina = remote.add_actor("gina", name="Gina")
    await post(node, gina, note_create(gina, 1))
    document = gina.document() | {"name": "Gina Nouvelle"}
    update = {
        "@context": AS,
        "id": f"{gina.uri}/updates/1",
        "type": "Update",
        "actor": gina.uri,
        "object": document,
    }
    await post(node, gina, update)
    await node.app[inbox_worker_key].run_once()
    async with node.app[sessions_key]() as session:
        cached = (
            await session.scalars(select(RemoteActor).where(RemoteActor.uri == gina.uri))
        ).one()
    assert cached.name == "Gina Nouvelle"


async def test_blocked_domain_is_refused_before_any_fetch(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node = await make_node(aiohttp_client, make_config, blocked_domains=["127.0.0.1"])
    pat = remote.add_actor("pat")
    status, body = await post(node, pat, note_create(pat, 1))
    assert status == 403 and "not allowed to federate" in body["error"]
    assert remote.fetches == []


async def test_inbox_of_unknown_actor_is_404(node: TestClient, remote: FakeRemote) -> None:
    rita = remote.add_actor("rita")
    body, headers = signed_post(rita, f"{BASE_URL}/actors/nobody/inbox", note_create(rita, 1))
    assert (await node.post("/actors/nobody/inbox", data=body, headers=headers)).status == 404
