"""Needs on a real node: submission with form errors, supports (one per resident), comments
local and remote, facilitator triage with history, and what the network receives."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from node.convert.needs import NEED_STATE_LABELS, THEMES
from node.convert.proposals import AMENDMENT_STATE_LABELS, PROPOSAL_STATE_LABELS
from node.domain.actors import ActorKind
from node.services.participation import needs as needs_service
from node.services.participation import proposals as proposals_service
from node.services.participation.needs import SUPPORT_UPDATE_STEP, change_support
from node.storage.models import (
    Account,
    Circle,
    CircleMember,
    LocalActor,
    Need,
    NeedSupport,
    Note,
    OutboxEntry,
    OutboxTarget,
)
from node.web.app import create_app
from node.web.i18n import english
from node.web.keys import inbox_worker_key, runtime_key, sessions_key
from protocols.activitystreams import PUBLIC
from tests.conftest import initialise
from tests.testrig.people import HTML, HTTP_NODE, add_account, as_person, log_in, submit
from tests.testrig.remote import AS, FakeRemote, RemoteActorDoc, signed_post

BASE = HTTP_NODE["base_url"]
TERRITORY = f"{BASE}/actors/territoire"
AP = {"Accept": "application/activity+json"}
TEMPLATES = Path(__file__).resolve().parents[2] / "node" / "web" / "templates"


async def make_node(aiohttp_client: Any, make_config: Any) -> TestClient:
    """An initialised node on plain http (session cookies), allowed to fetch 127.0.0.1."""
    config = make_config(node=HTTP_NODE, federation={"allow_private_addresses": True})
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    return await make_node(aiohttp_client, make_config)


async def add_circle(node: TestClient, name: str, slug: str) -> str:
    """A circle and its Group actor, written directly (circles have their own tests)."""
    async with node.app[sessions_key].begin() as session:
        actor = LocalActor(
            kind=ActorKind.CIRCLE.value,
            username=slug,
            display_name=name,
            rsa_private_pem="",
            ed25519_private_pem="",
        )
        session.add(actor)
        await session.flush()
        circle = Circle(actor_id=actor.id, slug=slug, name=name)
        session.add(circle)
        await session.flush()
        return circle.id


async def join_circle(node: TestClient, username: str, circle_id: str, role: str) -> None:
    """Put an account in a circle with a role."""
    async with node.app[sessions_key].begin() as session:
        account = (await session.scalars(select(Account).where(Account.username == username))).one()
        session.add(CircleMember(circle_id=circle_id, account_id=account.id, role=role))


async def account(node: TestClient, username: str) -> Account:
    async with node.app[sessions_key]() as session:
        return (await session.scalars(select(Account).where(Account.username == username))).one()


async def outbox(node: TestClient, kind: str | None = None) -> list[dict[str, Any]]:
    """The activities logged for delivery, oldest first (optionally of one type)."""
    async with node.app[sessions_key]() as session:
        query = select(OutboxEntry.body).order_by(OutboxEntry.seq)
        if kind:
            query = query.where(OutboxEntry.type == kind)
        return [json.loads(body) for body in await session.scalars(query)]


async def new_need(node: TestClient, title: str = "Navette vers la gare", **fields: str) -> str:
    """Submit a need through the form as the logged-in client; returns its id."""
    data = {"title": title, "text": "Le samedi, pas de bus.", "theme": "mobility", **fields}
    response = await submit(node, "/needs/new", "/needs", **data)
    assert response.status == 302, await response.text()
    return str(response.headers["Location"]).rsplit("/", 1)[1]


async def page(node: TestClient, path: str) -> str:
    response = await node.get(path, headers=HTML)
    assert response.status == 200, await response.text()
    return await response.text()


async def test_a_resident_submits_a_need_and_the_network_gets_a_page(node: TestClient) -> None:
    assert (await node.get("/needs/new", headers=HTML, allow_redirects=False)).status == 302
    await as_person(node, "camille")

    response = await submit(node, "/needs/new", "/needs", title="", text="x", theme="bananes")
    body = await response.text()
    assert response.status == 400
    assert re.search(r'id="title-error" role="alert">Ce champ est obligatoire\.', body)
    assert 'aria-describedby="title-error"' in body
    assert re.search(r'id="theme-error" role="alert">Choisissez une des valeurs', body)
    assert 'value="x"' not in body and ">x</textarea>" in body  # what was typed is kept

    need_id = await new_need(node, place="Place de la mairie")
    html = await page(node, f"/needs/{need_id}")
    assert "Navette vers la gare" in html and "Place de la mairie" in html
    assert "à trier" in html and "Besoin exprimé" in html  # state and history
    listing = await page(node, "/needs?theme=mobility")
    assert "Navette vers la gare" in listing and "0 soutien(s)" in listing
    assert "Navette vers la gare" not in await page(node, "/needs?theme=food")
    assert "Navette vers la gare" not in await page(node, "/needs?state=answered")

    [create] = await outbox(node, "Create")
    document = create["object"]
    assert create["actor"] == TERRITORY and document["type"] == "Page"
    assert document["additionalType"] == "tc:Proposal" and document["proposalKind"] == "need"
    assert document["lifecycleState"] == "submitted" and document["supportCount"] == 0
    assert document["summary"] == "Besoin · à trier · 0 soutien"
    assert document["summaryMap"] == {"fr": document["summary"]}
    assert document["url"] == f"{BASE}/needs/{need_id}"
    assert document["location"] == {"type": "Place", "name": "Place de la mairie"}
    assert PUBLIC in create["to"]

    served = await (await node.get(f"/needs/{need_id}", headers=AP)).json(content_type=None)
    assert served["id"] == document["id"] and AS in served["@context"]
    assert (await node.get(f"/needs/{'0' * 26}", headers=AP)).status == 404


async def test_one_support_per_resident_and_updates_every_ten(node: TestClient) -> None:
    await as_person(node, "camille")
    need_id = await new_need(node)
    path = f"/needs/{need_id}"

    response = await submit(node, path, f"{path}/support", support="give")
    assert response.status == 302
    assert "1 soutien(s)" in await page(node, path)
    response = await submit(node, path, f"{path}/support", support="give")
    assert response.status == 400
    assert "un seul soutien par personne" in await response.text()
    response = await submit(node, path, f"{path}/support", support="withdraw")
    assert response.status == 302 and "0 soutien(s)" in await page(node, path)
    response = await submit(node, path, f"{path}/support", support="withdraw")
    assert response.status == 400 and "Vous ne soutenez pas ce besoin." in await response.text()

    async with node.app[sessions_key].begin() as session:
        residents = [
            Account(username=f"r{n}", password_hash="-", role="resident") for n in range(12)
        ]
        session.add_all(residents)
    runtime = node.app[runtime_key]
    counts = [await change_support(runtime, r, need_id, True) for r in residents]
    assert counts == list(range(1, 13))
    updates = await outbox(node, "Update")
    assert [u["object"]["supportCount"] for u in updates] == [SUPPORT_UPDATE_STEP]
    assert updates[0]["object"]["summary"] == "Besoin · à trier · 10 soutiens"


async def test_comments_from_residents_and_from_the_fediverse(
    node: TestClient, remote: FakeRemote
) -> None:
    inbox = f"{BASE}/inbox"
    alice = remote.add_actor("alice", name="Alice de Mastodon")
    follow = {"@context": AS, "id": f"{alice.uri}/f/1", "type": "Follow", "actor": alice.uri}
    await post_signed(node, alice, inbox, follow | {"object": TERRITORY})
    await node.app[inbox_worker_key].run_once()

    await as_person(node, "camille")
    need_id = await new_need(node)
    need_uri, path = f"{BASE}/needs/{need_id}", f"/needs/{need_id}"
    response = await submit(node, path, f"{path}/comments", comment="")
    assert response.status == 400 and 'id="comment-error"' in await response.text()
    response = await submit(node, path, f"{path}/comments", comment="Je prendrais la navette.")
    assert response.status == 302

    async with node.app[sessions_key]() as session:
        note = (await session.scalars(select(Note).where(Note.in_reply_to == need_uri))).one()
        [entry] = await session.scalars(
            select(OutboxEntry).where(
                OutboxEntry.type == "Create", OutboxEntry.object_id == note.uri
            )
        )
        targets = list(
            await session.scalars(select(OutboxTarget.inbox).where(OutboxTarget.seq == entry.seq))
        )
    assert note.local and note.author_uri == f"{BASE}/actors/camille"
    activity = json.loads(entry.body)
    assert activity["actor"] == note.author_uri and activity["object"]["inReplyTo"] == need_uri
    assert targets == [f"{alice.uri}/inbox"]  # the territory's followers

    reply = {
        "@context": AS,
        "id": f"{alice.uri}/activities/2",
        "type": "Create",
        "actor": alice.uri,
        "to": [PUBLIC],
        "object": {
            "id": f"{alice.uri}/notes/2",
            "type": "Note",
            "attributedTo": alice.uri,
            "to": [PUBLIC],
            "inReplyTo": need_uri,
            "content": "<p>Bonne idée<script>alert(1)</script></p>",
            "url": "javascript:alert(2)",
        },
    }
    await post_signed(node, alice, inbox, reply)
    await node.app[inbox_worker_key].run_once()
    html = await page(node, path)
    assert "Je prendrais la navette." in html and "Bonne idée" in html
    assert "Alice de Mastodon" in html and "<script>" not in html and "javascript:" not in html


async def post_signed(
    node: TestClient, actor: RemoteActorDoc, inbox: str, activity: dict[str, Any]
) -> None:
    body, headers = signed_post(actor, inbox, activity)
    response = await node.post("/inbox", data=body, headers=headers)
    assert response.status == 202, await response.text()


async def test_triage_is_for_facilitators_and_is_kept_in_history(node: TestClient) -> None:
    circle_id = await add_circle(node, "Cercle Mobilités", "mobilites")
    await as_person(node, "camille")
    first = await new_need(node, "Navette vers la gare")
    second = await new_need(node, "Bus du samedi")
    path = f"/needs/{first}"
    await submit(node, path, f"{path}/support", support="give")

    # a resident cannot triage: a clear refusal, and nothing changes
    assert "Trier ce besoin" not in await page(node, path)
    response = await submit(node, path, f"{path}/merge", into=second)
    assert response.status == 403
    assert "réservée aux facilitateurs et facilitatrices" in await response.text()

    await log_in(node, "dominique", await add_account(node, "dominique", "facilitator"))
    assert "Trier ce besoin" in await page(node, path)
    await submit(node, f"/needs/{second}", f"/needs/{second}/support", support="give")
    response = await submit(node, path, f"{path}/assign", circle="inconnu")
    assert response.status == 400 and 'id="circle-error"' in await response.text()
    response = await submit(node, path, f"{path}/assign", circle=circle_id)
    assert response.status == 302
    html = await page(node, path)
    assert "confié à un cercle" in html and 'href="/circles/mobilites"' in html
    [update] = await outbox(node, "Update")
    assert update["object"]["assignedTo"] == f"{BASE}/actors/mobilites"
    assert update["object"]["summary"] == "Besoin · confié au Cercle Mobilités · 1 soutien"

    response = await submit(node, path, f"{path}/merge", into=first)
    assert response.status == 400 and "Choisissez un autre besoin" in await response.text()
    response = await submit(node, path, f"{path}/merge", into=second)
    assert response.status == 302
    async with node.app[sessions_key]() as session:
        merged, target = await session.get(Need, first), await session.get(Need, second)
        supports = await session.scalar(
            select(func.count()).select_from(NeedSupport).where(NeedSupport.need_id == second)
        )
    assert merged is not None and target is not None
    assert merged.state == "merged" and merged.merged_into_id == second
    assert supports == 2  # camille's support moved; dominique's was already there
    documents = [u["object"] for u in await outbox(node, "Update")]
    assert documents[-2]["mergedInto"] == target.uri and documents[-1]["supportCount"] == 2
    assert "Navette vers la gare" in await page(node, f"/needs/{second}")  # merged here

    target_path = f"/needs/{second}"
    response = await submit(node, target_path, f"{target_path}/answer", answer=" ")
    assert response.status == 400 and 'id="answer-error"' in await response.text()
    response = await submit(
        node, target_path, f"{target_path}/answer", answer="La ligne 12 passera le samedi."
    )
    assert response.status == 302
    html = await page(node, target_path)
    assert "La ligne 12 passera le samedi." in html and "répondu" in html
    answered = (await outbox(node, "Update"))[-1]["object"]
    assert answered["lifecycleState"] == "answered"
    assert answered["answer"]["content"] == "<p>La ligne 12 passera le samedi.</p>"
    response = await submit(node, target_path, f"{target_path}/support", support="withdraw")
    assert response.status == 400 and "Ce besoin est clos" in await response.text()
    response = await submit(node, target_path, f"{target_path}/assign", circle=circle_id)
    assert response.status == 400 and "déjà été traité" in await response.text()


async def test_a_circle_facilitator_triages_the_needs_of_the_circle(node: TestClient) -> None:
    circle_id = await add_circle(node, "Mobilités", "mobilites")
    await as_person(node, "camille")
    need_id = await new_need(node)
    runtime = node.app[runtime_key]
    await needs_service.assign_need(runtime, await account(node, "admin"), need_id, circle_id)
    await log_in(node, "sam", await add_account(node, "sam"))
    await join_circle(node, "sam", circle_id, "facilitator")
    path = f"/needs/{need_id}"
    assert "Trier ce besoin" in await page(node, path)
    response = await submit(node, path, f"{path}/answer", answer="Vu en cercle.")
    assert response.status == 302


def template_texts(*folders: str) -> set[str]:
    literal = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")
    return {
        m.group(2)
        for folder in folders
        for path in (TEMPLATES / folder).glob("*.html")
        for m in literal.finditer(path.read_text(encoding="utf-8"))
    }


def refusal_messages() -> set[str]:
    """Every French message the services of needs and proposals can show."""
    return {
        value
        for module in (needs_service, proposals_service)
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and " " in value
    }


def test_every_text_of_needs_and_proposals_is_translated() -> None:
    texts = template_texts("needs", "proposals") | refusal_messages()
    for labels in (THEMES, NEED_STATE_LABELS, PROPOSAL_STATE_LABELS, AMENDMENT_STATE_LABELS):
        texts |= set(labels.values())
    texts |= {"Ce besoin n'existe pas.", "Cette proposition n'existe pas."}
    assert sorted(texts - set(english())) == []


async def test_pages_in_english(node: TestClient) -> None:
    await as_person(node, "camille")
    need_id = await new_need(node)
    html = await page(node, f"/needs/{need_id}?lang=en")
    assert "Support this need" in html and "to triage" in html and "Mobility" in html
    assert "Express a need" in await page(node, "/needs?lang=en")
