"""Circles: creation as followable Group actors, pages, members and roles, refusals."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.services.participation.circles import can_facilitate
from node.storage.models import (
    Account,
    Circle,
    CircleMember,
    Follow,
    OutboxEntry,
    OutboxTarget,
    StateChange,
)
from node.web.keys import inbox_worker_key, sessions_key
from tests.testrig.people import HTML, HTTP_NODE, add_account, as_person, log_in, submit
from tests.testrig.remote import AS, FakeRemote, signed_post

BASE = HTTP_NODE["base_url"]
AP = {"Accept": "application/activity+json"}
MOBILITY = {
    "name": "Cercle Mobilités",
    "slug": "mobilites",
    "kind": "working",
    "mandate": "Instruire les besoins de mobilité douce.\nProposer des expérimentations.",
}


@pytest.fixture
async def browser(aiohttp_client: Any, node: TestClient) -> Any:
    """Another browser (its own cookie jar) on the same node."""

    async def open_browser() -> TestClient:
        return await aiohttp_client(node.server)

    return open_browser


@pytest.fixture
def node(web_node: TestClient) -> TestClient:
    """The node under test, browsed over http."""
    return web_node


def field_error(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error" role="alert">([^<]+)</p>', page)
    assert match, f"no error shown for {field}"
    return html.unescape(match.group(1))


async def create(client: TestClient, **fields: str) -> Any:
    return await submit(client, "/circles/new", "/circles/new", **fields)


async def test_a_facilitator_creates_a_followable_circle(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    page = await (await node.get("/circles", headers=HTML)).text()
    assert 'href="/circles/new"' in page and "Aucun cercle" in page
    response = await create(node, **MOBILITY)
    assert response.status == 302 and response.headers["Location"] == "/circles/mobilites"

    page = await (await node.get("/circles/mobilites", headers=HTML)).text()
    assert "<h1>Cercle Mobilités</h1>" in page and "Cercle de travail" in page
    assert "Instruire les besoins de mobilité douce.<br>" in page
    assert "@mobilites@saint-x.example" in page and "Création du cercle" in page
    listing = await (await node.get("/circles", headers=HTML)).text()
    assert 'href="/circles/mobilites">Cercle Mobilités</a>' in listing and "0 membre(s)" in listing

    actor = await (await node.get("/actors/mobilites", headers=AP)).json(content_type=None)
    assert actor["type"] == "Group" and actor["additionalType"] == "tc:Circle"
    assert actor["preferredUsername"] == "mobilites" and actor["name"] == "Cercle Mobilités"
    assert actor["circleKind"] == "working" and actor["mandate"] == MOBILITY["mandate"]
    assert actor["parentTerritory"] == f"{BASE}/actors/territoire"
    assert actor["url"] == f"{BASE}/circles/mobilites"
    assert "Cercle de travail · mandat : Instruire les besoins" in actor["summary"]
    assert actor["publicKey"]["owner"] == actor["id"] == f"{BASE}/actors/mobilites"
    finger = await node.get("/.well-known/webfinger?resource=acct:mobilites@saint-x.example")
    assert finger.status == 200
    links = (await finger.json(content_type=None))["links"]
    assert {"rel": "self", "type": "application/activity+json", "href": actor["id"]} in links
    # a browser at the actor's URL is sent to the circle's page
    response = await node.get("/actors/mobilites", headers=HTML, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/circles/mobilites"


async def test_circle_forms_reject_bad_input_with_the_field_and_the_reason(
    node: TestClient,
) -> None:
    await as_person(node, "camille", "admin")
    response = await create(node, name="", slug="Mobilités !", kind="secret", mandate="")
    assert response.status == 400
    page = await response.text()
    assert field_error(page, "name") == "Ce champ est obligatoire."
    assert "minuscules" in field_error(page, "slug")
    assert field_error(page, "kind") == "Choisissez une des valeurs proposées."
    assert field_error(page, "mandate") == "Ce champ est obligatoire."
    for taken in ("territoire", "camille", "new"):
        response = await create(node, **{**MOBILITY, "slug": taken})
        assert response.status == 400
        assert "nom" in field_error(await response.text(), "slug")
    async with node.app[sessions_key]() as session:
        assert list(await session.scalars(select(Circle))) == []


async def test_members_and_roles_by_facilitators_and_circle_facilitators(
    node: TestClient, browser: Any
) -> None:
    await as_person(node, "fanny", "facilitator")
    await create(node, **MOBILITY)
    await add_account(node, "remi")
    await add_account(node, "zoe")
    response = await submit(
        node,
        "/circles/mobilites",
        "/circles/mobilites/members",
        username="remi",
        role="facilitator",
    )
    assert response.status == 302
    response = await submit(
        node, "/circles/mobilites", "/circles/mobilites/members", username="nobody", role="member"
    )
    assert response.status == 400
    assert field_error(await response.text(), "username") == "Ce membre n'existe pas."

    # remi is a resident, and this circle's facilitator: he manages its members
    remi = await browser()
    await log_in(remi, "remi", "remi-password-1")
    page = await (await remi.get("/circles/mobilites", headers=HTML)).text()
    assert 'action="/circles/mobilites/members"' in page
    response = await submit(
        remi, "/circles/mobilites", "/circles/mobilites/members", username="zoe", role="secretary"
    )
    assert response.status == 302
    response = await submit(
        remi, "/circles/mobilites", "/circles/mobilites/members", username="zoe", role="member"
    )
    assert response.status == 302
    page = await (await remi.get("/circles/mobilites", headers=HTML)).text()
    assert "Membres du cercle (2)</h2>" in page
    assert re.search(r"Remi</a> · Facilitateur", page) and re.search(r"Zoe</a> · Membre", page)
    # ...but, a resident, he creates no circle
    response = await remi.get("/circles/new", headers=HTML)
    assert response.status == 403
    assert "Seuls les administrateurs et les facilitateurs peuvent créer un cercle." in (
        await response.text()
    )

    # zoe, a plain member, is refused with a clear message and sees no management form
    zoe = await browser()
    await log_in(zoe, "zoe", "zoe-password-1")
    page = await (await zoe.get("/circles/mobilites", headers=HTML)).text()
    assert 'action="/circles/mobilites/members"' not in page
    response = await submit(
        zoe, "/circles/mobilites", "/circles/mobilites/members/remove", username="remi"
    )
    assert response.status == 403 and "gèrent ce cercle" in await response.text()
    response = await submit(zoe, "/circles/mobilites", "/circles/mobilites/edit", **MOBILITY)
    assert response.status == 403
    response = await submit(zoe, "/circles", "/circles/new", **{**MOBILITY, "slug": "autre"})
    assert response.status == 403 and "Action refusée" in await response.text()

    response = await submit(
        remi, "/circles/mobilites", "/circles/mobilites/members/remove", username="zoe"
    )
    assert response.status == 302
    async with node.app[sessions_key]() as session:
        circle = (await session.scalars(select(Circle))).one()
        accounts = {a.username: a for a in await session.scalars(select(Account))}
        members = {m.account_id: m.role for m in await session.scalars(select(CircleMember))}
        history = [
            (h.from_state, h.to_state, h.note)
            for h in await session.scalars(
                select(StateChange)
                .where(StateChange.object_uri == f"{BASE}/actors/mobilites")
                .order_by(StateChange.at, StateChange.id)
            )
        ]
        assert await can_facilitate(session, accounts["remi"], circle.id)
        assert not await can_facilitate(session, accounts["remi"], None)
        assert not await can_facilitate(session, accounts["zoe"], circle.id)
        assert await can_facilitate(session, accounts["fanny"], None)
        assert await can_facilitate(session, accounts["admin"], circle.id)
    assert members == {accounts["remi"].id: "facilitator"}
    assert history == [
        (None, "created", ""),
        (None, "facilitator", "Remi"),
        (None, "secretary", "Zoe"),
        ("secretary", "member", "Zoe"),
        ("member", "removed", "Zoe"),
    ]
    page = await (await zoe.get("/circles/mobilites", headers=HTML)).text()
    assert "Zoe : quitte le cercle" in page


async def test_editing_a_circle_sends_update_to_its_followers(
    node: TestClient, remote: FakeRemote
) -> None:
    await as_person(node, "camille", "admin")
    await create(node, **MOBILITY)
    bob = remote.add_actor("bob")
    follow = {
        "@context": AS,
        "id": f"{bob.uri}/follows/1",
        "type": "Follow",
        "actor": bob.uri,
        "object": f"{BASE}/actors/mobilites",
    }
    body, headers = signed_post(bob, f"{BASE}/inbox", follow)
    assert (await node.post("/inbox", data=body, headers=headers)).status == 202
    await node.app[inbox_worker_key].run_once()
    async with node.app[sessions_key]() as session:
        state = await session.scalar(select(Follow.state).where(Follow.follower_uri == bob.uri))
    assert state == "accepted"

    response = await submit(
        node,
        "/circles/mobilites/edit",
        "/circles/mobilites/edit",
        name="Cercle Mobilités douces",
        kind="activity",
        mandate="Vélo-bus du mercredi.",
    )
    assert response.status == 302
    async with node.app[sessions_key]() as session:
        entry = (
            await session.scalars(select(OutboxEntry).where(OutboxEntry.type == "Update"))
        ).one()
        targets = list(
            await session.scalars(select(OutboxTarget.inbox).where(OutboxTarget.seq == entry.seq))
        )
    update = json.loads(entry.body)
    assert update["actor"] == f"{BASE}/actors/mobilites"
    assert update["object"]["name"] == "Cercle Mobilités douces"
    assert update["object"]["circleKind"] == "activity"
    assert (
        update["object"]["summary"] == "<p>Cercle d'activité · mandat : Vélo-bus du mercredi.</p>"
    )
    assert targets == [f"{bob.uri}/inbox"]
    page = await (await node.get("/circles/mobilites", headers=HTML)).text()
    assert "Nouvelle sorte : Cercle d&#39;activité" in page


async def test_circle_pages_in_english_and_unknown_circle(node: TestClient) -> None:
    await as_person(node, "camille", "admin")
    await create(node, **MOBILITY)
    page = await (await node.get("/circles/mobilites?lang=en", headers=HTML)).text()
    assert "Working circle" in page and "Members of the circle" in page
    response = await node.get("/circles/nowhere", headers=HTML)
    assert response.status == 404 and "This circle does not exist." in await response.text()
