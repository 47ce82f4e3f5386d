"""Decisions: a facilitator opens one, residents vote once, the scheduler closes it on time and
publishes the result, and Mastodon-style poll answers land in a separate, non-binding tally."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from node.domain.actors import ActorKind
from node.domain.ids import new_id
from node.domain.local_time import INPUT, local_text
from node.services.participation.decisions import close_due_decisions
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Circle,
    Decision,
    ExternalAnswer,
    LocalActor,
    Note,
    OutboxEntry,
    Proposal,
    StateChange,
    Vote,
)
from node.web.i18n import english
from node.web.keys import inbox_worker_key, runtime_key, sessions_key
from node.web.routes.decisions import METHOD_LABELS, STATE_LABELS
from protocols.activitystreams import PUBLIC
from protocols.keys import generate_actor_keys
from tests.testrig.people import HTML, HTTP_NODE, add_account, as_person, log_in, submit
from tests.testrig.remote import AS, FakeRemote, RemoteActorDoc, signed_post

BASE = HTTP_NODE["base_url"]
AP = {"Accept": "application/activity+json"}
TEMPLATES = "node/web/templates/decisions"
#: The test node's clock: the default territory.timezone.
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def node(web_node: TestClient) -> TestClient:
    """The node under test, browsed over http."""
    return web_node


async def proposal_in_deliberation(node: TestClient, title: str = "Navette du samedi") -> str:
    """A circle and one of its proposals, in deliberation (made directly: other parts own the
    circle and proposal pages)."""
    keys = generate_actor_keys()
    async with node.app[sessions_key].begin() as session:
        author = (await session.scalars(select(Account))).first()
        assert author is not None
        actor = LocalActor(
            kind=ActorKind.CIRCLE.value,
            username=f"mobilites-{new_id()[-6:]}",
            display_name="Cercle Mobilités",
            rsa_private_pem=keys.rsa_private_pem,
            ed25519_private_pem=keys.ed25519_private_pem,
        )
        session.add(actor)
        await session.flush()
        circle = Circle(actor_id=actor.id, slug=actor.username, name="Cercle Mobilités")
        session.add(circle)
        await session.flush()
        proposal_id = new_id()
        session.add(
            Proposal(
                id=proposal_id,
                uri=f"{BASE}/proposals/{proposal_id}",
                circle_id=circle.id,
                author_id=author.id,
                title=title,
                text="Une navette vers la gare le samedi matin.",
                state="in_deliberation",
            )
        )
    return proposal_id


def local_input(moment: datetime, zone: tzinfo = PARIS) -> str:
    """A moment as <input type=datetime-local> sends it, on the territory's clock."""
    return local_text(moment, zone, INPUT)


async def open_by_form(node: TestClient, proposal_id: str, **fields: str) -> str:
    """Open a decision through the form as the logged-in facilitator; returns its id."""
    data = {
        "proposal": proposal_id,
        "question": "Expérimenter la navette du samedi ?",
        "method": "majority",
        "opens_at": "",
        "closes_at": local_input(utcnow() + timedelta(days=3)),
        "quorum": "10",
        **fields,
    }
    response = await submit(node, "/decisions/new", "/decisions", **data)
    assert response.status == 302, await response.text()
    match = re.fullmatch(r"/decisions/([0-9a-z]{26})", response.headers["Location"])
    assert match
    return match.group(1)


async def vote(node: TestClient, decision_id: str, choice: str, comment: str = "") -> Any:
    page = f"/decisions/{decision_id}"
    return await submit(node, page, f"{page}/vote", choice=choice, comment=comment)


async def count(node: TestClient, model: Any, *where: Any) -> int:
    async with node.app[sessions_key]() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def outbox(node: TestClient, kind: str) -> list[dict[str, Any]]:
    async with node.app[sessions_key]() as session:
        rows = await session.scalars(
            select(OutboxEntry.body).where(OutboxEntry.type == kind).order_by(OutboxEntry.seq)
        )
        return [json.loads(body) for body in rows]


async def decision(node: TestClient, decision_id: str) -> Decision:
    async with node.app[sessions_key]() as session:
        found = await session.get(Decision, decision_id)
        assert found is not None
        return found


async def proposal_state(node: TestClient, proposal_id: str) -> str:
    async with node.app[sessions_key]() as session:
        found = await session.get(Proposal, proposal_id)
        assert found is not None
        return found.state


async def switch_to(node: TestClient, username: str, role: str = "resident") -> None:
    """Log the client out and in again as a new account."""
    node.session.cookie_jar.clear()
    await as_person(node, username, role)


async def test_facilitator_opens_and_a_resident_votes_once(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "camille", "facilitator")
    decision_id = await open_by_form(node, proposal_id)
    opened = await decision(node, decision_id)
    assert opened.state == "open" and opened.quorum == pytest.approx(0.1)
    [create] = await outbox(node, "Create")
    assert create["object"]["id"] == opened.uri and create["object"]["type"] == "Question"

    await switch_to(node, "dominique")
    assert (await vote(node, decision_id, "for")).status == 302
    response = await vote(node, decision_id, "against")
    assert response.headers["Location"] == f"/decisions/{decision_id}?voted=1#vote"
    async with node.app[sessions_key]() as session:
        votes = list(await session.scalars(select(Vote).where(Vote.decision_id == decision_id)))
    assert [v.choice for v in votes] == ["against"]  # replaced, not added

    page = await (await node.get(f"/decisions/{decision_id}", headers=HTML)).text()
    assert "Vous avez répondu" in page and "Changer mon vote" in page
    assert "1 votant·e(s) sur 3 habitant·es" in page  # admin, camille, dominique
    assert "Les résultats seront publiés à la clôture" in page  # counts stay secret until then
    assert "NON CONTRAIGNANT" in page

    response = await vote(node, decision_id, "maybe")
    assert response.status == 400
    assert 'id="choice-error" class="error" role="alert"' in await response.text()


async def test_a_visitor_cannot_vote(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "camille", "facilitator")
    decision_id = await open_by_form(node, proposal_id)
    node.session.cookie_jar.clear()

    page = await (await node.get(f"/decisions/{decision_id}", headers=HTML)).text()
    assert "Se connecter pour voter" in page and 'name="choice"' not in page
    # a visitor's page has no vote form: post with the anonymous token of the login page
    response = await submit(node, "/login", f"/decisions/{decision_id}/vote", choice="for")
    assert response.status == 403
    text = await response.text()
    assert "Seul·es les habitant·es connecté·es peuvent voter" in text
    assert f'href="/login?next=/decisions/{decision_id}"' in text
    assert await count(node, Vote) == 0


async def test_a_resident_cannot_open_a_decision(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "dominique")
    response = await node.get("/decisions/new", headers=HTML)
    assert response.status == 403
    assert "réservé aux facilitateurs et facilitatrices" in await response.text()
    data = {"proposal": proposal_id, "question": "?", "method": "majority", "quorum": "0"}
    response = await submit(node, "/decisions", "/decisions", **data)
    assert response.status == 403
    assert "réservé aux facilitateurs et facilitatrices" in await response.text()
    assert await count(node, Decision) == 0


async def test_the_form_names_each_bad_field(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "camille", "facilitator")
    now = utcnow()
    fields = {
        "proposal": proposal_id,
        "question": "Expérimenter ?",
        "method": "sortition",
        "opens_at": local_input(now + timedelta(days=2)),
        "closes_at": "demain",
        "quorum": "150",
    }
    response = await submit(node, "/decisions/new", "/decisions", **fields)
    page = await response.text()
    assert response.status == 400
    for field, reason in (
        ("method", "Choisissez une des valeurs proposées."),
        ("closes_at", "Entrez une date et une heure"),
        ("quorum", "Ce nombre est trop grand."),
    ):
        assert re.search(f'id="{field}-error" class="error" role="alert">{reason}', page), field
    assert 'value="Expérimenter ?"' in page  # what was typed comes back

    fields |= {"method": "consent", "closes_at": local_input(now + timedelta(days=1))}
    fields["quorum"] = "20"
    response = await submit(node, "/decisions/new", "/decisions", **fields)
    assert response.status == 400
    assert "La clôture doit venir après l&#39;ouverture." in await response.text()

    await open_by_form(node, proposal_id)
    fields |= {"opens_at": "", "closes_at": local_input(now + timedelta(days=1))}
    response = await submit(node, "/decisions/new", "/decisions", **fields)
    assert response.status == 400  # one decision at a time on a proposal
    assert "Une décision est déjà prévue sur cette proposition." in await response.text()
    assert await count(node, Decision) == 1


async def test_voting_outside_the_window_is_refused(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "camille", "facilitator")
    later = local_input(utcnow() + timedelta(days=1))
    decision_id = await open_by_form(
        node, proposal_id, opens_at=later, closes_at=local_input(utcnow() + timedelta(days=2))
    )
    assert (await decision(node, decision_id)).state == "scheduled"
    assert await outbox(node, "Create") == []  # published when it opens

    response = await vote(node, decision_id, "for")
    assert response.status == 400 and "Le vote n&#39;est pas encore ouvert." in (
        await response.text()
    )
    runtime = node.app[runtime_key]
    assert await close_due_decisions(runtime, now=utcnow() + timedelta(days=1, minutes=1)) == 1
    assert (await decision(node, decision_id)).state == "open"
    assert len(await outbox(node, "Create")) == 1
    # the clock passes the closing time before the scheduler runs: votes are refused anyway
    async with node.app[sessions_key].begin() as session:
        row = await session.get(Decision, decision_id)
        assert row is not None
        row.opens_at, row.closes_at = utcnow() - timedelta(days=2), utcnow() - timedelta(seconds=1)
    response = await vote(node, decision_id, "for")
    assert response.status == 400 and "Le vote est clos." in await response.text()
    assert await count(node, Vote) == 0


async def test_majority_closing_adopts_moves_the_proposal_and_publishes(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "camille", "facilitator")
    decision_id = await open_by_form(node, proposal_id, quorum="50")
    for name, choice in (("ana", "for"), ("bruno", "for"), ("chloe", "against")):
        await switch_to(node, name)
        assert (await vote(node, decision_id, choice)).status == 302
    runtime = node.app[runtime_key]
    assert await close_due_decisions(runtime) == 0  # not yet
    closing = utcnow() + timedelta(days=4)
    assert await close_due_decisions(runtime, now=closing) == 1
    assert await close_due_decisions(runtime, now=closing) == 0  # idempotent

    closed = await decision(node, decision_id)
    result = json.loads(closed.result)
    assert closed.state == "closed" and closed.closed_at is not None
    assert result["counts"] == {"for": 2, "against": 1, "abstain": 0}
    assert (result["voters"], result["eligible"], result["quorum_needed"]) == (3, 5, 3)
    assert result["quorum_reached"] and result["adopted"]
    assert await proposal_state(node, proposal_id) == "adopted"
    async with node.app[sessions_key]() as session:
        steps = list(await session.execute(select(StateChange.object_uri, StateChange.to_state)))
    assert (closed.uri, "closed") in steps and (f"{BASE}/proposals/{proposal_id}", "adopted") in (
        steps
    )

    updates = {u["object"]["id"]: u["object"] for u in await outbox(node, "Update")}
    assert updates[f"{BASE}/proposals/{proposal_id}"]["lifecycleState"] == "adopted"
    question = updates[closed.uri]
    assert question["closed"] and question["lifecycleState"] == "closed"
    assert [(o["name"], o["replies"]["totalItems"]) for o in question["oneOf"]] == [
        ("Pour", 2),
        ("Contre", 1),
        ("Abstention", 0),
    ]
    assert "adoptée" in question["statusLine"] and "adoptée" in question["content"]
    page = await (await node.get(f"/decisions/{decision_id}", headers=HTML)).text()
    assert "Proposition adoptée." in page and "Quorum atteint." in page
    assert "Le vote est clos." in page


async def test_consent_with_one_objection_is_not_adopted(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "camille", "facilitator")
    decision_id = await open_by_form(node, proposal_id, method="consent", quorum="0")
    await switch_to(node, "ana")
    assert (await vote(node, decision_id, "consent")).status == 302
    await switch_to(node, "bruno")
    response = await vote(node, decision_id, "objection")
    assert response.status == 400
    assert 'id="comment-error" class="error" role="alert">Une objection doit être motivée' in (
        await response.text()
    )
    assert (await vote(node, decision_id, "objection", "Pas de budget.")).status == 302

    await close_due_decisions(node.app[runtime_key], now=utcnow() + timedelta(days=4))
    result = json.loads((await decision(node, decision_id)).result)
    assert result["counts"] == {"consent": 1, "objection": 1, "abstain": 0}
    assert result["quorum_reached"] and not result["adopted"]
    assert await proposal_state(node, proposal_id) == "not_adopted"


async def test_quorum_not_reached_means_not_adopted(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "camille", "facilitator")
    decision_id = await open_by_form(node, proposal_id, quorum="60")
    await switch_to(node, "ana")
    assert (await vote(node, decision_id, "for")).status == 302  # 1 voter out of 3: 33 %

    await close_due_decisions(node.app[runtime_key], now=utcnow() + timedelta(days=4))
    result = json.loads((await decision(node, decision_id)).result)
    assert result["counts"]["for"] == 1 and not result["quorum_reached"]
    assert not result["adopted"]
    assert await proposal_state(node, proposal_id) == "not_adopted"
    page = await (await node.get(f"/decisions/{decision_id}", headers=HTML)).text()
    assert "Quorum non atteint." in page and "Proposition non adoptée." in page


async def test_the_question_document_is_a_mastodon_poll(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "camille", "facilitator")
    decision_id = await open_by_form(node, proposal_id, method="consent")
    response = await node.get(f"/decisions/{decision_id}", headers=AP)
    assert response.headers["Content-Type"] == "application/activity+json"
    question = await response.json(content_type=None)
    assert AS in question["@context"]
    assert question["id"] == f"{BASE}/decisions/{decision_id}"
    assert question["type"] == "Question" and question["additionalType"] == "tc:Decision"
    # the question and its status are in the content: a name or a summary would become a
    # content warning folding the poll (GoToSocial, Mastodon)
    assert "name" not in question and "summary" not in question
    assert question["headline"] == "Expérimenter la navette du samedi ?"
    assert question["content"].startswith(
        "<p><strong>Expérimenter la navette du samedi ?</strong></p>"
    )
    assert question["url"] == question["id"]
    assert f'href="{question["id"]}"' in question["content"]
    assert "habitant·es inscrit·es" in question["content"]
    assert [option["name"] for option in question["oneOf"]] == [
        "Consentement",
        "Objection",
        "Abstention",
    ]
    assert all(option["type"] == "Note" for option in question["oneOf"])
    assert question["endTime"].endswith("Z") and "closed" not in question
    assert question["statusLine"].startswith("Décision · ouverte jusqu'au ")
    assert question["statusLine"].endswith(" · consentement")
    assert f"<p>{question['statusLine']}</p>" in question["content"]
    assert question["decides"] == f"{BASE}/proposals/{proposal_id}"
    assert (question["decisionMethod"], question["binding"], question["eligibility"]) == (
        "consent",
        True,
        "residents",
    )
    assert question["quorum"] == pytest.approx(0.1)
    assert question["externalTally"] == {"Consentement": 0, "Objection": 0, "Abstention": 0}
    assert question["to"] == [PUBLIC] and question["attributedTo"].endswith("/actors/territoire")
    assert (await node.get(f"/decisions/{'0' * 26}", headers=AP)).status == 404


def answer(actor: RemoteActorDoc, number: int, name: str, decision_uri: str) -> dict[str, Any]:
    """A poll answer as Mastodon sends it: a Create of a Note with the option's name."""
    territory = f"{BASE}/actors/territoire"
    return {
        "@context": AS,
        "id": f"{actor.uri}/answers/{number}/activity",
        "type": "Create",
        "actor": actor.uri,
        "to": [territory],
        "object": {
            "id": f"{actor.uri}/answers/{number}",
            "type": "Note",
            "attributedTo": actor.uri,
            "to": [territory],
            "name": name,
            "inReplyTo": decision_uri,
        },
    }


async def deliver(node: TestClient, actor: RemoteActorDoc, activity: dict[str, Any]) -> None:
    body, headers = signed_post(actor, f"{BASE}/inbox", activity)
    response = await node.post("/inbox", data=body, headers=headers)
    assert response.status == 202, await response.text()
    await node.app[inbox_worker_key].run_once()


async def test_remote_answers_only_reach_the_non_binding_tally(
    node: TestClient, remote: FakeRemote
) -> None:
    proposal_id = await proposal_in_deliberation(node)
    await as_person(node, "camille", "facilitator")
    decision_id = await open_by_form(node, proposal_id)
    uri = f"{BASE}/decisions/{decision_id}"
    await switch_to(node, "ana")
    assert (await vote(node, decision_id, "against")).status == 302

    alice, bob = remote.add_actor("alice"), remote.add_actor("bob")
    await deliver(node, alice, answer(alice, 1, "Contre", uri))
    await deliver(node, alice, answer(alice, 2, "Pour", uri))  # replaces her first answer
    await deliver(node, bob, answer(bob, 1, "pour", uri))
    async with node.app[sessions_key]() as session:
        answers = list(
            await session.execute(select(ExternalAnswer.actor_uri, ExternalAnswer.choice))
        )
    assert sorted(answers) == [(alice.uri, "for"), (bob.uri, "for")]
    assert await count(node, Vote) == 1  # never in the binding count

    updates = await outbox(node, "Update")
    assert updates[-1]["object"]["externalTally"] == {"Pour": 2, "Contre": 0, "Abstention": 0}
    assert all(o["replies"]["totalItems"] == 0 for o in updates[-1]["object"]["oneOf"])
    page = await (await node.get(f"/decisions/{decision_id}", headers=HTML)).text()
    assert "Réponses venues du fédivers (non contraignantes)" in page

    # a reply that names no option is a comment, kept as a post
    comment = answer(bob, 2, "Bonne idée", uri)
    comment["object"]["content"] = "<p>Bonne idée !</p>"
    await deliver(node, bob, comment)
    assert await count(node, Note, Note.uri == comment["object"]["id"]) == 1

    await close_due_decisions(node.app[runtime_key], now=utcnow() + timedelta(days=4))
    result = json.loads((await decision(node, decision_id)).result)
    assert result["counts"] == {"for": 0, "against": 1, "abstain": 0}
    assert result["external"] == {"for": 2}
    carol = remote.add_actor("carol")
    await deliver(node, carol, answer(carol, 1, "Pour", uri))
    assert await count(node, ExternalAnswer) == 2  # after closing: ignored


def test_every_decision_text_is_translated() -> None:
    from pathlib import Path

    literal = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")
    texts = {
        m.group(2)
        for path in Path(TEMPLATES).glob("*.html")
        for m in literal.finditer(path.read_text())
    }
    texts |= set(STATE_LABELS.values()) | set(METHOD_LABELS.values())
    assert texts and sorted(texts - set(english())) == []


async def test_pages_render_in_english(node: TestClient) -> None:
    proposal_id = await proposal_in_deliberation(node)
    password = await add_account(node, "camille", "facilitator")
    await log_in(node, "camille", password)
    page = await (await node.get("/decisions/new?lang=en", headers=HTML)).text()
    assert "Open a decision" in page and 'for="closes_at"' in page
    decision_id = await open_by_form(node, proposal_id)
    page = await (await node.get(f"/decisions/{decision_id}?lang=en", headers=HTML)).text()
    assert "Fediverse opinion — NON-BINDING" in page and "Majority vote" in page
    listing = await (await node.get("/decisions?lang=en", headers=HTML)).text()
    assert "Expérimenter la navette du samedi ?" in listing and "Open a decision" in listing
