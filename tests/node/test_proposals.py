"""Proposals on a real node: drafted in a circle from needs, amended (accepted or rejected
by the circle), moved through their lifecycle with history, federated as Pages; and other
territories' proposals shown as such."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.domain.participation import ProposalState, TransitionError
from node.services.participation.proposals import set_proposal_state
from node.storage.models import Need, Proposal, RemoteObject
from node.web.keys import inbox_worker_key, runtime_key, sessions_key
from protocols.activitystreams import PUBLIC
from tests.node.test_needs import (
    AP,
    BASE,
    TERRITORY,
    add_circle,
    join_circle,
    make_node,
    new_need,
    outbox,
    page,
    post_signed,
)
from tests.testrig.people import HTML, add_account, as_person, log_in, submit
from tests.testrig.remote import AS, FakeRemote


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    return await make_node(aiohttp_client, make_config)


async def drafted(node: TestClient, circle_id: str, *needs: str, **fields: str) -> str:
    """Draft a proposal through the form as the logged-in client; returns its id."""
    data = {"circle": circle_id, "title": "Navette du samedi", "text": "Un minibus.", **fields}
    page_html = await (await node.get("/proposals/new", headers=HTML)).text()
    token = page_html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = await node.post(
        "/proposals",
        data=[("csrf", token), *data.items(), *(("needs", n) for n in needs)],
        allow_redirects=False,
    )
    assert response.status == 302, await response.text()
    return str(response.headers["Location"]).rsplit("/", 1)[1]


async def test_circle_members_draft_proposals_from_needs(node: TestClient) -> None:
    circle_id = await add_circle(node, "Cercle Mobilités", "mobilites")
    await as_person(node, "camille")
    first, second = await new_need(node, "Navette"), await new_need(node, "Bus du samedi")

    # not a member: no circle to choose, and a forged post is refused
    assert "membre d&#39;aucun cercle" in await page(node, "/proposals/new")
    response = await submit(
        node, "/proposals/new", "/proposals", circle=circle_id, title="t", text="x", needs=first
    )
    assert response.status == 403 and "Seuls les membres et facilitateurs" in await response.text()

    await join_circle(node, "camille", circle_id, "member")
    response = await submit(
        node, "/proposals/new", "/proposals", circle=circle_id, title="", text=""
    )
    body = await response.text()
    assert response.status == 400
    assert 'id="needs-error" role="alert">Choisissez au moins un besoin.' in body
    assert 'id="title-error"' in body and 'id="text-error"' in body

    proposal_id = await drafted(
        node, circle_id, first, second, summary="Le samedi.", theme="mobility"
    )
    html = await page(node, f"/proposals/{proposal_id}")
    assert "Navette du samedi" in html and "brouillon" in html and "Le samedi." in html
    assert f'href="/needs/{first}"' in html and 'href="/circles/mobilites"' in html
    assert 'value="in_deliberation"' not in html  # a member (the author) may only withdraw
    async with node.app[sessions_key]() as session:
        needs = [await session.get(Need, n) for n in (first, second)]
    assert [n.state for n in needs if n] == ["in_proposal", "in_proposal"]
    assert "repris dans une proposition" in await page(node, f"/needs/{first}")
    assert "Navette du samedi" in await page(node, "/proposals?theme=mobility")
    assert "Navette du samedi" not in await page(node, "/proposals?state=adopted")

    response = await submit(
        node, "/proposals/new", "/proposals", circle=circle_id, title="t", text="x", needs=first
    )
    assert response.status == 400 and "plus ouvert" in await response.text()

    [create] = [c for c in await outbox(node, "Create") if c["object"]["type"] == "Page"][-1:]
    document = create["object"]
    assert document["proposalKind"] == "proposal" and document["lifecycleState"] == "draft"
    assert document["additionalType"] == "tc:Proposal"
    assert document["assignedTo"] == f"{BASE}/actors/mobilites"
    assert set(document["wasDerivedFrom"]) == {f"{BASE}/needs/{first}", f"{BASE}/needs/{second}"}
    assert document["summary"] == "Proposition · brouillon · Cercle Mobilités · répond à 2 besoins"
    served = await node.get(f"/proposals/{proposal_id}", headers=AP)
    assert (await served.json(content_type=None))["id"] == document["id"]
    need_updates = [u["object"] for u in await outbox(node, "Update")]
    assert {u["lifecycleState"] for u in need_updates} == {"in_proposal"}


async def test_amendments_are_proposed_by_residents_and_decided_by_the_circle(
    node: TestClient,
) -> None:
    circle_id = await add_circle(node, "Mobilités", "mobilites")
    await log_in(node, "dominique", await add_account(node, "dominique", "facilitator"))
    need_id = await new_need(node)
    proposal_id = await drafted(node, circle_id, need_id)
    path = f"/proposals/{proposal_id}"

    await as_person(node, "camille")
    response = await submit(node, path, f"{path}/amendments", text="Un minibus électrique.")
    assert response.status == 400 and 'id="rationale-error"' in await response.text()
    for text in ("Un minibus électrique.", "Deux minibus."):
        response = await submit(
            node, path, f"{path}/amendments", text=text, rationale="Moins de bruit."
        )
        assert response.status == 302
    html = await page(node, path)
    assert "Amendement de Camille" in html and "Moins de bruit." in html
    amendments = [c["object"] for c in await outbox(node, "Create")][-2:]
    assert [a["proposalKind"] for a in amendments] == ["amendment", "amendment"]
    assert amendments[0]["amends"] == f"{BASE}{path}"
    assert amendments[0]["summary"] == "Amendement · proposé"
    first = amendments[0]["id"].rsplit("/", 1)[1]
    second = amendments[1]["id"].rsplit("/", 1)[1]
    served = await node.get(f"/amendments/{first}", headers=AP)
    assert (await served.json(content_type=None))["lifecycleState"] == "proposed"

    response = await submit(node, path, f"/amendments/{first}/decide", decision="accept")
    assert response.status == 403 and "réservée aux facilitateurs" in await response.text()

    await log_in(node, "dominique", "dominique-password-1")
    assert "Trancher l&#39;amendement" in await page(node, f"/amendments/{first}")
    response = await submit(
        node, f"/amendments/{first}", f"/amendments/{first}/decide", decision="accept"
    )
    assert response.status == 302
    html = await page(node, path)
    assert "Un minibus électrique." in html and "Texte remplacé par l" in html
    updates = [u["object"] for u in await outbox(node, "Update")]
    assert "<p>Un minibus électrique.</p>" in updates[-2]["content"]
    assert updates[-1]["lifecycleState"] == "accepted"
    response = await submit(node, path, f"/amendments/{first}/decide", decision="reject")
    assert response.status == 400 and "déjà été tranché" in await response.text()
    response = await submit(
        node, path, f"/amendments/{second}/decide", decision="reject", reason="Trop cher."
    )
    assert response.status == 302
    amendment_page = await page(node, f"/amendments/{second}")
    assert "rejeté" in amendment_page and "Trop cher." in amendment_page
    async with node.app[sessions_key]() as session:
        proposal = await session.get(Proposal, proposal_id)
    assert proposal is not None and proposal.text == "Un minibus électrique."


async def test_the_lifecycle_moves_step_by_step(node: TestClient) -> None:
    circle_id = await add_circle(node, "Mobilités", "mobilites")
    await as_person(node, "camille")
    await join_circle(node, "camille", circle_id, "member")
    withdrawn = await drafted(node, circle_id, await new_need(node))
    path = f"/proposals/{withdrawn}"
    assert '<option value="withdrawn">retirée' in await page(node, path)
    response = await submit(node, path, f"{path}/state", state="in_deliberation")
    assert response.status == 403
    response = await submit(node, path, f"{path}/state", state="withdrawn", reason="Doublon.")
    assert response.status == 302 and "Doublon." in await page(node, path)

    await log_in(node, "dominique", await add_account(node, "dominique", "facilitator"))
    need_id = await new_need(node, "Autre")
    proposal_id = await drafted(node, circle_id, need_id)
    path = f"/proposals/{proposal_id}"
    need_page = await page(node, f"/needs/{need_id}")  # taken up: it can only be answered
    assert "Répondre et clore" in need_page and "Confier à un cercle" not in need_page
    response = await submit(node, path, f"{path}/state", state="in_deliberation")
    assert response.status == 302
    response = await submit(node, path, f"{path}/state", state="adopted")
    assert response.status == 400 and "résulte d&#39;une décision" in await response.text()

    runtime = node.app[runtime_key]
    async with runtime.sessions.begin() as session:  # what a decision does at closing
        proposal = await session.get(Proposal, proposal_id)
        assert proposal is not None
        try:
            await set_proposal_state(runtime, session, proposal, ProposalState.EVALUATED, "x")
        except TransitionError:
            pass
        else:
            raise AssertionError("evaluated cannot follow in_deliberation")
        await set_proposal_state(
            runtime, session, proposal, ProposalState.ADOPTED, "Décision", "12 pour, 3 contre"
        )
    response = await submit(node, path, f"{path}/state", state="draft")
    assert response.status == 400 and 'id="state-error"' in await response.text()
    response = await submit(node, path, f"{path}/state", state="in_project")
    assert response.status == 302
    html = await page(node, path)
    assert "12 pour, 3 contre" in html and "en projet" in html
    assert "Proposer un amendement" not in html  # no more amendments once adopted
    states = [
        u["object"]["lifecycleState"]
        for u in await outbox(node, "Update")
        if u["object"]["id"] == f"{BASE}{path}"
    ]
    assert states == ["in_deliberation", "adopted", "in_project"]

    response = await submit(node, path, f"{path}/comments", comment="Bravo au cercle.")
    assert response.status == 302 and "Bravo au cercle." in await page(node, path)


async def test_other_territories_proposals_are_kept_and_shown(
    node: TestClient,
    remote: FakeRemote,
) -> None:
    peer = remote.add_actor("territoire")
    page_id = f"{remote.base}/proposals/1"
    document = {
        "id": page_id,
        "type": "Page",
        "additionalType": "tc:Proposal",
        "proposalKind": "proposal",
        "lifecycleState": "in_deliberation",
        "attributedTo": peer.uri,
        "to": [PUBLIC],
        "cc": [TERRITORY],
        "name": "Jardins partagés",
        "summary": "Proposition · en délibération · Cercle Alimentation",
        "content": "<p>Des jardins</p>",
        "url": "javascript:alert(1)",  # hostile: never a link
    }
    create: dict[str, Any] = {
        "@context": AS,
        "id": f"{peer.uri}/activities/1",
        "type": "Create",
        "actor": peer.uri,
        "to": [PUBLIC],
        "cc": [TERRITORY],
        "object": document,
    }
    await post_signed(node, peer, f"{BASE}/inbox", create)
    await node.app[inbox_worker_key].run_once()
    async with node.app[sessions_key]() as session:
        stored = (await session.scalars(select(RemoteObject))).one()
    assert stored.kind == "tc:Proposal" and stored.state == "in_deliberation"
    html = await page(node, "/proposals")
    assert "Propositions d&#39;autres territoires" in html and "Jardins partagés" in html
    assert f'href="{page_id}"' in html and "javascript:" not in html
    assert "Jardins partagés" not in await page(node, "/needs")
