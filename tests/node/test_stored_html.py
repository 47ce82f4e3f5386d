"""HTML is sanitised once, when it is stored: hostile markup that arrives over the inbox is
stored cleaned and shown as stored (by the pages and by the Mastodon client API), and the
migrations clean what an older version stored (on a real SQLite file), so no page or API
request needs to clean it again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.convert.notes import note_from_as
from node.services.federation.announcements import announce
from node.storage.base import UTCDateTime
from node.storage.base import utcnow as now
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.migrate import schema_state, upgrade_database
from node.storage.models import Note, RemoteActor, RemoteObject
from node.web.keys import inbox_worker_key, runtime_key, sessions_key
from protocols.activitystreams import PUBLIC
from protocols.html import sanitize_html
from tests.node.test_inbox import TERRITORY, make_node, note_create, post
from tests.testrig.people import HTML
from tests.testrig.remote import AS, FakeRemote, RemoteActorDoc

#: Markup that must never reach a page as markup.
HOSTILE = (
    '<p onclick="alert(1)">bonjour<script>alert(2)</script>'
    '<a href="javascript:alert(3)">lien</a><img src=x onerror="alert(4)">'
    '<a href="https://ok.example/">vrai lien</a></p>'
)
LIVE = ("<script", "onclick", "javascript:", "onerror", "<img", "alert(2)")
#: The revision before the one that sanitises stored HTML.
BEFORE = "7a1e5c3b9d20"
#: The revision before the one that stores a received object's place as text.
BEFORE_PLACE = "94b82ae0cf15"


def assert_harmless(html: str) -> None:
    """No live markup left, the text and the good link kept."""
    for live in LIVE:
        assert live not in html.lower(), html
    assert "bonjour" in html and 'href="https://ok.example/"' in html


def _old_remote_objects() -> sa.TableClause:
    """remote_objects with the columns of the revisions before `place` was added."""
    names = ("id", "uri", "kind", "actor_uri", "name", "summary", "content", "state", "raw")
    return sa.table(
        "remote_objects",
        *(sa.column(name) for name in names),
        sa.column("published", UTCDateTime()),
        sa.column("updated", UTCDateTime()),
        sa.column("deleted", sa.Boolean),
    )


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
            # (the table as it was then: the model has columns added since)
            await session.execute(
                sa.insert(_old_remote_objects()).values(
                    id="01remote",
                    uri="https://evil.example/o/1",
                    kind="tc:Proposal",
                    actor_uri="https://evil.example/u/m",
                    name="Titre",
                    summary="statut",
                    content=HOSTILE,
                    state="",
                    raw="{}",
                    published=now(),
                    updated=now(),
                    deleted=False,
                )
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


def _territory_create(actor: RemoteActorDoc, number: int, **document: Any) -> dict[str, Any]:
    """A neighbouring territory's Create of one of its Maillage objects, addressed to us."""
    return {
        "@context": AS,
        "id": f"{actor.uri}/activities/object-{number}",
        "type": "Create",
        "actor": actor.uri,
        "to": [PUBLIC],
        "cc": [TERRITORY],
        "object": {
            "id": f"{actor.uri}/objects/{number}",
            "type": "Note",
            "additionalType": "tc:Proposal",
            "attributedTo": actor.uri,
            "to": [PUBLIC],
            "cc": [TERRITORY],
            "url": f"{actor.uri}/objects/{number}",
            "headline": "Navette du samedi",
            "statusLine": "Proposition · en discussion",
            **document,
        },
    }


async def _statuses(node: TestClient, path: str) -> Any:
    response = await node.get(path)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_mastodon_apps_get_hostile_html_from_the_inbox_cleaned_as_stored(
    node: TestClient, remote: FakeRemote
) -> None:
    # Given a remote post and a neighbouring territory's proposal, both full of live markup
    mallory = remote.add_actor("mallory")
    note = note_create(mallory, 1, content=HOSTILE, summary=HOSTILE)
    proposal = _territory_create(mallory, 2, content=HOSTILE, name="<b>Navette</b> du samedi")
    # When they arrive over the inbox and are applied
    for activity in (note, proposal):
        assert (await post(node, mallory, activity))[0] == 202
    await node.app[inbox_worker_key].run_once()
    async with node.app[sessions_key]() as session:
        stored_note = (await session.scalars(select(Note).where(~Note.local))).one()
        stored_object = (await session.scalars(select(RemoteObject))).one()
    # Then a Mastodon app reading the timeline gets the cleaned HTML, exactly as stored
    timeline = await _statuses(node, "/api/v1/timelines/public?remote=true")
    by_uri = {status["uri"]: status for status in timeline}
    assert set(by_uri) == {stored_note.uri, stored_object.uri}
    assert by_uri[stored_note.uri]["content"] == stored_note.content
    assert by_uri[stored_object.uri]["content"] == stored_object.content
    for status in timeline:
        assert_harmless(status["content"])
    # And the object's link card shows its title and status line as the text stored
    card = by_uri[stored_object.uri]["card"]
    assert (card["title"], card["description"]) == (
        "Navette du samedi",
        "Proposition · en discussion",
    )
    # And so does each status read on its own
    for status in timeline:
        alone = await _statuses(node, f"/api/v1/statuses/{status['id']}")
        assert alone["content"] == status["content"] and alone["card"] == status["card"]


async def test_mastodon_apps_get_stored_html_as_it_is_without_cleaning_it_again(
    node: TestClient,
) -> None:
    # Given a received post and object whose stored HTML the sanitiser would still change.
    # No path of the node stores such HTML (every one sanitises on receipt), so the rows are
    # written into the tables here: the point is to see that a request shows the stored
    # columns as they are, which proves it runs no sanitiser of its own.
    unclean = '<p><span class="not-kept">Texte stocké</span></p>'
    assert sanitize_html(unclean) != unclean
    received = note_from_as(
        {
            "id": "https://voisins.example/notes/1",
            "type": "Note",
            "attributedTo": "https://voisins.example/users/a",
            "to": [PUBLIC],
            "content": "<p>Texte</p>",
        },
        now(),
    )
    received.content = unclean
    async with node.app[sessions_key].begin() as session:
        session.add(received)
        session.add(
            RemoteObject(
                uri="https://voisins.example/objects/1",
                kind="tc:Proposal",
                actor_uri="https://voisins.example/actors/territoire",
                name="Navette",
                summary="Proposition",
                content=unclean,
                raw='{"id": "https://voisins.example/objects/1", "type": "Note", '
                '"additionalType": "tc:Proposal", "content": "<p>brut</p>"}',
            )
        )
    # When a Mastodon app reads them, in the timeline and one by one
    timeline = await _statuses(node, "/api/v1/timelines/public?remote=true")
    # Then each shows the stored column as it is (not the raw JSON, not cleaned again)
    assert [status["content"] for status in timeline] == [unclean, unclean]
    for status in timeline:
        assert (await _statuses(node, f"/api/v1/statuses/{status['id']}"))["content"] == unclean


def _offer_create(actor: RemoteActorDoc, place: str) -> dict[str, Any]:
    """A neighbouring territory's offer of time, at `place`."""
    activity = _territory_create(
        actor,
        3,
        additionalType="vf:Proposal",
        name="Aide au jardin",
        content="<p>Aide au jardin</p>",
        purpose="offer",
        publishes={"type": "Intent", "action": "work", "provider": actor.uri},
        lifecycleState="open",
        location={"type": "Place", "name": place},
    )
    return activity


async def test_a_received_offers_place_is_stored_as_text_and_shown_so(
    node: TestClient, remote: FakeRemote
) -> None:
    # Given a neighbour's offer whose place is hostile markup
    mallory = remote.add_actor("mallory")
    place = '<b onclick="alert(1)">Salle</b> <script>alert(2)</script>des fêtes &amp; co'
    # When it arrives over the inbox and is applied
    assert (await post(node, mallory, _offer_create(mallory, place)))[0] == 202
    await node.app[inbox_worker_key].run_once()
    # Then its place is stored as text once, and the offers page shows that text escaped
    async with node.app[sessions_key]() as session:
        stored = (await session.scalars(select(RemoteObject))).one()
    assert stored.place == "Salle des fêtes & co"
    page = await (await node.get("/offers", headers=HTML)).text()
    assert "Aide au jardin" in page and "Salle des fêtes &amp; co" in page
    assert "alert(" not in page and "onclick" not in page


async def test_the_migration_stores_the_place_of_objects_received_before(tmp_path: Path) -> None:
    # Given a node at the revision before, with received objects with and without a place
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/node.sqlite3")
    try:
        await upgrade_database(engine, BEFORE_PLACE)
        raws = {
            "01a": {"location": {"type": "Place", "name": "<b>Salle</b> des fêtes &amp; co"}},
            "01b": {"location": "https://ailleurs.example/lieu"},
            "01c": [],
            "01d": "not json",
        }
        async with make_sessionmaker(engine).begin() as session:
            for row_id, raw in raws.items():
                await session.execute(
                    sa.insert(_old_remote_objects()).values(
                        id=row_id,
                        uri=f"https://voisins.example/o/{row_id}",
                        kind="vf:Proposal",
                        actor_uri="https://voisins.example/actors/territoire",
                        name="Offre",
                        summary="",
                        content="",
                        state="open",
                        raw=raw if isinstance(raw, str) else json.dumps(raw),
                        published=now(),
                        updated=now(),
                        deleted=False,
                    )
                )
        # When the node is upgraded
        await upgrade_database(engine)
        assert (await schema_state(engine)).is_current
        # Then each row holds its place as text, or none
        async with make_sessionmaker(engine)() as session:
            places = dict(
                (await session.execute(select(RemoteObject.id, RemoteObject.place))).all()
            )
        assert places == {"01a": "Salle des fêtes & co", "01b": "", "01c": "", "01d": ""}
    finally:
        await engine.dispose()
