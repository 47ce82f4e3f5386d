"""HTML is sanitised once, when it is stored: hostile markup that arrives over the inbox is
stored cleaned and shown as stored, and the migration cleans what an older version stored
(on a real SQLite file), so pages never need to clean it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.services.federation.announcements import announce
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.migrate import schema_state, upgrade_database
from node.storage.models import Note, RemoteActor, RemoteObject
from node.web.keys import inbox_worker_key, runtime_key, sessions_key
from tests.node.test_inbox import make_node, note_create, post
from tests.testrig.remote import FakeRemote

#: Markup that must never reach a page as markup.
HOSTILE = (
    '<p onclick="alert(1)">bonjour<script>alert(2)</script>'
    '<a href="javascript:alert(3)">lien</a><img src=x onerror="alert(4)">'
    '<a href="https://ok.example/">vrai lien</a></p>'
)
LIVE = ("<script", "onclick", "javascript:", "onerror", "<img", "alert(2)")
#: The revision before the one that sanitises stored HTML.
BEFORE = "7a1e5c3b9d20"


def assert_harmless(html: str) -> None:
    """No live markup left, the text and the good link kept."""
    for live in LIVE:
        assert live not in html.lower(), html
    assert "bonjour" in html and 'href="https://ok.example/"' in html


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    """A node that may fetch keys from the loopback fake remote, its workers left to the test."""
    return await make_node(aiohttp_client, make_config)


async def test_a_hostile_reply_from_the_inbox_is_stored_cleaned_and_shown_as_stored(
    node: TestClient, remote: FakeRemote
) -> None:
    # Given an announcement of the territory and a remote reply to it full of live markup
    announcement = await announce(node.app[runtime_key], "Fête du village dimanche")
    mallory = remote.add_actor("mallory")
    reply = note_create(mallory, 1, content=HOSTILE, summary=HOSTILE, inReplyTo=announcement.uri)
    # When it arrives over the inbox and is applied
    assert (await post(node, mallory, reply))[0] == 202
    await node.app[inbox_worker_key].run_once()
    # Then the row holds cleaned HTML: the page needs no cleaning of its own
    async with node.app[sessions_key]() as session:
        stored = (await session.scalars(select(Note).where(Note.author_uri == mallory.uri))).one()
    assert_harmless(stored.content)
    assert_harmless(stored.summary)
    # And the announcement's page shows the reply exactly as stored
    page = await node.get("/notes/" + announcement.uri.rsplit("/", 1)[1])
    assert page.status == 200
    html = await page.text()
    assert stored.content in html
    assert "alert(2)" not in html and "javascript:" not in html and "onerror" not in html


async def test_the_migration_cleans_html_an_older_version_stored(tmp_path: Path) -> None:
    # Given a node at the revision before, with hostile HTML stored as older versions did
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/node.sqlite3")
    try:
        await upgrade_database(engine, BEFORE)
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            session.add_all(
                [
                    Note(
                        uri="https://evil.example/n/1",
                        author_uri="https://evil.example/u/m",
                        content=HOSTILE,
                        summary=HOSTILE,
                    ),
                    Note(
                        uri="https://node.example/notes/1",
                        local=True,
                        author_uri="https://node.example/actors/territoire",
                        content="<p>déjà propre &amp; sûr</p>",
                        summary="a < b, & c",
                    ),
                    RemoteObject(
                        uri="https://evil.example/o/1",
                        kind="tc:Proposal",
                        actor_uri="https://evil.example/u/m",
                        name="Titre",
                        summary="statut",
                        content=HOSTILE,
                        raw="{}",
                    ),
                    RemoteActor(
                        uri="https://evil.example/u/m",
                        domain="evil.example",
                        type="Person",
                        username="m",
                        inbox="https://evil.example/i",
                        summary=HOSTILE,
                        raw="{}",
                    ),
                ]
            )
        # When the node is upgraded
        await upgrade_database(engine)
        assert (await schema_state(engine)).is_current
        # Then every stored HTML value is clean, and what was already clean is untouched
        async with sessions() as session:
            remote = await session.scalar(select(Note).where(~Note.local))
            local = await session.scalar(select(Note).where(Note.local))
            received = await session.scalar(select(RemoteObject))
            actor = await session.scalar(select(RemoteActor))
        assert remote is not None and local is not None
        assert received is not None and actor is not None
        for html in (remote.content, remote.summary, received.content, actor.summary):
            assert_harmless(html)
        assert local.content == "<p>déjà propre &amp; sûr</p>"
        assert local.summary == "a < b, & c"  # a local content warning is plain text
        assert (received.name, received.summary) == ("Titre", "statut")
    finally:
        await engine.dispose()
