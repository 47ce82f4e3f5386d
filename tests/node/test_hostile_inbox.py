"""The catalogue of hostile inbox inputs, on a real node with a fake remote server and real
signatures: each is refused with a 4xx and a reason (nothing stored, nothing fetched that need
not be), or accepted and made harmless. A new attack found in the wild gets a row here."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.storage.models import InboxItem, Note
from node.web.keys import inbox_worker_key, sessions_key
from protocols.httpsig import sign_cavage
from tests.node.test_inbox import INBOX, count, make_node, note_create
from tests.testrig.remote import AS, FakeRemote, RemoteActorDoc, _new_rsa_key, signed_post

Request = tuple[bytes, dict[str, str]]


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    """A node that may fetch keys from the loopback fake remote, its workers left to the test."""
    return await make_node(aiohttp_client, make_config)


@dataclass(frozen=True)
class Hostile:
    """One hostile request, built from two actors of the remote server (the sender, mallory,
    and a victim, alice), and the refusal expected: its status and a word of its reason."""

    name: str
    build: Callable[[RemoteActorDoc, RemoteActorDoc], Request]
    status: int
    reason: str


def unsigned(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    body, headers = signed_post(mallory, INBOX, note_create(mallory, 1))
    return body, {k: v for k, v in headers.items() if k not in {"Signature", "Digest"}}


def forged(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    """Signed with a key of mallory's making, under alice's key id."""
    body = json.dumps(note_create(alice, 1)).encode()
    headers = {"Content-Type": "application/activity+json"}
    return body, headers | sign_cavage(
        "POST", INBOX, headers, body, _new_rsa_key(), alice.key_id, datetime.now(UTC)
    )


def replayed(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    """A real signature of alice's, captured and sent again two hours later."""
    return signed_post(
        alice, INBOX, note_create(alice, 1), now=datetime.now(UTC) - timedelta(hours=2)
    )


def tampered(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    body, headers = signed_post(alice, INBOX, note_create(alice, 1))
    return body.replace(b"note 1", b"note 666"), headers


def signer_is_not_the_actor(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    return signed_post(mallory, INBOX, note_create(alice, 1))


def object_on_a_foreign_origin(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    activity = note_create(mallory, 1)
    activity["object"]["id"] = "https://victim.example/notes/1"
    return signed_post(mallory, INBOX, activity)


def remote_context(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    activity = note_create(mallory, 1) | {"@context": [AS, "https://evil.example/context.jsonld"]}
    return signed_post(mallory, INBOX, activity)


def ten_megabytes(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    activity = note_create(mallory, 1)
    activity["object"]["content"] = "x" * 10_000_000
    return signed_post(mallory, INBOX, activity)


def ten_thousand_deep(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    head = json.dumps(note_create(mallory, 1))[:-1]
    return signed_post(
        mallory, INBOX, (head + ', "x": ' + "[" * 10_000 + "]" * 10_000 + "}").encode()
    )


def invalid_utf8(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    body = json.dumps(note_create(mallory, 1)).encode().replace(b"note 1", b"note \xff\xfe")
    return signed_post(mallory, INBOX, body)


def not_json(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    return signed_post(mallory, INBOX, b"{not json")


def no_actor(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    return signed_post(mallory, INBOX, note_create(mallory, 1) | {"actor": None})


def twenty_thousand_recipients(mallory: RemoteActorDoc, alice: RemoteActorDoc) -> Request:
    activity = note_create(mallory, 1)
    activity["object"]["cc"] = [f"https://x.y/{n}" for n in range(20_000)]
    return signed_post(mallory, INBOX, activity)


CATALOGUE = [
    Hostile("not JSON", not_json, 400, "not valid JSON"),
    Hostile("no actor", no_actor, 400, "actor"),
    Hostile("unsigned", unsigned, 401, "not signed"),
    Hostile("forged signature", forged, 401, "does not verify"),
    Hostile("replayed (old Date)", replayed, 401, "past"),
    Hostile("tampered body", tampered, 401, "digest"),
    Hostile("signer is not the actor", signer_is_not_the_actor, 401, "but the actor is"),
    Hostile("object on a foreign origin", object_on_a_foreign_origin, 403, "actor's server"),
    Hostile("remote @context URL", remote_context, 400, "JSON-LD context"),
    Hostile("10 MB body", ten_megabytes, 413, "body size"),
    Hostile("10,000-deep JSON", ten_thousand_deep, 400, "nested deeper"),
    Hostile("invalid UTF-8", invalid_utf8, 400, "not valid JSON"),
    Hostile("20,000 recipients", twenty_thousand_recipients, 413, "more than 1000 entries"),
]


@pytest.mark.parametrize("hostile", CATALOGUE, ids=lambda h: h.name)
async def test_hostile_requests_are_refused_with_a_reason_and_nothing_is_stored(
    node: TestClient, remote: FakeRemote, caplog: pytest.LogCaptureFixture, hostile: Hostile
) -> None:
    caplog.set_level(logging.WARNING)
    mallory, alice = remote.add_actor("mallory"), remote.add_actor("alice")
    body, headers = hostile.build(mallory, alice)
    response = await node.post("/inbox", data=body, headers=headers)
    assert response.status == hostile.status, await response.text()
    assert hostile.reason.lower() in (await response.json())["error"].lower()
    assert await count(node, InboxItem) == 0
    assert "https://evil.example/context.jsonld" not in remote.fetches
    assert not [r for r in caplog.records if r.exc_info], "a refusal is not an error"


async def test_script_and_javascript_links_are_accepted_harmless(
    node: TestClient, remote: FakeRemote
) -> None:
    mallory = remote.add_actor("mallory")
    activity = note_create(
        mallory,
        1,
        content='<p>bonjour<script>alert(1)</script><a href="javascript:alert(2)">lien</a>'
        '<img src=x onerror="alert(3)"></p>',
        url="javascript:alert(4)",
    )
    body, headers = signed_post(mallory, INBOX, activity)
    assert (await node.post("/inbox", data=body, headers=headers)).status == 202
    await node.app[inbox_worker_key].run_once()
    async with node.app[sessions_key]() as session:
        note = (await session.scalars(select(Note).where(Note.author_uri == mallory.uri))).one()
    assert "bonjour" in note.content
    for live in ("<script", "javascript:", "onerror", "<img"):
        assert live not in note.content.lower(), note.content
    assert note.url is None or note.url.startswith("http")


async def test_a_replay_inside_the_window_is_stored_once(
    node: TestClient, remote: FakeRemote
) -> None:
    alice = remote.add_actor("alice")
    body, headers = signed_post(alice, INBOX, note_create(alice, 1))
    for _ in range(3):
        assert (await node.post("/inbox", data=body, headers=headers)).status == 202
    assert await count(node, InboxItem) == 1


async def test_a_key_rotated_between_two_posts_costs_one_refetch(
    node: TestClient, remote: FakeRemote
) -> None:
    frank = remote.add_actor("frank")
    for number in (1, 2):
        if number == 2:
            frank.rotate_key()
        body, headers = signed_post(frank, INBOX, note_create(frank, number))
        assert (await node.post("/inbox", data=body, headers=headers)).status == 202
    assert remote.fetches == [frank.uri, frank.uri]
    assert await count(node, InboxItem) == 2
