"""Resource offers and requests on a real node: the form and its errors, the author's actions,
the Note + vf:Proposal document, Update and Delete in the outbox, replies (local and signed
remote ones), and offers of other nodes in the listing until they are taken or deleted."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.convert.offers import KIND_LABELS, PURPOSE_LABELS, STATE_LABELS
from node.services.pages.activity_feed import KIND_LABELS as FEED_KINDS
from node.services.pages.activity_feed import STATE_LABELS as FEED_STATES
from node.services.pages.activity_feed import UNCHANGED_STATE_EVENTS, UPDATED
from node.storage.models import (
    Follow,
    Note,
    Offer,
    OutboxEntry,
    OutboxTarget,
    RemoteActor,
    RemoteObject,
    StateChange,
)
from node.web.i18n import english
from node.web.keys import inbox_worker_key, sessions_key
from node.web.routes.offers import ACTION_LABELS
from protocols.activitystreams import PUBLIC
from tests.testrig.people import HTML, HTTP_NODE, add_account, as_person, log_in, submit
from tests.testrig.remote import AS, FakeRemote, RemoteActorDoc, signed_post

BASE = HTTP_NODE["base_url"]
TERRITORY = f"{BASE}/actors/territoire"
AP = {"Accept": "application/activity+json"}
NEIGHBOUR = "https://voisin.example/actors/territoire"
TEMPLATES = Path(__file__).resolve().parents[2] / "node" / "web" / "templates"

LEND = {
    "purpose": "offer",
    "kind": "lend",
    "title": "Prêt d'un broyeur à végétaux",
    "text": "Broyeur thermique, à récupérer à l'atelier.",
    "available_from": "2026-04-01",
    "available_until": "2026-10-31",
    "place": "Atelier du Moulin",
}


async def publish(node: TestClient, **fields: Any) -> Any:
    return await submit(node, "/offers/new", "/offers", **fields)


async def publish_ok(node: TestClient, **fields: Any) -> str:
    """Publish an offer; returns its id."""
    response = await publish(node, **fields)
    assert response.status == 302, await response.text()
    match = re.fullmatch(r"/offers/([0-9a-z]{26})", response.headers["Location"])
    assert match
    return match.group(1)


async def rows(node: TestClient, model: Any, *where: Any) -> list[Any]:
    async with node.app[sessions_key]() as session:
        return list(await session.scalars(select(model).where(*where)))


async def outbox(node: TestClient, kind: str) -> list[dict[str, Any]]:
    entries = await rows(node, OutboxEntry, OutboxEntry.type == kind)
    return [json.loads(entry.body) for entry in sorted(entries, key=lambda e: e.seq)]


async def add_neighbour(node: TestClient) -> None:
    """A neighbouring territory the territory follows (as after an accepted Follow)."""
    async with node.app[sessions_key].begin() as session:
        session.add(
            RemoteActor(
                uri=NEIGHBOUR,
                domain="voisin.example",
                type="Group",
                username="territoire",
                name="Voisinville",
                inbox=f"{NEIGHBOUR}/inbox",
                shared_inbox="https://voisin.example/inbox",
                raw=json.dumps(
                    {"id": NEIGHBOUR, "type": "Group", "additionalType": "tc:Territory"}
                ),
            )
        )
        session.add(
            Follow(
                follower_uri=TERRITORY,
                followed_uri=NEIGHBOUR,
                activity_uri=f"{BASE}/activities/follow-1",
                state="accepted",
            )
        )


async def post_signed(node: TestClient, actor: RemoteActorDoc, activity: dict[str, Any]) -> None:
    body, headers = signed_post(actor, f"{BASE}/inbox", activity)
    response = await node.post("/inbox", data=body, headers=headers)
    assert response.status == 202, await response.text()
    await node.app[inbox_worker_key].run_once()


async def switch_to(client: TestClient, username: str, password: str) -> None:
    """The same browser, logged in as someone else."""
    client.session.cookie_jar.clear()
    await log_in(client, username, password)


@pytest.fixture
def node(web_node: TestClient) -> TestClient:
    """The node under test, browsed over http."""
    return web_node


def field_error(page: str, field: str) -> str:
    """The reason shown next to a field (role=alert, id <field>-error)."""
    match = re.search(rf'id="{field}-error" role="alert">([^<]+)<', page)
    assert match, f"no error shown for {field}"
    return match.group(1)


async def test_each_kind_is_published_and_bad_input_is_refused_by_field(node: TestClient) -> None:
    response = await node.get("/offers/new", headers=HTML, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/login?next=/offers/new"
    await as_person(node, "camille")

    await publish_ok(node, **LEND)
    await publish_ok(node, purpose="offer", kind="give", title="Canapé à donner", text="Bon état.")
    await publish_ok(
        node,
        purpose="request",
        kind="group_purchase",
        title="Achat groupé de farine bio",
        text="Commande au moulin voisin.",
        minimum_quantity="20",
        unit="kg",
    )
    await publish_ok(
        node,
        purpose="offer",
        kind="time_bank",
        title="Aide au jardinage",
        text="Je taille les haies.",
        hours="3,5",
    )
    offers = await rows(node, Offer)
    assert sorted(o.kind for o in offers) == ["give", "group_purchase", "lend", "time_bank"]
    assert {o.quantity for o in offers if o.kind == "time_bank"} == {3.5}
    assert len(await outbox(node, "Create")) == 4
    assert len(await rows(node, StateChange, StateChange.to_state == "open")) == 4

    bad = await publish(node, **{**LEND, "available_until": "2026-03-01"})
    page = await bad.text()
    assert bad.status == 400
    assert field_error(page, "available_until") == "La fin de la disponibilité précède son début."
    assert 'aria-invalid="true" aria-describedby="available_until-error"' in page
    assert "Prêt d&#39;un broyeur à végétaux" in page  # what was typed comes back

    bad = await publish(node, purpose="request", kind="group_purchase", title="Riz", text="Bio.")
    assert field_error(await bad.text(), "minimum_quantity") == "Ce champ est obligatoire."
    assert field_error(await bad.text(), "unit") == "Ce champ est obligatoire."

    bad = await publish(
        node, purpose="offer", kind="time_bank", title="Aide", text="x", hours="trois"
    )
    assert field_error(await bad.text(), "hours") == "Entrez un nombre, par exemple 12,5."

    bad = await publish(node, purpose="gift", kind="lend", title="", text="x", hours="-1")
    page = await bad.text()
    assert field_error(page, "purpose") == "Choisissez une des valeurs proposées."
    assert field_error(page, "title") == "Ce champ est obligatoire."

    bad = await publish(node, **{**LEND, "territories": "https://evil.example/actors/x"})
    assert field_error(await bad.text(), "territories") == "Choisissez une des valeurs proposées."
    assert len(await rows(node, Offer)) == 4

    page = await (await node.get("/offers", headers=HTML)).text()
    assert "4 offre(s) ou demande(s) ouvertes" in page
    page = await (await node.get("/offers?kind=give", headers=HTML)).text()
    assert "Canapé à donner" in page and "broyeur" not in page
    page = await (await node.get("/offers?purpose=request&kind=nonsense", headers=HTML)).text()
    assert "farine" in page and "Canapé" not in page
    page = await (await node.get("/offers?lang=en", headers=HTML)).text()
    assert "Group purchase" in page and "Offers and requests" in page


async def test_the_note_carries_the_valueflows_proposal(node: TestClient) -> None:
    await add_neighbour(node)
    await as_person(node, "camille")
    form = await (await node.get("/offers/new", headers=HTML)).text()
    assert f'value="{NEIGHBOUR}"' in form and "Voisinville" in form

    lend = await publish_ok(node, **LEND)
    document = await (await node.get(f"/offers/{lend}", headers=AP)).json(content_type=None)
    assert document["@context"][0] == AS
    assert document["type"] == "Note" and document["additionalType"] == "vf:Proposal"
    assert document["id"] == document["url"] == f"{BASE}/offers/{lend}"
    # no name nor summary: Mastodon and GoToSocial would fold the offer behind them
    assert "name" not in document and "summary" not in document
    assert document["headline"] == LEND["title"]
    assert document["statusLine"] == "Offre · prêt · disponible jusqu'au 31/10"
    content = document["content"]
    assert "<p>Offre · prêt · disponible jusqu'au 31/10</p>" in content
    for part in (LEND["title"], LEND["text"][:20], "du 01/04/2026 au 31/10/2026", "Atelier"):
        assert part in content.replace("&#x27;", "'")
    assert "Pour répondre" in content and document["url"] in content
    assert document["purpose"] == "offer" and document["lifecycleState"] == "open"
    intent = document["publishes"]
    assert intent["type"] == "Intent" and intent["action"] == "use"
    assert intent["provider"] == TERRITORY
    assert document["hasBeginning"] == "2026-04-01T00:00:00Z"
    assert document["hasEnd"].startswith("2026-10-31")
    assert document["location"] == {"type": "Place", "name": "Atelier du Moulin"}
    assert document["to"] == [PUBLIC] and document["attributedTo"] == TERRITORY

    request = await publish_ok(
        node,
        purpose="request",
        kind="group_purchase",
        title="Farine bio",
        text="Commande groupée.",
        minimum_quantity="20",
        unit="kg",
        territories=NEIGHBOUR,
    )
    document = await (await node.get(f"/offers/{request}", headers=AP)).json(content_type=None)
    assert document["statusLine"] == "Demande · achat groupé · minimum 20 kg"
    assert document["publishes"]["action"] == "transfer"
    assert document["publishes"]["receiver"] == TERRITORY
    assert document["publishes"]["minimumQuantity"] == {"hasUnit": "kg", "hasNumericalValue": "20"}
    assert document["proposedTo"] == [TERRITORY, NEIGHBOUR] and NEIGHBOUR in document["cc"]
    create = (await outbox(node, "Create"))[-1]
    assert create["object"]["id"] == document["id"] and create["actor"] == TERRITORY
    entry = (await rows(node, OutboxEntry, OutboxEntry.activity_id == create["id"]))[0]
    targets = await rows(node, OutboxTarget, OutboxTarget.seq == entry.seq)
    assert [t.inbox for t in targets] == ["https://voisin.example/inbox"]

    hours = await publish_ok(
        node, purpose="offer", kind="time_bank", title="Jardinage", text="Haies.", hours="2"
    )
    document = await (await node.get(f"/offers/{hours}", headers=AP)).json(content_type=None)
    assert document["publishes"]["action"] == "work"
    assert document["publishes"]["effortQuantity"] == {"hasUnit": "hour", "hasNumericalValue": "2"}


async def test_only_the_author_changes_the_offer_and_closing_deletes_it(node: TestClient) -> None:
    camille = await add_account(node, "camille")
    dominique = await add_account(node, "dominique")
    await log_in(node, "camille", camille)
    offer_id = await publish_ok(node, **LEND)
    page_path = f"/offers/{offer_id}"
    assert "Gérer votre offre" in await (await node.get(page_path, headers=HTML)).text()

    await switch_to(node, "dominique", dominique)
    response = await submit(node, page_path, f"{page_path}/state", state="closed")
    assert response.status == 403
    assert "Seule la personne qui a publié cette offre peut la modifier." in await response.text()
    assert "Gérer votre offre" not in await (await node.get(page_path, headers=HTML)).text()
    await switch_to(node, "camille", camille)

    response = await submit(node, page_path, f"{page_path}/state", state="taken")
    assert response.status == 302
    update = (await outbox(node, "Update"))[-1]
    assert update["object"]["lifecycleState"] == "taken"
    assert update["object"]["statusLine"] == "Offre · prêt · pourvue"
    assert "Offre · prêt · pourvue" in update["object"]["content"]
    assert "broyeur" not in await (await node.get("/offers", headers=HTML)).text()

    await submit(node, page_path, f"{page_path}/state", state="open")
    assert (await outbox(node, "Update"))[-1]["object"]["lifecycleState"] == "open"
    assert "broyeur" in await (await node.get("/offers", headers=HTML)).text()

    response = await submit(node, page_path, f"{page_path}/state", state="closed")
    assert response.status == 302
    delete = (await outbox(node, "Delete"))[-1]
    assert delete["object"]["id"] == f"{BASE}{page_path}"
    assert delete["object"]["type"] == "Tombstone" and delete["actor"] == TERRITORY
    response = await node.get(page_path, headers=AP)
    assert response.status == 410
    assert (await response.json(content_type=None))["type"] == "Tombstone"
    page = await (await node.get(page_path, headers=HTML)).text()
    assert "Cette offre est fermée" in page and "fermée" in page
    assert "broyeur" not in await (await node.get("/offers", headers=HTML)).text()

    response = await submit(node, page_path, f"{page_path}/state", state="open")
    assert response.status == 400
    assert "Ce changement n'est pas possible" in await response.text()
    history = [c.to_state for c in await rows(node, StateChange)]
    assert history == ["open", "taken", "open", "closed"]


async def test_replies_local_and_remote_show_under_the_offer(
    node: TestClient, remote: FakeRemote
) -> None:
    await as_person(node, "camille")
    offer_id = await publish_ok(node, **LEND)
    offer_uri = f"{BASE}/offers/{offer_id}"

    alice = remote.add_actor("alice", name="Alice de Mastodon")
    await post_signed(
        node,
        alice,
        {
            "@context": AS,
            "id": f"{alice.uri}/activities/1",
            "type": "Create",
            "actor": alice.uri,
            "to": [PUBLIC],
            "object": {
                "id": f"{alice.uri}/notes/1",
                "type": "Note",
                "attributedTo": alice.uri,
                "inReplyTo": offer_uri,
                "to": [PUBLIC],
                "content": "<p>Je le prendrais samedi !<script>alert(1)</script></p>",
            },
        },
    )

    await switch_to(node, "dominique", await add_account(node, "dominique"))
    response = await submit(node, f"/offers/{offer_id}", f"/offers/{offer_id}/replies", text=" ")
    assert response.status == 400
    assert field_error(await response.text(), "text") == "Ce champ est obligatoire."
    response = await submit(
        node, f"/offers/{offer_id}", f"/offers/{offer_id}/replies", text="Moi aussi, dimanche."
    )
    assert response.status == 302

    page = await (await node.get(f"/offers/{offer_id}", headers=HTML)).text()
    assert "Alice de Mastodon" in page and "Je le prendrais samedi !" in page
    assert "<script>" not in page
    assert "Dominique" in page and "Moi aussi, dimanche." in page
    assert "Réponses (2)" in page

    reply = (await rows(node, Note, Note.local))[0]
    assert reply.in_reply_to == offer_uri and reply.author_uri == f"{BASE}/actors/dominique"
    create = (await outbox(node, "Create"))[-1]
    assert create["actor"] == f"{BASE}/actors/dominique"
    assert create["object"]["inReplyTo"] == offer_uri
    assert (await node.get(reply.uri.removeprefix(BASE), headers=AP)).status == 200


def remote_offer(actor: RemoteActorDoc, number: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{actor.uri}/offers/{number}",
        "type": "Note",
        "additionalType": "vf:Proposal",
        "attributedTo": actor.uri,
        "to": [PUBLIC],
        "cc": [TERRITORY],
        "name": f"Offre voisine {number}",
        "summary": "Offre · banque de temps",
        "content": f"<p>Offre voisine {number}</p>",
        "url": f"{actor.uri}/offers/{number}",
        "purpose": "offer",
        "publishes": {"type": "Intent", "action": "work", "provider": actor.uri},
        "lifecycleState": "open",
        **extra,
    }


async def test_offers_of_other_nodes_are_listed_until_taken_or_deleted(
    node: TestClient, remote: FakeRemote
) -> None:
    neighbour = remote.add_actor("voisinville", name="Voisinville")
    for number in (1, 2):
        await post_signed(
            node,
            neighbour,
            {
                "@context": AS,
                "id": f"{neighbour.uri}/activities/create-{number}",
                "type": "Create",
                "actor": neighbour.uri,
                "to": [PUBLIC],
                "cc": [TERRITORY],
                # a hostile link is not shown as such: the offer's id is linked instead
                "object": remote_offer(neighbour, number, url=f"javascript:alert({number})"),
            },
        )
    assert {r.kind for r in await rows(node, RemoteObject)} == {"vf:Proposal"}
    page = await (await node.get("/offers?kind=time_bank", headers=HTML)).text()
    assert "Offre voisine 1" in page and "Offre voisine 2" in page
    assert "publiée par Voisinville" in page
    assert f'href="{neighbour.uri}/offers/2"' in page and "javascript:" not in page
    assert "Offre voisine" not in await (await node.get("/offers?kind=give", headers=HTML)).text()

    await post_signed(
        node,
        neighbour,
        {
            "@context": AS,
            "id": f"{neighbour.uri}/activities/update-1",
            "type": "Update",
            "actor": neighbour.uri,
            "to": [PUBLIC],
            "cc": [TERRITORY],
            "object": remote_offer(neighbour, 1, lifecycleState="taken"),
        },
    )
    await post_signed(
        node,
        neighbour,
        {
            "@context": AS,
            "id": f"{neighbour.uri}/activities/delete-2",
            "type": "Delete",
            "actor": neighbour.uri,
            "to": [PUBLIC],
            "object": {"id": f"{neighbour.uri}/offers/2", "type": "Tombstone"},
        },
    )
    page = await (await node.get("/offers", headers=HTML)).text()
    assert "Offre voisine" not in page
    assert "Aucune offre ni demande ouverte pour le moment." in page


def test_every_text_of_these_pages_is_translated() -> None:
    literal = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")
    texts = {
        m.group(2)
        for folder in ("offers", "feed")
        for path in (TEMPLATES / folder).glob("*.html")
        for m in literal.finditer(path.read_text())
    }
    for labels in (KIND_LABELS, PURPOSE_LABELS, STATE_LABELS, FEED_KINDS, ACTION_LABELS):
        texts |= set(labels.values())
    texts |= {label for states in FEED_STATES.values() for label in states.values()}
    texts |= {*UNCHANGED_STATE_EVENTS.values(), UPDATED}
    assert sorted(texts - set(english())) == []
