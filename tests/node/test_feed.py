"""The territory's public activity: the Atom feed (valid XML, one entry per object, newest
first) and the timeline of the home page, from local rows and the visible history."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.services.federation.announcements import announce
from node.services.participation.history import record_change
from node.storage.base import utcnow
from node.storage.models import Account, Need
from node.web.app import create_app
from node.web.keys import runtime_key, sessions_key
from tests.conftest import initialise
from tests.testrig.people import HTML, HTTP_NODE, as_person, submit

BASE = HTTP_NODE["base_url"]
NS = {"atom": "http://www.w3.org/2005/Atom"}


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    config = make_config(node=HTTP_NODE)
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


async def add_need(node: TestClient, title: str, *, assigned: bool) -> str:
    """A resident's need, written as the needs pages do, optionally moved to a circle."""
    async with node.app[sessions_key].begin() as session:
        author = (await session.scalars(select(Account))).first()
        assert author is not None
        uri = f"{BASE}/needs/01jneed{len(title):019d}"
        created = utcnow() - timedelta(hours=1)
        session.add(
            Need(
                uri=uri,
                author_id=author.id,
                title=title,
                text="Les hameaux n'ont pas de bus le samedi.\n<b>vraiment</b>",
                theme="mobilite",
                created_at=created,
            )
        )
        record_change(session, uri, None, "submitted", "Camille")
        if assigned:
            record_change(session, uri, "submitted", "in_circle", "Léa (facilitatrice)")
    return uri


async def test_atom_feed_lists_the_public_activity_newest_first(node: TestClient) -> None:
    need = await add_need(node, "Navette du samedi\x01", assigned=True)
    note = await announce(node.app[runtime_key], "Fête du village dimanche <3")
    await as_person(node, "camille")
    response = await submit(
        node,
        "/offers/new",
        "/offers",
        purpose="offer",
        kind="give",
        title="Vélo d'enfant",
        text="Bon état.",
    )
    page = response.headers["Location"]
    offer = f"{BASE}{page}"
    await submit(node, page, f"{page}/state", state="taken")

    response = await node.get("/feed.atom")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    body = await response.read()
    assert b"&lt;p&gt;" in body  # the content is HTML, escaped
    feed = ET.fromstring(body)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.findtext("atom:title", namespaces=NS) == "Saint-X"
    assert feed.find("atom:link[@rel='self']", NS).get("href") == f"{BASE}/feed.atom"  # type: ignore[union-attr]
    entries = feed.findall("atom:entry", NS)
    ids = [e.findtext("atom:id", namespaces=NS) for e in entries]
    assert ids == [offer, note.uri, need]  # one entry per object, newest change first
    updated = [e.findtext("atom:updated", namespaces=NS) or "" for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.findtext("atom:updated", namespaces=NS) == updated[0]
    by_id = dict(zip(ids, entries, strict=True))
    entry = by_id[offer]
    assert entry.findtext("atom:title", namespaces=NS) == "Offre : Vélo d'enfant"
    assert entry.findtext("atom:summary", namespaces=NS) == "Offre · ouverte → pourvue"
    assert entry.find("atom:link", NS).get("href") == offer  # type: ignore[union-attr]
    content = entry.find("atom:content", NS)
    assert content is not None and content.get("type") == "html"
    assert content.text == "<p>Bon état.</p>"
    entry = by_id[need]
    assert entry.findtext("atom:title", namespaces=NS) == "Besoin : Navette du samedi"
    assert entry.findtext("atom:summary", namespaces=NS) == "Besoin · soumis → confié à un cercle"
    assert "&lt;b&gt;vraiment" in (entry.findtext("atom:content", namespaces=NS) or "")
    assert "Fête du village" in (by_id[note.uri].findtext("atom:title", namespaces=NS) or "")

    home = await (await node.get("/", headers=HTML)).text()
    assert '<link rel="alternate" type="application/atom+xml" href="/feed.atom"' in home
    timeline = home.split('id="timeline"')[1].split("</section>")[0]
    assert timeline.index("Vélo d&#39;enfant") < timeline.index("Navette du samedi")
    assert "confié à un cercle" in timeline and "pourvue" in timeline
    assert "Publication" not in timeline and "· Annonce</p>" in timeline  # its kind says it
    english = await (await node.get("/?lang=en", headers=HTML)).text()
    assert "Territory activity" in english and "assigned to a circle" in english


async def test_an_empty_territory_has_a_valid_empty_feed(node: TestClient) -> None:
    body = await (await node.get("/feed.atom")).read()
    feed = ET.fromstring(body)
    assert feed.findall("atom:entry", NS) == []
    assert feed.findtext("atom:id", namespaces=NS) == f"{BASE}/feed.atom"
    assert "Rien n&#39;a encore été publié." in await (await node.get("/", headers=HTML)).text()
