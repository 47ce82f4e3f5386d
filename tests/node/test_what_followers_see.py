"""What a follower on Mastodon (or Misskey, GoToSocial...) sees of every kind of object the
node publishes (FEDERATION.md, "What followers see"), checked on the documents a real node
publishes: the sample territory of `maillage demo` is filled through the node's own
services (needs, proposals, amendments, decisions, experiments, evaluations, offers,
replies, announcements), then every Create and Update of its outbox, and every document
served at an object's URL, is read as a Mastodon server reads it.

- A Note or a Question carries no `summary` (Mastodon's content warning, which would fold
  the offer or the poll) and no `name` (GoToSocial's fallback for that warning); its
  `content` holds the title, the status line, the text and a link to its page.
- A Question keeps its options in `oneOf`/`anyOf` and an `endTime`: a poll.
- An Article or a Page shows as `name`, a short `summary` and `url`; its `content` is
  readable on its own too (Misskey shows it).
- Our own nodes still read the title and the status line (`headline`, `statusLine`).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from instance_config import InstanceConfig
from node.demo import fill_demo
from node.services.federation.remote_objects import store_remote_object
from node.storage.models import Decision, Experiment, Need, Offer, OutboxEntry, Proposal
from node.web.app import create_app
from node.web.keys import sessions_key
from protocols.html import html_to_text, sanitize_html
from protocols.jsonld.loader import expand
from protocols.jsonld.project_context import document_context
from tests.conftest import config_for, initialise
from tests.testrig.people import HTTP_NODE

AP = {"Accept": "application/activity+json"}
SCHEMA = "http://schema.org/"
TC = "https://w3id.org/territoires/ns#"
#: The types Mastodon converts to "title, summary, link" (reference/interop.md 3.2).
TITLED = ("Article", "Page")
#: A status line Mastodon shows under a title must stay a line.
MAX_SUMMARY = 200


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> InstanceConfig:
    """A node filled once with the sample territory by `fill_demo`, as `maillage demo`
    does (the tests only read it)."""
    config = config_for(tmp_path_factory.mktemp("demo"), node=HTTP_NODE)
    asyncio.run(initialise(config))
    # fill_demo names the sample's boundary in maillage.toml (left alone without [territory])
    (Path(config.data_dir) / "maillage.toml").write_text("# test node\n", encoding="utf-8")
    asyncio.run(fill_demo(config, {}, progress=lambda line: None))
    return config


@pytest.fixture
async def demo_node(aiohttp_client: Any, demo_config: InstanceConfig) -> TestClient:
    """The filled node's application, with the workers left out (nothing is sent)."""
    return await aiohttp_client(create_app(demo_config, workers=False))


async def published_objects(node: TestClient) -> list[tuple[str, dict[str, Any]]]:
    """(activity type, object) of every Create and Update of a post in the outbox."""
    async with node.app[sessions_key]() as session:
        entries = list(await session.scalars(select(OutboxEntry).order_by(OutboxEntry.seq)))
    found = []
    for entry in entries:
        activity = json.loads(entry.body)
        document = activity.get("object")
        if activity["type"] in ("Create", "Update") and isinstance(document, dict):
            if document.get("type") in ("Note", "Question", *TITLED):
                found.append((activity["type"], document))
    return found


def text_of(document: dict[str, Any]) -> str:
    """The content as a reader sees it: text, whitespace folded."""
    return " ".join(html_to_text(document["content"]).split())


def problems_of(document: dict[str, Any]) -> list[str]:
    """What a Mastodon follower would see wrong in this document, if anything."""
    problems = []
    kind, url, content = document.get("type"), document.get("url"), document.get("content")
    if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        problems.append(f"no http(s) url: {url!r}")
    if not isinstance(content, str) or not content.strip():
        return [*problems, "no content"]
    if sanitize_html(content) != content:
        problems.append("content not sanitised HTML")
    maillage = "additionalType" in document
    if maillage and f'href="{url}"' not in content:
        problems.append("no link to the page in the content")
    if kind in TITLED:
        name, summary = document.get("name"), document.get("summary")
        if not name:
            problems.append("no name (Mastodon's title)")
        if not summary or len(summary) > MAX_SUMMARY or "<" in summary:
            problems.append(f"summary is not a short status line: {summary!r}")
        if name and name not in text_of(document):
            problems.append("title missing from the content")
        return problems
    folding = [key for key in ("summary", "name") if key in document]
    problems += [f"{key} on a {kind}: a content warning" for key in folding]
    if document.get("sensitive"):
        problems.append("sensitive")
    if maillage:
        for key in ("headline", "statusLine"):
            value = document.get(key)
            if not value or " ".join(value.split()) not in text_of(document):
                problems.append(f"{key} {value!r} not in the content")
    if kind == "Question":
        problems += poll_problems(document)
    return problems


def poll_problems(question: dict[str, Any]) -> list[str]:
    """What would keep Mastodon from showing the Question as a poll."""
    options = question.get("oneOf") or question.get("anyOf")
    if not isinstance(options, list) or len(options) < 2:
        return [f"no poll options: {options!r}"]
    problems = [
        f"bad option {option!r}"
        for option in options
        if option.get("type") != "Note"
        or not option.get("name")
        or not isinstance(option.get("replies", {}).get("totalItems"), int)
    ]
    end = question.get("endTime")
    try:
        datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"no endTime: {end!r}")
    return problems


async def test_every_published_object_reads_well_in_mastodon(demo_node: TestClient) -> None:
    published = await published_objects(demo_node)
    kinds = {(document["type"], document.get("additionalType")) for _, document in published}
    # every kind the node federates is in the sample (replicas: see test_replication.py)
    assert kinds >= {
        ("Page", "tc:Proposal"),  # needs, proposals, amendments
        ("Question", "tc:Decision"),
        ("Article", "tc:Experiment"),
        ("Article", "tc:Evaluation"),
        ("Note", "vf:Proposal"),  # offers and requests
        ("Note", None),  # the territory's announcements, residents' replies
    }, kinds
    wrong = [
        (verb, document["id"], problems)
        for verb, document in published
        if (problems := problems_of(document))
    ]
    assert not wrong, wrong[:5]
    assert any("closed" in d for _, d in published if d["type"] == "Question")


async def test_the_documents_served_at_the_objects_urls_read_well(demo_node: TestClient) -> None:
    ids = {document["id"] for _, document in await published_objects(demo_node)}
    served = []
    for uri in sorted(ids):
        response = await demo_node.get(uri.removeprefix(HTTP_NODE["base_url"]), headers=AP)
        if response.status == 410:  # a closed offer, now a Tombstone
            continue
        assert response.status == 200, (uri, response.status)
        assert response.headers["Content-Type"] == "application/activity+json"
        served.append(await response.json(content_type=None))
    assert len(served) > 40
    wrong = [(d["id"], problems) for d in served if (problems := problems_of(d))]
    assert not wrong, wrong[:5]


async def test_the_content_says_what_the_object_is(demo_node: TestClient) -> None:
    """The text residents wrote, and the key facts, reach a Mastodon timeline."""
    async with demo_node.app[sessions_key]() as session:
        offer = (await session.scalars(select(Offer).where(Offer.state == "open"))).first()
        decision = (await session.scalars(select(Decision).where(Decision.state == "open"))).first()
        need = (await session.scalars(select(Need).where(Need.place != ""))).first()
        proposal = (await session.scalars(select(Proposal))).first()
        experiment = (await session.scalars(select(Experiment))).first()
    assert offer and decision and need and proposal and experiment

    async def shown(uri: str) -> str:
        response = await demo_node.get(uri.removeprefix(HTTP_NODE["base_url"]), headers=AP)
        return text_of(await response.json(content_type=None))

    def said(text: str) -> str:
        return " ".join(text.split())

    offer_text = await shown(offer.uri)
    assert offer.title in offer_text and said(offer.text) in offer_text
    if offer.place:
        assert f"Où : {offer.place}" in offer_text
    assert "Pour répondre" in offer_text
    decision_text = await shown(decision.uri)
    assert decision.question in decision_text and "Vote : du " in decision_text
    assert "Seul·es les habitant·es inscrit·es" in decision_text
    need_text = await shown(need.uri)
    assert said(need.text) in need_text and f"Lieu : {need.place}" in need_text
    assert said(proposal.text) in await shown(proposal.uri)
    experiment_text = await shown(experiment.uri)
    assert said(experiment.hypothesis) in experiment_text and "Dates : du " in experiment_text


async def test_our_own_nodes_still_read_the_title_and_status_line(demo_node: TestClient) -> None:
    """A Maillage peer stores a received offer or decision with the title and status line it
    shows, although the Note and the Question carry no name nor summary."""
    published = [d for _, d in await published_objects(demo_node) if "additionalType" in d]
    offer = next(d for d in published if d["type"] == "Note")
    question = next(d for d in published if d["type"] == "Question")
    page = next(d for d in published if d["type"] == "Page")
    async with demo_node.app[sessions_key]() as session:
        for document in (offer, question, page):
            row = await store_remote_object(session, document)
            title = document.get("name") or document["headline"]
            assert (row.name, row.summary) == (title, document["statusLine"])
        await session.rollback()
    # the properties are the project's terms: a JSON-LD reader finds them under our IRIs
    [node] = expand({"@context": document_context(), **offer})
    assert node[SCHEMA + "headline"] == [{"@value": offer["headline"]}]
    assert node[TC + "statusLine"] == [{"@value": offer["statusLine"]}]
