"""The open data page: every public dataset listed with its licence, each downloadable as CSV
(documented columns, values that round-trip, formulas neutralised) and as JSON-LD (expands
offline, carries the licence), the map and indicator datasets served by their own exporters,
and nothing private (password hashes, voters, vote comments, names) in any of them."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from markupsafe import escape
from sqlalchemy import select

from node.domain.actors import ActorKind
from node.domain.participation import DecisionMethod
from node.services.knowledge.indicators.exports import indicators_csv, observations_csv
from node.services.knowledge.indicators.imports import import_indicators, import_observations
from node.services.knowledge.map.exports import actors_csv, flows_csv, places_csv
from node.services.knowledge.map.imports import Upload, import_mesh
from node.services.open_data.catalogue import DATASETS
from node.services.participation.decisions import (
    DecisionDraft,
    cast_vote,
    close_due_decisions,
    open_decision,
)
from node.services.participation.evaluations import EvaluationInput, evaluate
from node.services.participation.experiments import (
    ExperimentInput,
    IndicatorInput,
    change_state,
    create_experiment,
    record_measurement,
)
from node.services.participation.needs import change_support, submit_need
from node.services.participation.offers import OfferDraft, change_offer_state, publish_offer
from node.services.participation.proposals import draft_proposal, move_proposal, propose_amendment
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Circle,
    ExperimentIndicator,
    ExternalAnswer,
    LocalActor,
    Need,
    Proposal,
)
from node.web.app import create_app
from node.web.i18n import english
from node.web.keys import runtime_key, sessions_key
from protocols.jsonld.loader import expand
from protocols.keys import generate_actor_keys
from tests.conftest import initialise
from tests.testrig.people import HTML, HTTP_NODE, add_account

BASE = HTTP_NODE["base_url"]
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "territory"
AS = "https://www.w3.org/ns/activitystreams#"
LICENSE = "http://purl.org/dc/terms/license"
FORMULA_TITLE = '=HYPERLINK("https://evil.example","cliquez")'


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    config = make_config(node=HTTP_NODE)
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


async def account(node: TestClient, username: str, role: str = "resident") -> Account:
    await add_account(node, username, role)
    async with node.app[sessions_key]() as session:
        return (await session.scalars(select(Account).where(Account.username == username))).one()


async def make_circle(node: TestClient, slug: str = "mobilites") -> str:
    keys = generate_actor_keys()
    async with node.app[sessions_key].begin() as session:
        actor = LocalActor(
            kind=ActorKind.CIRCLE.value,
            username=slug,
            display_name="Cercle Mobilités",
            rsa_private_pem=keys.rsa_private_pem,
            ed25519_private_pem=keys.ed25519_private_pem,
        )
        session.add(actor)
        await session.flush()
        circle = Circle(actor_id=actor.id, slug=slug, name="Cercle Mobilités")
        session.add(circle)
        await session.flush()
        return circle.id


@dataclass
class Chain:
    """What the participation chain created, to find it again in the datasets."""

    formula_need: Need
    need: Need
    proposal: Proposal
    decision_id: str
    experiment_id: str
    indicator_id: str
    circle_id: str


async def fill_participation(node: TestClient) -> Chain:
    """Needs, a proposal with an amendment, a closed decision with binding votes and a remote
    answer, an experiment with a measurement and its evaluation, two offers: all through the
    services, as residents and facilitators do it."""
    runtime = node.app[runtime_key]
    alice = await account(node, "alice", "facilitator")
    bob = await account(node, "bob")
    circle = await make_circle(node)
    formula = await submit_need(
        runtime, bob, title=FORMULA_TITLE, text="Un titre piégé.", theme="other"
    )
    need = await submit_need(
        runtime,
        bob,
        title="Navette du samedi",
        text='Relier les hameaux à la gare,\nle samedi "matin".',
        theme="mobility",
        place="Gare",
    )
    await change_support(runtime, alice, need.id, True)
    await change_support(runtime, bob, need.id, True)
    proposal = await draft_proposal(
        runtime,
        alice,
        circle_id=circle,
        title="Navette solidaire",
        summary="Une navette bénévole.",
        text="Deux allers-retours le samedi.",
        theme="mobility",
        need_ids=[need.id],
    )
    await propose_amendment(
        runtime, bob, proposal.id, text="Trois allers-retours.", rationale="Plus de monde."
    )
    await move_proposal(runtime, alice, proposal.id, "in_deliberation", "")
    decision = await open_decision(
        runtime,
        alice,
        DecisionDraft(
            proposal_id=proposal.id,
            question="Lancer la navette ?",
            method=DecisionMethod.MAJORITY,
            opens_at=None,
            closes_at=utcnow() + timedelta(hours=1),
            quorum=0.1,
        ),
    )
    await cast_vote(runtime, alice, decision.id, "for")
    await cast_vote(runtime, bob, decision.id, "for", comment="commentaire-secret-de-bob")
    async with node.app[sessions_key].begin() as session:
        session.add(
            ExternalAnswer(
                decision_id=decision.id,
                actor_uri="https://mastodon.example/users/zed",
                activity_uri="https://mastodon.example/users/zed/statuses/1",
                choice="against",
            )
        )
    await close_due_decisions(runtime, now=utcnow() + timedelta(hours=2))
    indicator = IndicatorInput(
        name="Personnes transportées", unit="personnes", baseline=0, target=40, direction="increase"
    )
    experiment = await create_experiment(
        runtime,
        alice,
        proposal.id,
        ExperimentInput(
            title="Navette du samedi",
            hypothesis="Si une navette relie les hameaux, l'isolement diminue.",
            starts_on=date(2026, 5, 1),
            ends_on=date(2027, 4, 30),
            circle_id=circle,
            indicators=(indicator,),
        ),
    )
    async with node.app[sessions_key]() as session:
        indicator_id = (
            await session.scalars(
                select(ExperimentIndicator.id).where(
                    ExperimentIndicator.experiment_id == experiment.id
                )
            )
        ).one()
    await record_measurement(
        runtime, alice, experiment.id, indicator_id, 12.5, date(2026, 5, 2), "@premier samedi"
    )
    await change_state(runtime, alice, experiment.id, "running")
    await change_state(runtime, alice, experiment.id, "evaluating")
    await evaluate(
        runtime,
        alice,
        experiment.id,
        EvaluationInput(outcome="success", lessons="Bénévoles fidèles.", recommendation="adapt"),
    )
    lend = OfferDraft(
        purpose="offer",
        kind="lend",
        title="Broyeur à végétaux",
        text="Le week-end.",
        available_from=date(2026, 4, 1),
        available_until=date(2026, 10, 31),
        place="Atelier du Moulin",
        quantity=None,
        minimum_quantity=None,
        unit="",
        addressed_to=(),
    )
    await publish_offer(runtime, bob, lend)
    closed = await publish_offer(runtime, bob, replace(lend, title="Vélo"))
    await change_offer_state(runtime, bob, closed.id, "closed")
    return Chain(formula, need, proposal, decision.id, experiment.id, indicator_id, circle)


async def import_sample_territory(node: TestClient) -> None:
    """The sample commune of tests/data/territory, through the map's and dashboard's imports."""
    sessions, config = node.app[sessions_key], node.app[runtime_key].config
    keeper = await account(node, "carto", "facilitator")
    uploads = [
        Upload(role, name, (SAMPLE / name).read_bytes())
        for role, name in (
            ("places", "places.csv"),
            ("geojson", "places.geojson"),
            ("actors", "actors.csv"),
            ("flows", "flows.csv"),
        )
    ]
    report = await import_mesh(sessions, config, keeper, uploads)
    assert report.stored, report.rejections
    definitions = (SAMPLE / "indicators.csv").read_bytes()
    assert (await import_indicators(sessions, config, keeper, definitions)).ok
    values = (SAMPLE / "observations.csv").read_bytes()
    assert (await import_observations(sessions, config, keeper, values, date.today())).ok


async def csv_of(node: TestClient, slug: str) -> tuple[list[str], list[dict[str, str]]]:
    """A dataset's CSV: its header and its rows, as the csv module reads them."""
    response = await node.get(f"/open-data/{slug}.csv")
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="territoire-{slug}.csv"'
    text = (await response.read()).decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


async def jsonld_of(node: TestClient, slug: str) -> dict[str, Any]:
    response = await node.get(f"/open-data/{slug}.jsonld")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document: dict[str, Any] = json.loads(await response.read())
    return document


def shown(text: str) -> str:
    """A text as the pages write it (HTML-escaped by Jinja)."""
    return str(escape(text))


def by(rows: list[dict[str, str]], column: str, value: str) -> dict[str, str]:
    found = [row for row in rows if row[column] == value]
    assert len(found) == 1, (column, value, rows)
    return found[0]


async def test_the_page_lists_every_dataset_with_its_licence_and_downloads(
    node: TestClient,
) -> None:
    await fill_participation(node)
    page = await (await node.get("/open-data", headers=HTML)).text()
    assert page.count("<h1>") == 1
    assert 'href="https://opendatacommons.org/licenses/odbl/1-0/" rel="license">ODbL-1.0' in page
    for dataset in DATASETS:
        assert f'href="/open-data/{dataset.slug}.csv"' in page
        assert f'href="/open-data/{dataset.slug}.jsonld"' in page
        assert f'id="dataset-{dataset.slug}"><a href="/open-data/{dataset.slug}">' in page
        assert shown(dataset.title) in page and shown(dataset.description) in page
    sections = re.findall(r'<section class="dataset".*?</section>', page, re.S)
    assert len(sections) == len(DATASETS)
    assert all("ODbL-1.0</a>" in section for section in sections)
    needs = next(s for s in sections if 'id="dataset-needs"' in s)
    assert "<dt>Enregistrements</dt><dd>2</dd>" in needs
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\d">', needs)

    english = await (await node.get("/open-data?lang=en", headers=HTML)).text()
    assert "Decisions and results" in english and "Datasets" in english
    assert "Needs expressed by residents" in english

    catalogue = await node.get("/open-data.jsonld")
    assert catalogue.headers["Content-Type"] == "application/ld+json"
    document = json.loads(await catalogue.read())
    assert [item["id"] for item in document["items"]] == [
        f"{BASE}/open-data/{dataset.slug}" for dataset in DATASETS
    ]
    downloads = {d["id"] for item in document["items"] for d in item["dcat:distribution"]}
    assert f"{BASE}/open-data/needs.csv" in downloads
    assert f"{BASE}/open-data/needs.jsonld" in downloads
    expanded = expand(document)
    assert expanded[0][LICENSE][0]["@id"] == "https://opendatacommons.org/licenses/odbl/1-0/"


def test_titles_descriptions_and_our_columns_are_translated() -> None:
    catalogue = english()
    texts = [text for dataset in DATASETS for text in (dataset.title, dataset.description)]
    texts += [
        column.description
        for dataset in DATASETS
        if dataset.slug not in ("places", "map-actors", "flows")  # the map's own columns
        for column in dataset.columns
    ]
    assert [text for text in texts if text not in catalogue] == []


async def test_the_licence_follows_the_configuration(aiohttp_client: Any, make_config: Any) -> None:
    licence = {
        "licence": "CC-BY-4.0",
        "licence_url": "https://creativecommons.org/licenses/by/4.0/",
    }
    config = make_config(node=HTTP_NODE, open_data=licence)
    await initialise(config)
    node = await aiohttp_client(create_app(config, workers=False))
    page = await (await node.get("/open-data", headers=HTML)).text()
    assert page.count('href="https://creativecommons.org/licenses/by/4.0/" rel="license"') == (
        1 + len(DATASETS)
    )
    assert "ODbL" not in page
    description = await (await node.get("/open-data/needs", headers=HTML)).text()
    assert 'rel="license">CC-BY-4.0</a>' in description
    document = await jsonld_of(node, "needs")
    assert document["license"] == {"id": licence["licence_url"], "name": "CC-BY-4.0"}
    assert expand(document)[0][LICENSE][0]["@id"] == licence["licence_url"]


async def test_participation_datasets_round_trip_through_the_csv(node: TestClient) -> None:
    chain = await fill_participation(node)

    header, needs = await csv_of(node, "needs")
    assert header[:3] == ["id", "url", "title"]
    need = by(needs, "id", chain.need.id)
    assert need["url"] == chain.need.uri and need["title"] == "Navette du samedi"
    assert need["text"] == 'Relier les hameaux à la gare,\nle samedi "matin".'
    assert need["theme"] == "mobility" and need["place"] == "Gare"
    assert need["state"] == "in_proposal" and need["supports"] == "2"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", need["created_at"])
    formula = by(needs, "id", chain.formula_need.id)
    assert formula["title"] == "'" + FORMULA_TITLE  # inert in a spreadsheet
    assert formula["supports"] == "0" and formula["state"] == "submitted"

    _, proposals = await csv_of(node, "proposals")
    proposal = by(proposals, "id", chain.proposal.id)
    assert proposal["state"] == "evaluated" and proposal["needs"] == chain.need.uri
    assert proposal["circle"] == "Cercle Mobilités"
    assert proposal["circle_url"] == f"{BASE}/actors/mobilites"

    _, amendments = await csv_of(node, "amendments")
    assert [(a["proposal_url"], a["text"], a["state"]) for a in amendments] == [
        (chain.proposal.uri, "Trois allers-retours.", "proposed")
    ]

    _, decisions = await csv_of(node, "decisions")
    decision = by(decisions, "id", chain.decision_id)
    assert decision["state"] == "closed" and decision["method"] == "majority"
    assert decision["outcome"] == "adopted" and decision["quorum_reached"] == "true"
    assert (decision["votes_for"], decision["votes_against"], decision["votes_abstain"]) == (
        "2",
        "0",
        "0",
    )
    assert decision["votes_consent"] == "" and decision["external_consent"] == ""
    # the remote answer is counted apart, never with the binding votes
    assert (decision["external_against"], decision["external_total"]) == ("1", "1")
    assert decision["voters"] == "2" and decision["eligible"] == "3"
    assert decision["participation"] == "0.6667" and decision["quorum"] == "0.1"

    _, experiments = await csv_of(node, "experiments")
    experiment = by(experiments, "id", chain.experiment_id)
    assert experiment["state"] == "concluded" and experiment["outcome"] == "success"
    assert experiment["starts_on"] == "2026-05-01" and experiment["indicators"] == "1"
    assert experiment["proposal_url"] == chain.proposal.uri
    _, indicators = await csv_of(node, "experiment-indicators")
    indicator = by(indicators, "id", chain.indicator_id)
    assert (indicator["baseline"], indicator["target"], indicator["direction"]) == (
        "0",
        "40",
        "increase",
    )
    assert (indicator["latest_value"], indicator["latest_on"]) == ("12.5", "2026-05-02")
    _, measurements = await csv_of(node, "measurements")
    assert [(m["indicator_id"], m["value"], m["note"]) for m in measurements] == [
        (chain.indicator_id, "12.5", "'@premier samedi")
    ]
    _, evaluations = await csv_of(node, "evaluations")
    assert [(e["outcome"], e["recommendation"]) for e in evaluations] == [("success", "adapt")]

    _, offers = await csv_of(node, "offers")
    assert sorted((o["title"], o["state"]) for o in offers) == [
        ("Broyeur à végétaux", "open"),
        ("Vélo", "closed"),
    ]
    broyeur = by(offers, "title", "Broyeur à végétaux")
    assert (broyeur["available_from"], broyeur["available_until"]) == ("2026-04-01", "2026-10-31")


async def test_every_dataset_has_its_documented_columns_and_expands_offline(
    node: TestClient,
) -> None:
    await fill_participation(node)
    await import_sample_territory(node)
    page = await (await node.get("/open-data", headers=HTML)).text()
    for dataset in DATASETS:
        header, rows = await csv_of(node, dataset.slug)
        assert header == [column.name for column in dataset.columns], dataset.slug
        assert rows, f"{dataset.slug} is empty"
        records = re.search(
            rf'id="dataset-{dataset.slug}">.*?<dt>Enregistrements</dt><dd>(\d+)</dd>', page, re.S
        )
        assert records and int(records.group(1)) == len(rows), dataset.slug

        document = await jsonld_of(node, dataset.slug)
        assert document["type"] == "Collection" and document["additionalType"] == "dcat:Dataset"
        assert document["totalItems"] == len(rows) == len(document["items"])
        assert all("@context" not in item for item in document["items"])
        expanded = expand(document)  # bundled contexts only: raises if anything is unknown
        assert len(expanded[0][f"{AS}items"]) == len(rows)
        assert expanded[0][LICENSE][0]["@id"] == "https://opendatacommons.org/licenses/odbl/1-0/"

        description = await (await node.get(f"/open-data/{dataset.slug}", headers=HTML)).text()
        assert description.count("<h1>") == 1
        for column in dataset.columns:
            assert f"<code>{column.name}</code></th><td>{shown(column.description)}" in description
        assert f"{BASE}/open-data/{dataset.slug}.csv" in description


async def test_map_and_indicator_datasets_are_their_own_exports(node: TestClient) -> None:
    await import_sample_territory(node)
    sessions, config = node.app[sessions_key], node.app[runtime_key].config
    for slug, exported in (
        ("places", await places_csv(sessions)),
        ("map-actors", await actors_csv(sessions)),
        ("flows", await flows_csv(sessions)),
        ("indicators", await indicators_csv(sessions, config)),
        ("observations", await observations_csv(sessions)),
    ):
        response = await node.get(f"/open-data/{slug}.csv")
        assert (await response.read()).decode("utf-8") == exported, slug
    counts = {
        slug: len((await csv_of(node, slug))[1]) for slug in ("places", "map-actors", "flows")
    }
    assert counts == {"places": 30, "map-actors": 40, "flows": 60}
    flows = await jsonld_of(node, "flows")
    assert {item["type"] for item in flows["items"]} == {"Relationship"}
    places = {item["id"] for item in (await jsonld_of(node, "places"))["items"]}
    actors = {item["id"] for item in (await jsonld_of(node, "map-actors"))["items"]}
    assert all({i["subject"], i["object"]} <= places | actors for i in flows["items"])
    observations = await jsonld_of(node, "observations")
    assert observations["totalItems"] > 100
    assert {item["type"] for item in observations["items"]} == {"Observation"}


async def test_nothing_private_is_published(node: TestClient) -> None:
    chain = await fill_participation(node)
    async with node.app[sessions_key]() as session:
        accounts = list(await session.scalars(select(Account)))
        names = list(
            await session.scalars(
                select(LocalActor.display_name).where(LocalActor.kind == "person")
            )
        )
    secrets = [a.password_hash for a in accounts] + [a.id for a in accounts]
    secrets += [a.username for a in accounts] + names
    secrets += ["commentaire-secret-de-bob", "https://mastodon.example/users/zed"]
    published = [await (await node.get("/open-data.jsonld")).text()]
    for dataset in DATASETS:
        published.append(await (await node.get(f"/open-data/{dataset.slug}.csv")).text())
        published.append(await (await node.get(f"/open-data/{dataset.slug}.jsonld")).text())
    everything = "\n".join(published)
    assert chain.need.uri in everything  # the check below looks at real downloads
    leaked = [secret for secret in secrets if secret and secret in everything]
    assert leaked == []


async def test_unknown_datasets_are_404_and_unchanged_downloads_are_304(
    node: TestClient,
) -> None:
    for path in ("/open-data/passwords.csv", "/open-data/accounts.jsonld", "/open-data/nope"):
        assert (await node.get(path)).status == 404
    page = await node.get("/open-data/nope", headers=HTML)
    assert page.status == 404 and shown("Ce jeu de données n'existe pas.") in await page.text()
    first = await node.get("/open-data/needs.csv")
    etag = first.headers["ETag"]
    again = await node.get("/open-data/needs.csv", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag
    head = await node.head("/open-data/offers.jsonld")
    assert head.status == 200
    await submit_need(
        node.app[runtime_key],
        await account(node, "dora"),
        title="Un banc",
        text="Un banc place de l'église.",
        theme="public_space",
    )
    changed = await node.get("/open-data/needs.csv", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag


class DatasetRows(HTMLParser):
    """The open data page's dataset sections: for each, its download links (href -> the
    media type the link announces) and its licence links."""

    def __init__(self) -> None:
        super().__init__()
        self.downloads: dict[str, dict[str, str]] = {}
        self.licences: dict[str, list[str]] = {}
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("class") == "dataset":
            self._section = str(found["aria-labelledby"]).removeprefix("dataset-")
            self.downloads[self._section], self.licences[self._section] = {}, []
        elif tag == "a" and self._section is not None:
            if found.get("rel") == "license":
                self.licences[self._section].append(str(found["href"]))
            elif found.get("type"):
                self.downloads[self._section][str(found["href"])] = str(found["type"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = None


#: the datasets that are on the map, and so exist in GeoJSON too
SPATIAL = ("map-actors", "places", "flows")


async def test_every_dataset_row_links_each_of_its_formats_and_each_link_works(
    node: TestClient,
) -> None:
    await fill_participation(node)
    await import_sample_territory(node)
    rows = DatasetRows()
    rows.feed(await (await node.get("/open-data", headers=HTML)).text())
    assert sorted(rows.downloads) == sorted(dataset.slug for dataset in DATASETS)
    for slug, links in rows.downloads.items():
        suffixes = [".csv", ".jsonld"] + ([".geojson"] if slug in SPATIAL else [])
        assert sorted(links) == sorted(f"/open-data/{slug}{suffix}" for suffix in suffixes)
        assert rows.licences[slug] == ["https://opendatacommons.org/licenses/odbl/1-0/"]
        for href, media_type in links.items():
            response = await node.get(href)
            assert response.status == 200, href
            assert response.headers["Content-Type"].split(";")[0] == media_type, href
            assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {media for links in rows.downloads.values() for media in links.values()} == {
        "text/csv",
        "application/ld+json",
        "application/geo+json",
    }

    for slug in SPATIAL:  # one feature per record, with its URI as id, like the CSV
        _, records = await csv_of(node, slug)
        response = await node.get(f"/open-data/{slug}.geojson")
        disposition = f'attachment; filename="territoire-{slug}.geojson"'
        assert response.headers["Content-Disposition"] == disposition
        collection = json.loads(await response.read())
        assert collection["type"] == "FeatureCollection"
        assert [f["id"] for f in collection["features"]] == [r["uri"] for r in records]
    actors = json.loads(await (await node.get("/open-data/map-actors.geojson")).read())
    located = [f for f in actors["features"] if f["geometry"] is not None]
    assert located and all(f["geometry"]["type"] == "Point" for f in located)
    assert {f["properties"]["feature_type"] for f in actors["features"]} == {"actor"}
    flows = json.loads(await (await node.get("/open-data/flows.geojson")).read())
    assert {f["geometry"]["type"] for f in flows["features"] if f["geometry"]} == {"LineString"}

    not_spatial = await node.get("/open-data/needs.geojson", headers=HTML)
    assert not_spatial.status == 404
    assert shown("il n'existe pas en GeoJSON") in await not_spatial.text()
    assert (await node.get("/open-data/nope.geojson")).status == 404
    catalogue = json.loads(await (await node.get("/open-data.jsonld")).read())
    places = next(i for i in catalogue["items"] if i["id"] == f"{BASE}/open-data/places")
    assert [d["dcat:mediaType"] for d in places["dcat:distribution"]] == [
        "text/csv",
        "application/ld+json",
        "application/geo+json",
    ]
    description = await (await node.get("/open-data/flows", headers=HTML)).text()
    assert f'href="{BASE}/open-data/flows.geojson" type="application/geo+json"' in description
