"""Replication across territories, on real in-process nodes talking HTTP on loopback:
territory B (and C) adopt territory A's experiment; A records the replications, then their
outcomes when B and C evaluate. Deliveries and inbox work are driven by `run_once()`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from node.services.federation.following import follow
from node.storage.models import (
    Experiment,
    ExperimentIndicator,
    Follow,
    InboxItem,
    OutboxEntry,
    RemoteActor,
    RemoteObject,
    Replication,
)
from node.web.app import create_app
from node.web.keys import delivery_worker_key, inbox_worker_key, runtime_key, sessions_key
from protocols.html import html_to_text
from tests.conftest import config_for, initialise
from tests.node.test_experiments import make_circle, make_proposal, start_experiment
from tests.testrig.people import HTML, as_person, submit
from tests.testrig.postgres import free_port
from tests.testrig.remote import AS, FakeRemote, signed_post

AP = {"Accept": "application/activity+json"}


@dataclass
class Territory:
    """One node: its browser (logged in as a facilitator) and its territory actor's id."""

    name: str
    base: str
    client: TestClient

    @property
    def actor(self) -> str:
        return f"{self.base}/actors/territoire"

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.client.app[sessions_key]() as session:
            return list(await session.scalars(select(model).where(*where)))


@pytest.fixture
def territory(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> Any:
    """Factory: a new initialised node served on its own loopback port."""

    async def make(name: str, role: str = "territory", allow: tuple[str, ...] = ()) -> Territory:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        data = tmp_path / name
        data.mkdir()
        config = config_for(
            data,
            node={"base_url": base, "role": role},
            territory={"name": name},
            federation={"allow_private_addresses": True},
            coordination={"allow": list(allow)},
        )
        await initialise(config)
        server = await aiohttp_server(
            create_app(config, workers=False), host="127.0.0.1", port=port
        )
        client = await aiohttp_client(server)
        await as_person(client, "facilitation", "facilitator")
        return Territory(name, base, client)

    return make


async def pump(*nodes: Territory) -> None:
    """Deliver and apply activities on every node until nothing moves any more."""
    for _ in range(20):
        moved = 0
        for node in nodes:
            moved += await node.client.app[delivery_worker_key].run_once()
            moved += await node.client.app[inbox_worker_key].run_once()
        if not moved:
            return
    raise AssertionError("activities still moving after 20 rounds")


async def adopt(node: Territory, url: str, adaptations: str) -> str:
    """A facilitator of `node` adopts the experiment at `url`; returns the replica's id."""
    response = await submit(
        node.client,
        f"/experiments/adopt?url={url}",
        "/experiments/adopt",
        url=url,
        adaptations=adaptations,
        starts_on="2026-09-01",
        ends_on="2027-08-31",
    )
    assert response.status == 302, await response.text()
    return str(response.headers["Location"]).rsplit("/", 1)[1]


async def conclude(node: Territory, identifier: str, outcome: str) -> None:
    """Run a replica to its evaluation with this outcome."""
    page = f"/experiments/{identifier}"
    for wanted in ("running", "evaluating"):
        response = await submit(node.client, page, f"{page}/state", to=wanted)
        assert response.status == 302, await response.text()
    response = await submit(
        node.client,
        page,
        f"{page}/evaluation",
        outcome=outcome,
        recommendation="adapt",
        lessons="Ce qui a marché ici.",
    )
    assert response.status == 302, await response.text()


async def test_an_experiment_replicated_in_two_territories_shows_their_outcomes(
    territory: Any,
) -> None:
    a, b, c = [await territory(name) for name in ("Saint-A", "Saint-B", "Saint-C")]
    for follower in (b, c):
        await follow(follower.client.app[runtime_key], a.actor)
    await pump(a, b, c)
    assert len(await b.rows(Follow, Follow.state == "accepted")) == 1

    circle = await make_circle(a.client)
    original_id = await start_experiment(a.client, circle, await make_proposal(a.client, circle))
    original = f"{a.base}/experiments/{original_id}"
    await pump(a, b, c)

    # B picks A's experiment from what it received from the territories it follows
    listing = await (await b.client.get("/experiments", headers=HTML)).text()
    assert "Navette du samedi" in listing.split("Des territoires suivis")[1]
    assert "/experiments/adopt?url=" in listing
    replica_b = await adopt(b, original, "Deux hameaux seulement, le dimanche.")
    # C pastes the URL without following anything it received
    replica_c = await adopt(c, original, "Un minibus de la commune.")

    experiment = (await b.rows(Experiment, Experiment.id == replica_b))[0]
    assert experiment.derived_from == original and experiment.title == "Navette du samedi"
    copied = await b.rows(ExperimentIndicator, ExperimentIndicator.experiment_id == replica_b)
    assert [(i.name, i.unit, i.target) for i in copied] == [
        ("Personnes transportées", "personnes", 40.0)
    ]
    async with b.client.app[sessions_key]() as session:
        entries = {
            row.type: json.loads(row.body)
            for row in await session.scalars(select(OutboxEntry).order_by(OutboxEntry.seq))
        }
    add, create = entries["Add"], entries["Create"]
    assert add["actor"] == b.actor and add["to"] == [a.actor]
    assert add["object"] == f"{b.base}/experiments/{replica_b}"
    assert add["target"] == f"{original}/replications"
    assert create["object"]["wasDerivedFrom"] == original and a.actor in create["cc"]
    assert create["object"]["adaptations"] == "Deux hameaux seulement, le dimanche."
    # a follower on Mastodon-like servers reads where the replica comes from, and what changed
    content = create["object"]["content"]
    shown = html_to_text(content)
    assert f"Réplique de : {original}" in shown and f'href="{original}"' in content
    assert "Adaptations : Deux hameaux seulement, le dimanche." in shown

    await pump(a, b, c)
    replications = await a.rows(Replication)
    assert sorted((r.territory_name, r.outcome) for r in replications) == [
        ("Saint-B", None),
        ("Saint-C", None),
    ]
    kinds = {r.uri: r.kind for r in await a.rows(RemoteObject)}
    assert kinds[f"{b.base}/experiments/{replica_b}"] == "tc:Experiment"
    collection = await (
        await a.client.get(f"/experiments/{original_id}/replications", headers=AP)
    ).json(content_type=None)
    assert collection["totalItems"] == 2
    assert set(collection["orderedItems"]) == {
        f"{b.base}/experiments/{replica_b}",
        f"{c.base}/experiments/{replica_c}",
    }
    page = await (await a.client.get(f"/experiments/{original_id}", headers=HTML)).text()
    assert "Répliquée dans 2 territoires" in page and "pas encore évaluée" in page

    await conclude(b, replica_b, "success")
    await conclude(c, replica_c, "partial")
    await pump(a, b, c)
    outcomes = {r.territory_name: r.outcome for r in await a.rows(Replication)}
    assert outcomes == {"Saint-B": "success", "Saint-C": "partial"}
    kinds = {r.uri: r.kind for r in await a.rows(RemoteObject)}
    assert sorted(kinds.values()).count("tc:Evaluation") == 2
    page = await (await a.client.get(f"/experiments/{original_id}", headers=HTML)).text()
    assert "Répliquée dans 2 territoires · 1 succès · 1 partiel" in page
    assert f'href="{b.base}/experiments/{replica_b}"' in page
    replica_page = await (await b.client.get(f"/experiments/{replica_b}", headers=HTML)).text()
    assert f'href="{original}"' in replica_page and "Deux hameaux seulement" in replica_page

    # adopting twice, or adopting one's own experiment, is refused next to the URL field
    response = await submit(
        b.client,
        "/experiments/adopt",
        "/experiments/adopt",
        url=original,
        adaptations="encore",
        starts_on="2026-09-01",
        ends_on="2027-08-31",
    )
    assert response.status == 400 and 'id="url-error">Ce territoire réplique déjà' in (
        await response.text()
    )
    response = await submit(
        a.client,
        "/experiments/adopt",
        "/experiments/adopt",
        url=original,
        adaptations="soi-même",
        starts_on="2026-09-01",
        ends_on="2027-08-31",
    )
    assert response.status == 400 and "déjà celle de ce territoire" in await response.text()


async def test_adds_that_do_not_replicate_our_experiments_are_ignored(
    territory: Any, aiohttp_server: Any
) -> None:
    a = await territory("Saint-A")
    circle = await make_circle(a.client)
    original_id = await start_experiment(a.client, circle, await make_proposal(a.client, circle))
    original = f"{a.base}/experiments/{original_id}"
    remote = FakeRemote()
    server = await aiohttp_server(remote.app)
    remote.base = str(server.make_url("")).rstrip("/")
    mallory = remote.add_actor("mallory")
    unrelated = f"{remote.base}/objects/1"
    remote.documents[unrelated] = {
        "@context": AS,
        "id": unrelated,
        "type": "Article",
        "additionalType": "tc:Experiment",
        "attributedTo": mallory.uri,
        "name": "Sans lien",
    }
    activities = [
        # an experiment that is not derived from ours
        {"object": unrelated, "target": f"{original}/replications"},
        # someone else's experiment
        {"object": f"{a.base}/experiments/x", "target": f"{original}/replications"},
        # a collection that is not ours
        {"object": unrelated, "target": "https://elsewhere.example/experiments/1/replications"},
    ]
    for number, fields in enumerate(activities):
        activity = {
            "@context": AS,
            "id": f"{mallory.uri}/adds/{number}",
            "type": "Add",
            "actor": mallory.uri,
            **fields,
        }
        body, headers = signed_post(mallory, f"{a.base}/inbox", activity)
        assert (await a.client.post("/inbox", data=body, headers=headers)).status == 202
    await a.client.app[inbox_worker_key].run_once()
    assert await a.rows(Replication) == []
    items = await a.rows(InboxItem, InboxItem.type == "Add")
    assert [item.state for item in items] == ["ignored"] * 3


async def test_adopting_with_the_link_down_uses_what_the_node_holds(
    territory: Any, aiohttp_server: Any
) -> None:
    """B adopts A's experiment while A's server does not answer: nothing waits on A, B's
    cached copies serve, and the Add for A waits in B's outbox."""
    a, b = [await territory(name) for name in ("Saint-A", "Saint-B")]
    await follow(b.client.app[runtime_key], a.actor)
    await pump(a, b)
    circle = await make_circle(a.client)
    original_id = await start_experiment(a.client, circle, await make_proposal(a.client, circle))
    await pump(a, b)
    async with b.client.app[sessions_key].begin() as session:  # B's copy of A is days old
        await session.execute(
            update(RemoteActor).values(fetched_at=datetime.now(UTC) - timedelta(days=30))
        )

    await a.client.server.close()  # A goes away; what now listens on its port only records
    asked: list[str] = []

    async def black_hole(request: web.Request) -> web.StreamResponse:
        asked.append(f"{request.method} {request.path}")
        return web.Response(status=503)

    hole = web.Application()
    hole.router.add_route("*", "/{path:.*}", black_hole)
    await aiohttp_server(hole, host="127.0.0.1", port=int(a.base.rsplit(":", 1)[1]))

    replica = await adopt(b, f"{a.base}/experiments/{original_id}", "Le dimanche seulement.")
    assert asked == []  # neither the experiment nor its territory was fetched
    page = await (await b.client.get(f"/experiments/{replica}", headers=HTML)).text()
    assert "Navette du samedi" in page
    adds = await b.rows(OutboxEntry, OutboxEntry.type == "Add")
    assert len(adds) == 1 and json.loads(adds[0].body)["to"] == [a.actor]
