"""What a neighbouring territory sees, on two real in-process nodes talking HTTP on loopback:
territory B follows territory A; A's needs, proposals, offers, experiments and decisions reach
B and show on B's pages (home, decisions, experiments); a resident of B answers A's open
decision from B, and A counts the answer in its separate, non-binding tally."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from node.convert.received_decisions import MAX_OPTIONS, question_from_as
from node.services.federation.following import follow
from node.services.participation.decisions import close_due_decisions
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Decision,
    ExperimentIndicator,
    ExternalAnswer,
    OutboxEntry,
    Proposal,
    RemoteObject,
    RemoteVote,
    Vote,
)
from node.web.keys import runtime_key, sessions_key
from tests.node import test_replication
from tests.node.test_decisions import open_by_form, proposal_in_deliberation, switch_to, vote
from tests.node.test_experiments import (
    NEW_EXPERIMENT,
    make_circle,
    make_proposal,
    start_experiment,
)
from tests.node.test_needs import new_need
from tests.node.test_offers import LEND, publish_ok
from tests.node.test_proposals import drafted
from tests.node.test_replication import Territory, conclude, pump
from tests.testrig.people import HTML, submit

#: the two-node fixture of the replication tests: a new node on its own loopback port
territory = test_replication.territory


async def neighbours(territory: Any) -> tuple[Territory, Territory]:
    """Territories A and B, B following A (accepted)."""
    a, b = await territory("Saint-A"), await territory("Saint-B")
    await follow(b.client.app[runtime_key], a.actor)
    await pump(a, b)
    return a, b


async def page(node: Territory, path: str) -> str:
    response = await node.client.get(path, headers=HTML)
    assert response.status == 200, await response.text()
    return await response.text()


def section(html: str, heading_id: str) -> str:
    """The <section> of a page whose heading has this id."""
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def article(html: str, title: str) -> str:
    """The first <article> of a page that names `title`."""
    return next(part for part in html.split("<article")[1:] if title in part)


async def test_what_a_followed_territory_publishes_shows_on_the_home_page(
    territory: Any,
) -> None:
    a, b = await neighbours(territory)
    circle = await make_circle(a.client)
    need = await new_need(a.client, "Pas de bus le samedi")
    await drafted(a.client, circle, need, title="Minibus des hameaux")
    await publish_ok(a.client, **LEND)
    await start_experiment(a.client, circle, await make_proposal(a.client, circle))
    await pump(a, b)

    network = section(await page(b, "/"), "network")
    assert "Rien de neuf chez les territoires suivis" not in network
    for title in (
        "Pas de bus le samedi",
        "Minibus des hameaux",
        "Prêt d&#39;un broyeur à végétaux",
        "Navette du samedi",
    ):
        assert title in network, title
    assert f'href="{a.base}/' in network and "Saint-A" in network


async def test_a_resident_of_b_answers_a_decision_of_a_into_its_separate_tally(
    territory: Any,
) -> None:
    a, b = await neighbours(territory)
    decision_id = await open_by_form(a.client, await proposal_in_deliberation(a.client))
    question = f"{a.base}/decisions/{decision_id}"
    await pump(a, b)

    # B's decisions page lists A's open decision with its options and closing time
    followed = section(await page(b, "/decisions"), "followed")
    assert "Décisions des territoires suivis" in followed
    opened = followed.split('id="followed-closed"')[0]
    assert "Expérimenter la navette du samedi ?" in opened and "Saint-A" in opened
    assert "Pour · Contre · Abstention" in opened and "clôture le" in opened
    assert f'href="{question}"' in opened
    found = re.search(r'href="(/decisions/remote/[0-9a-z]{26})"', opened)
    assert found
    remote_page = found.group(1)

    # a resident of B answers it from B
    await switch_to(b.client, "ana")
    form = await page(b, remote_page)
    assert 'name="choice" value="Pour"' in form and f'href="{question}"' in form
    response = await submit(b.client, remote_page, f"{remote_page}/answer", choice="Pour")
    assert response.status == 302, await response.text()
    assert "Vous avez répondu : <strong>Pour</strong>" in await page(b, remote_page)
    answers = await b.rows(RemoteVote)
    assert [(v.question_uri, v.choice) for v in answers] == [(question, "Pour")]
    sent = json.loads((await b.rows(OutboxEntry, OutboxEntry.type == "Create"))[-1].body)
    assert sent["actor"] == f"{b.base}/actors/ana" and sent["to"] == [a.actor]
    assert sent["object"]["name"] == "Pour" and sent["object"]["inReplyTo"] == question
    assert "content" not in sent["object"] and "#votes/" in sent["object"]["id"]
    await pump(a, b)

    # A counts it apart, from the resident's own actor, never in the binding votes
    counted = await a.rows(ExternalAnswer)
    assert [(x.actor_uri, x.choice) for x in counted] == [(f"{b.base}/actors/ana", "for")]
    assert await a.rows(Vote) == []
    tally = await page(a, f"/decisions/{decision_id}")
    assert "Réponses venues du fédivers (non contraignantes)" in tally
    # A's Update of the Question, with its new non-binding tally, reached B
    assert "Réponses venues d&#39;ailleurs (non contraignantes) : 1." in await page(b, remote_page)

    # A's resident votes, A closes the decision: B shows the result and the answer given
    assert (await vote(a.client, decision_id, "for")).status == 302
    await close_due_decisions(a.client.app[runtime_key], now=utcnow() + timedelta(days=4))
    result = json.loads((await a.rows(Decision))[0].result)
    assert result["counts"]["for"] == 1 and result["external"] == {"for": 1}
    await pump(a, b)
    closed = section(await page(b, "/decisions"), "followed").split('id="followed-closed"')[1]
    assert "Expérimenter la navette du samedi ?" in closed and "Proposition adoptée." in closed
    assert '<th scope="row">Pour</th><td>1</td>' in closed
    assert "Vous avez répondu : <strong>Pour</strong>" in closed
    response = await submit(b.client, remote_page, f"{remote_page}/answer", choice="Contre")
    assert response.status == 400 and "Le vote est clos." in await response.text()


async def test_answers_to_a_followed_decision_are_checked(territory: Any) -> None:
    a, b = await neighbours(territory)
    await open_by_form(a.client, await proposal_in_deliberation(a.client))
    await pump(a, b)
    listing = await page(b, "/decisions")
    remote_page = re.findall(r'href="(/decisions/remote/[0-9a-z]{26})"', listing)[0]

    response = await submit(b.client, remote_page, f"{remote_page}/answer", choice="Peut-être")
    assert response.status == 400
    assert 'id="choice-error" class="error" role="alert">Choisissez une des valeurs' in (
        await response.text()
    )
    b.client.session.cookie_jar.clear()
    anonymous = await page(b, remote_page)
    assert "Se connecter pour répondre" in anonymous and 'name="choice"' not in anonymous
    response = await submit(b.client, "/login", f"{remote_page}/answer", choice="Pour")
    assert response.status == 403 and "Seul·es les habitant·es connecté·es" in (
        await response.text()
    )
    assert (await b.client.get(f"/decisions/remote/{'0' * 26}", headers=HTML)).status == 404
    assert await b.rows(RemoteVote) == []
    english = await page(b, "/decisions?lang=en")
    assert "Decisions of followed territories" in english


async def second_experiment(node: Territory, circle: str, title: str) -> str:
    """Another experiment of the circle, from another adopted proposal; returns its id."""
    async with node.client.app[sessions_key].begin() as session:
        author = (await session.scalars(select(Account))).first()
        assert author is not None
        proposal = Proposal(
            uri=f"{node.base}/proposals/compost",
            circle_id=circle,
            author_id=author.id,
            title=title,
            text="Un composteur par quartier.",
            state="adopted",
        )
        session.add(proposal)
    page_path = f"/experiments/new?proposal={proposal.id}"
    fields = {**NEW_EXPERIMENT, "title": title}
    response = await submit(
        node.client, page_path, "/experiments/new", proposal=proposal.id, circle=circle, **fields
    )
    assert response.status == 302, await response.text()
    return str(response.headers["Location"]).rsplit("/", 1)[1]


async def measure(node: Territory, experiment_id: str, value: str) -> None:
    """Record the value of the experiment's first indicator."""
    indicator = (
        await node.rows(ExperimentIndicator, ExperimentIndicator.experiment_id == experiment_id)
    )[0]
    page_path = f"/experiments/{experiment_id}"
    response = await submit(
        node.client,
        page_path,
        f"{page_path}/measurements",
        indicator=indicator.id,
        value=value,
        measured_on="2026-06-01",
    )
    assert response.status == 302, await response.text()


async def test_a_successful_experiment_of_a_shows_its_outcome_on_b_and_filters(
    territory: Any,
) -> None:
    a, b = await neighbours(territory)
    circle = await make_circle(a.client)
    shuttle = await start_experiment(a.client, circle, await make_proposal(a.client, circle))
    compost = await second_experiment(a, circle, "Compost partagé")
    await measure(a, shuttle, "35")
    await conclude(a, shuttle, "success")
    await conclude(a, compost, "partial")
    await pump(a, b)

    remote = (await page(b, "/experiments")).split('id="remote"')[1]
    card = article(remote, "Navette du samedi")
    assert "Expérimentation · terminée · 1 indicateur" in card
    assert "Résultat : succès</strong> · recommandation : adapter" in card
    assert 'Personnes transportées : 0 <span aria-hidden="true">→</span>' in card
    assert "35 personnes (objectif 40 · pas atteint)" in card
    assert "/experiments/adopt?url=" in card
    assert "Résultat : partiel" in article(remote, "Compost partagé")

    # the success filter keeps A's success and drops its partial one
    listing = await page(b, "/experiments")
    assert 'href="/experiments?outcome=success"' in listing and '<select id="outcome"' in listing
    successes = (await page(b, "/experiments?outcome=success")).split('id="remote"')[1]
    assert "Navette du samedi" in successes and "Compost partagé" not in successes
    partial = (await page(b, "/experiments?outcome=partial")).split('id="remote"')[1]
    assert "Compost partagé" in partial and "Navette du samedi" not in partial
    refused = await b.client.get("/experiments?outcome=magnifique", headers=HTML)
    assert refused.status == 400 and "Choisissez un des résultats" in await refused.text()

    # the adopt page shows the same before the facilitator adopts
    original = f"{a.base}/experiments/{shuttle}"
    adopt = await page(b, f"/experiments/adopt?url={original}")
    assert "Résultat : succès</strong> · recommandation : adapter" in adopt
    assert "35 personnes (objectif 40 · pas atteint)" in adopt

    # and in English
    assert "Only the successful experiments" in await page(b, "/experiments?lang=en")
    english = await page(b, "/experiments?outcome=success&lang=en")
    assert "All experiments" in english and "Result: success</strong>" in english
    assert "recommendation: adapt" in english and "(target 40 · not reached)" in english


async def test_a_hostile_question_is_shown_as_text(territory: Any) -> None:
    b = await territory("Saint-B")
    uri = "http://127.0.0.1:9/decisions/1"
    document = {
        "id": uri,
        "type": "Question",
        "additionalType": "tc:Decision",
        "name": "Un vote",
        "url": "javascript:alert(1)",
        "oneOf": [{"type": "Note", "name": f"<b>Option</b> {n}"} for n in range(500)]
        + [{"name": 3}, "x", {"type": "Note", "name": "<b>Option</b> 1"}],
        "endTime": "bientôt",
        "outcome": "<script>",
        "externalTally": {"Oui": "beaucoup", "Non": -4},
    }
    async with b.client.app[sessions_key].begin() as session:
        session.add(
            RemoteObject(
                uri=uri,
                kind="tc:Decision",
                actor_uri="http://127.0.0.1:9/actors/territoire",
                name="Un vote",
                raw=json.dumps(document),
            )
        )
    row = (await b.rows(RemoteObject))[0]
    question = question_from_as(document)
    assert len(question.options) == MAX_OPTIONS and question.options[0] == "Option 0"
    assert question.closes_at is None and question.outcome == "" and question.external_total == 0
    html = await page(b, f"/decisions/remote/{row.id}")
    assert "javascript:" not in html and "<b>Option" not in html
    assert html.count('name="choice"') == MAX_OPTIONS
