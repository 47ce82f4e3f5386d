"""Experiments on one node: the facilitator's path from an adopted proposal to the published
evaluation, refusals for residents, field errors, the documents served, the SVG chart."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.convert.experiments import PAGE_LABELS
from node.domain.actors import ActorKind
from node.storage.models import (
    Account,
    Circle,
    CircleMember,
    Evaluation,
    Experiment,
    ExperimentIndicator,
    LocalActor,
    Note,
    OutboxEntry,
    Proposal,
    RemoteObject,
    StateChange,
)
from node.web.app import create_app
from node.web.charts import ReferenceLine, line_chart
from node.web.i18n import english
from node.web.keys import sessions_key
from protocols.keys import generate_actor_keys
from tests.conftest import initialise
from tests.testrig.people import HTML, HTTP_NODE, add_account, as_person, log_in, submit

AP = {"Accept": "application/activity+json"}
BASE = HTTP_NODE["base_url"]
TEMPLATES = Path(__file__).resolve().parents[2] / "node" / "web" / "templates" / "experiments"


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    config = make_config(node=HTTP_NODE)
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


async def make_circle(client: TestClient, slug: str = "mobilites") -> str:
    """A circle with its Group actor; returns its id."""
    keys = generate_actor_keys()
    async with client.app[sessions_key].begin() as session:
        actor = LocalActor(
            kind=ActorKind.CIRCLE.value,
            username=slug,
            display_name=f"Cercle {slug}",
            rsa_private_pem=keys.rsa_private_pem,
            ed25519_private_pem=keys.ed25519_private_pem,
        )
        session.add(actor)
        await session.flush()
        circle = Circle(actor_id=actor.id, slug=slug, name=f"Cercle {slug}")
        session.add(circle)
        await session.flush()
        return circle.id


async def make_proposal(client: TestClient, circle_id: str, state: str = "adopted") -> str:
    """A proposal of the circle, already in `state`; returns its id."""
    async with client.app[sessions_key].begin() as session:
        author = (await session.scalars(select(Account))).first()
        assert author is not None
        proposal = Proposal(
            uri=f"{BASE}/proposals/p{state}",
            circle_id=circle_id,
            author_id=author.id,
            title="Navette solidaire du samedi",
            text="Relier les hameaux à la gare.",
            theme="mobilite",
            state=state,
        )
        session.add(proposal)
        await session.flush()
        return proposal.id


async def outbox(client: TestClient, kind: str) -> list[dict[str, Any]]:
    """Activities of a type the node logged for delivery, oldest first."""
    async with client.app[sessions_key]() as session:
        rows = await session.scalars(
            select(OutboxEntry).where(OutboxEntry.type == kind).order_by(OutboxEntry.seq)
        )
        return [json.loads(row.body) for row in rows]


async def one(client: TestClient, model: Any, *where: Any) -> Any:
    async with client.app[sessions_key]() as session:
        return (await session.scalars(select(model).where(*where))).one()


NEW_EXPERIMENT = {
    "title": "Navette du samedi",
    "hypothesis": "Si une navette relie les hameaux à la gare, l'isolement diminue.",
    "starts_on": "2026-05-01",
    "ends_on": "2027-04-30",
    "indicator-0-name": "Personnes transportées",
    "indicator-0-unit": "personnes",
    "indicator-0-baseline": "0",
    "indicator-0-target": "40",
    "indicator-0-direction": "increase",
}


async def start_experiment(node: TestClient, circle: str, proposal: str) -> str:
    """Create the experiment through its form; returns its id."""
    page = f"/experiments/new?proposal={proposal}"
    response = await submit(
        node, page, "/experiments/new", proposal=proposal, circle=circle, **NEW_EXPERIMENT
    )
    assert response.status == 302, await response.text()
    return str(response.headers["Location"]).rsplit("/", 1)[1]


async def test_a_facilitator_takes_an_experiment_from_proposal_to_evaluation(
    node: TestClient,
) -> None:
    await as_person(node, "camille", "facilitator")
    circle = await make_circle(node)
    proposal = await make_proposal(node, circle)

    choices = await (await node.get("/experiments/new", headers=HTML)).text()
    assert f'href="/experiments/new?proposal={proposal}"' in choices
    form = await (await node.get(f"/experiments/new?proposal={proposal}", headers=HTML)).text()
    assert 'value="Navette solidaire du samedi"' in form and '<label for="hypothesis">' in form
    identifier = await start_experiment(node, circle, proposal)
    page = f"/experiments/{identifier}"

    experiment = await one(node, Experiment, Experiment.id == identifier)
    assert experiment.state == "proposed" and experiment.uri == f"{BASE}{page}"
    assert (await one(node, Proposal, Proposal.id == proposal)).state == "in_project"
    created = (await outbox(node, "Create"))[-1]["object"]
    assert created["type"] == "Article" and created["additionalType"] == "tc:Experiment"
    assert created["summary"] == "Expérimentation · proposée · 1 indicateur"

    # indicators, measurements, milestones, progress
    steps: list[tuple[str, dict[str, str]]] = [
        (
            f"{page}/indicators",
            {
                "name": "Isolement ressenti",
                "unit": "%",
                "baseline": "31",
                "target": "20",
                "direction": "decrease",
            },
        ),
        (f"{page}/progress", {"progress": "40"}),
        (f"{page}/milestones", {"title": "Recruter les bénévoles", "due_on": "2026-06-01"}),
    ]
    for action, fields in steps:
        response = await submit(node, page, action, **fields)
        assert response.status == 302, (action, await response.text())
    async with node.app[sessions_key]() as session:
        indicators = list(
            await session.scalars(
                select(ExperimentIndicator).order_by(ExperimentIndicator.position)
            )
        )
    assert [i.name for i in indicators] == ["Personnes transportées", "Isolement ressenti"]
    for day, value in (("2026-05-15", "12"), ("2026-06-15", "25,5")):
        response = await submit(
            node,
            page,
            f"{page}/measurements",
            indicator=indicators[0].id,
            value=value,
            measured_on=day,
            note="comptage",
        )
        assert response.status == 302
    html = await (await node.get(page, headers=HTML)).text()
    milestone = re.search(r'/milestones/([0-9a-z]{26})/done"', html)
    assert milestone
    assert (await submit(node, page, f"{page}/milestones/{milestone.group(1)}/done")).status == 302

    # the lifecycle, each step in the history and federated as Update
    for wanted in ("running", "paused", "running", "evaluating"):
        response = await submit(node, page, f"{page}/state", to=wanted, note=f"vers {wanted}")
        assert response.status == 302, await response.text()
    update = (await outbox(node, "Update"))[-1]["object"]
    assert update["lifecycleState"] == "evaluating" and update["progress"] == 40
    assert update["summary"] == "Expérimentation · en évaluation · 2 indicateurs"
    latest = update["indicators"][0]["latest"]
    assert latest == {
        "type": "Observation",
        "value": 25.5,
        "observationDate": "2026-06-15",
        "unitText": "personnes",
    }

    response = await submit(
        node,
        page,
        f"{page}/evaluation",
        outcome="success",
        recommendation="generalise",
        lessons="Les bénévoles tiennent.\nLe samedi matin suffit.",
    )
    assert response.status == 302, await response.text()
    experiment = await one(node, Experiment, Experiment.id == identifier)
    evaluation = await one(node, Evaluation, Evaluation.experiment_id == identifier)
    assert experiment.state == "concluded" and evaluation.outcome == "success"
    assert (await one(node, Proposal, Proposal.id == proposal)).state == "evaluated"
    async with node.app[sessions_key]() as session:
        history = list(
            await session.scalars(
                select(StateChange.to_state)
                .where(StateChange.object_uri == experiment.uri)
                .order_by(StateChange.at, StateChange.id)
            )
        )
        notes = list(await session.scalars(select(Note.content).where(Note.local)))
    assert history == ["proposed", "running", "paused", "running", "evaluating", "concluded"]
    creates = [a["object"] for a in await outbox(node, "Create")]
    published = next(o for o in creates if o.get("additionalType") == "tc:Evaluation")
    assert published["evaluates"] == experiment.uri and published["outcome"] == "success"
    assert published["lessons"] == ["Les bénévoles tiennent.", "Le samedi matin suffit."]
    assert published["summary"] == "Évaluation · succès · recommandation : généraliser"
    assert any("Expérimentation réussie : Navette du samedi" in n for n in notes)
    assert any(evaluation.uri in n for n in notes)

    html = await (await node.get(page, headers=HTML)).text()
    assert html.count('<svg class="chart"') == 2 and "Cible atteinte" not in html
    assert "Cible pas encore atteinte" in html and "25.5 personnes" in html
    assert "en pause → en cours" in html and "vers paused" in html
    assert f'href="/evaluations/{evaluation.id}"' in html
    assert "Publier l'évaluation" not in html  # concluded: no more evaluation form
    evaluation_page = await (await node.get(f"/evaluations/{evaluation.id}", headers=HTML)).text()
    assert "Le samedi matin suffit." in evaluation_page and "succès" in evaluation_page
    english_page = await (await node.get(f"{page}?lang=en", headers=HTML)).text()
    assert "Lifecycle" in english_page and "concluded" in english_page


async def test_residents_cannot_run_experiments_but_circle_facilitators_can(
    node: TestClient,
) -> None:
    await add_account(node, "camille", "facilitator")
    circle = await make_circle(node)
    proposal = await make_proposal(node, circle)
    await log_in(node, "camille", "camille-password-1")
    identifier = await start_experiment(node, circle, proposal)
    page = f"/experiments/{identifier}"
    await submit(node, "/", "/logout")

    await as_person(node, "dominique")  # a resident
    response = await node.get("/experiments/new", headers=HTML)
    assert response.status == 403
    assert "réservée aux facilitateurs et facilitatrices du cercle" in await response.text()
    html = await (await node.get(page, headers=HTML)).text()
    assert "Enregistrer la mesure" not in html and "Navette du samedi" in html
    for action, fields in (
        (f"{page}/measurements", {"indicator": "x", "value": "1", "measured_on": "2026-05-02"}),
        (f"{page}/state", {"to": "running"}),
        ("/experiments/new", {"proposal": proposal, "circle": circle, **NEW_EXPERIMENT}),
        ("/experiments/adopt", {"url": "https://ailleurs.example/experiments/1"}),
    ):
        response = await submit(node, page, action, **fields)
        assert response.status == 403, action
        assert "réservée aux facilitateurs et facilitatrices du cercle" in await response.text()
    assert (await one(node, Experiment, Experiment.id == identifier)).state == "proposed"

    # the same resident, made facilitator of the circle, may run it
    async with node.app[sessions_key].begin() as session:
        account = (
            await session.scalars(select(Account).where(Account.username == "dominique"))
        ).one()
        session.add(CircleMember(circle_id=circle, account_id=account.id, role="facilitator"))
    response = await submit(node, page, f"{page}/state", to="running")
    assert response.status == 302
    assert (await one(node, Experiment, Experiment.id == identifier)).state == "running"

    await submit(node, "/", "/logout")
    response = await node.get("/experiments/new", headers=HTML, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")


async def test_bad_input_is_refused_field_by_field(node: TestClient) -> None:
    await as_person(node, "camille", "facilitator")
    circle = await make_circle(node)
    proposal = await make_proposal(node, circle)
    fields = {
        **NEW_EXPERIMENT,
        "ends_on": "2026-01-01",
        "indicator-0-baseline": "beaucoup",
        "indicator-1-name": "Sans unité",
    }
    response = await submit(
        node, "/experiments/new", "/experiments/new", proposal=proposal, circle=circle, **fields
    )
    html = await response.text()
    assert response.status == 400
    assert re.search(
        r'id="ends_on"[^>]*aria-invalid="true"[^>]*>\s*<p class="error" role="alert"'
        r' id="ends_on-error">La fin doit suivre le début.</p>',
        html,
    )
    assert 'id="indicator-0-baseline-error">Entrez un nombre, par exemple 12,5.' in html
    assert 'id="indicator-1-unit-error">Ce champ est obligatoire.' in html
    assert 'value="Navette du samedi"' in html  # what was typed is kept

    # a proposal that is not adopted cannot become an experiment
    draft = await make_proposal(node, circle, state="draft")
    response = await submit(
        node, "/", "/experiments/new", proposal=draft, circle=circle, **NEW_EXPERIMENT
    )
    assert response.status == 400 and "Seule une proposition adoptée" in await response.text()

    identifier = await start_experiment(node, circle, proposal)
    page = f"/experiments/{identifier}"
    indicator = (await one(node, ExperimentIndicator)).id
    for action, data, reason in (
        (
            f"{page}/measurements",
            {"indicator": indicator, "value": "12", "measured_on": "15/05/2026"},
            f'id="i-{indicator}-day-error">Entrez une date au format AAAA-MM-JJ.',
        ),
        (
            f"{page}/measurements",
            {"indicator": indicator, "value": "", "measured_on": "2026-05-15"},
            f'id="i-{indicator}-value-error">Ce champ est obligatoire.',
        ),
        (f"{page}/progress", {"progress": "150"}, 'id="progress-error">Ce nombre est trop grand.'),
        (f"{page}/state", {"to": "paused"}, "Ce changement d&#39;état n&#39;est pas possible"),
        (f"{page}/state", {"to": "concluded"}, "Choisissez une des valeurs proposées."),
        (f"{page}/evaluation", {"outcome": "success"}, "Une expérimentation s&#39;évalue quand"),
        (
            f"{page}/indicators",
            {"name": "X", "unit": "u", "baseline": "1", "target": "2", "direction": "up"},
            'id="new-indicator-direction-error">Choisissez une des valeurs proposées.',
        ),
    ):
        response = await submit(node, page, action, **data)
        assert response.status == 400, action
        assert reason in await response.text(), (action, reason)
    assert (await one(node, Experiment, Experiment.id == identifier)).progress == 0
    assert (await node.get("/experiments/0123456789abcdefghjkmnpqrs", headers=HTML)).status == 404


async def test_documents_served_at_the_experiment_urls(node: TestClient) -> None:
    await as_person(node, "camille", "facilitator")
    circle = await make_circle(node)
    identifier = await start_experiment(node, circle, await make_proposal(node, circle))
    response = await node.get(f"/experiments/{identifier}", headers=AP)
    assert response.headers["Content-Type"] == "application/activity+json"
    document = await response.json(content_type=None)
    uri = f"{BASE}/experiments/{identifier}"
    assert document["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert isinstance(document["@context"][-1], dict)  # our terms, inline
    assert {k: document[k] for k in ("id", "type", "additionalType", "url", "name")} == {
        "id": uri,
        "type": "Article",
        "additionalType": "tc:Experiment",
        "url": uri,
        "name": "Navette du samedi",
    }
    assert document["nameMap"] == {"fr": "Navette du samedi"}
    assert document["summaryMap"] == {"fr": "Expérimentation · proposée · 1 indicateur"}
    assert document["hypothesis"] == {"fr": NEW_EXPERIMENT["hypothesis"]}
    assert document["content"].startswith("<p><strong>Navette du samedi</strong></p>")
    assert "<p>Si une navette" in document["content"]
    assert document["startTime"] == "2026-05-01T00:00:00Z"
    assert document["endTime"] == "2027-04-30T00:00:00Z"
    assert document["lifecycleState"] == "proposed" and document["progress"] == 0
    assert document["originProposals"] == [f"{BASE}/proposals/padopted"]
    assert document["replications"] == f"{uri}/replications"
    assert "wasDerivedFrom" not in document
    assert document["indicators"] == [
        {
            "type": "IndicatorTarget",
            "name": "Personnes transportées",
            "baseline": {
                "type": "Observation",
                "value": 0.0,
                "unitText": "personnes",
                "observationDate": "2026-05-01",
            },
            "targetValue": {"type": "QuantitativeValue", "value": 40.0, "unitText": "personnes"},
            "direction": "increase",
        }
    ]
    collection = await (await node.get(f"/experiments/{identifier}/replications", headers=AP)).json(
        content_type=None
    )
    assert collection["type"] == "OrderedCollection" and collection["totalItems"] == 0
    response = await node.get(
        f"/experiments/{identifier}/replications", headers=HTML, allow_redirects=False
    )
    assert response.headers["Location"] == f"/experiments/{identifier}#replications"


async def test_the_list_shows_ours_and_those_of_followed_territories(node: TestClient) -> None:
    await as_person(node, "camille", "facilitator")
    circle = await make_circle(node)
    await start_experiment(node, circle, await make_proposal(node, circle))
    async with node.app[sessions_key].begin() as session:
        session.add(
            RemoteObject(
                uri="https://ailleurs.example/experiments/9",
                kind="tc:Experiment",
                actor_uri="https://ailleurs.example/actors/territoire",
                name="Compost partagé",
                summary="Expérimentation · en cours · 2 indicateurs",
                raw="{}",
            )
        )
    html = await (await node.get("/experiments", headers=HTML)).text()
    local, remote = html.split("Des territoires suivis")
    assert "Navette du samedi" in local and "Compost partagé" in remote
    assert "/experiments/adopt?url=https%3A//ailleurs.example/experiments/9" in remote
    adopt = await (
        await node.get("/experiments/adopt?url=https://ailleurs.example/x", headers=HTML)
    ).text()
    assert 'value="https://ailleurs.example/x"' in adopt and '<label for="adaptations">' in adopt


def test_the_chart_is_an_accessible_svg_without_script() -> None:
    svg = str(
        line_chart(
            [(date(2026, 6, 1), 25.5), (date(2026, 5, 1), 12.0)],
            title="Personnes <transportées>",
            description="2 mesures ; cible : 40",
            unit="personnes",
            references=[ReferenceLine("Départ", 0), ReferenceLine("Cible", 40, "target")],
            chart_id="c1",
        )
    )
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Personnes &lt;transportées&gt;</title>' in svg
    assert '<desc id="c1-desc">2 mesures ; cible : 40</desc>' in svg
    assert svg.count("<circle") == 2 and svg.count("<polyline") == 1
    assert "Départ : 0" in svg and "Cible : 40" in svg and ">personnes</text>" in svg
    assert "2026-05-01" in svg and "2026-06-01" in svg  # the time axis, oldest first
    points = re.search(r'points="([^"]+)"', svg)
    assert points and float(points.group(1).split()[0].split(",")[0]) < float(
        points.group(1).split()[1].split(",")[0]
    )
    assert "<script" not in svg and "href" not in svg
    empty = str(line_chart([], title="t", description="d", empty_text="Aucune mesure"))
    assert "Aucune mesure" in empty and "<polyline" not in empty


def test_every_experiment_text_has_its_english_translation() -> None:
    literal = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")
    texts = {m.group(2) for p in TEMPLATES.glob("*.html") for m in literal.finditer(p.read_text())}
    for labels in PAGE_LABELS.values():
        texts |= set(labels.values())
    assert texts and sorted(texts - set(english())) == []
