"""The coordinator role on real in-process nodes talking HTTP on loopback: three territories
(an experiment in A, replicated in B and C, evaluated there) and two coordinators following
them; the first coordinator's digest reaches the Fedify peer."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from node.services.coordination.digest import publish_digest
from node.services.coordination.discovery import discover, proposals
from node.services.coordination.following import follow_requests, follow_territory, sync_allow_list
from node.services.coordination.index import reindex
from node.services.coordination.open_data import entries_csv, statistics_csv
from node.services.coordination.search import Filters, search
from node.services.coordination.statistics import all_entries, theme_statistics
from node.services.federation.following import follow
from node.services.offline.bundles import export_bundle, import_bundle
from node.storage.models import (
    Account,
    CoordinationEntry,
    DiscoveredTerritory,
    Follow,
    InboxItem,
    LocalActor,
    RemoteActor,
)
from node.web.keys import config_key, runtime_key, sessions_key
from tests.node import test_replication
from tests.node.test_experiments import make_circle, make_proposal, start_experiment
from tests.node.test_replication import Territory, adopt, conclude, pump
from tests.testrig.fedify import FedifyPeer
from tests.testrig.people import HTML, csrf_of
from tests.testrig.processes import run_maillage

#: the factory of served in-process territories (a coordinator is one with its role set)
territory = test_replication.territory


async def entries(node: Territory) -> list[CoordinationEntry]:
    async with node.client.app[sessions_key]() as session:
        return await all_entries(session)


async def found(node: Territory, **filters: Any) -> list[CoordinationEntry]:
    async with node.client.app[sessions_key]() as session:
        return await search(session, Filters(**filters))


@pytest.fixture
async def network(territory: Any) -> dict[str, Territory]:
    """A, B, C and two coordinators following the three; A's experiment replicated in B and C,
    B's replica a success and C's a partial success."""
    a, b, c = [await territory(name) for name in ("Saint-A", "Saint-B", "Saint-C")]
    one, two = (
        await territory("Réseau Un", "coordinator"),
        await territory("Réseau Deux", "coordinator"),
    )
    for coordinator in (one, two):
        for followed in (a, b, c):
            await follow(coordinator.client.app[runtime_key], followed.actor)
    await pump(a, b, c, one, two)
    circle = await make_circle(a.client)
    original_id = await start_experiment(a.client, circle, await make_proposal(a.client, circle))
    original = f"{a.base}/experiments/{original_id}"
    await pump(a, b, c, one, two)
    replica_b = await adopt(b, original, "Deux hameaux seulement, le dimanche.")
    replica_c = await adopt(c, original, "Un minibus de la commune.")
    await pump(a, b, c, one, two)
    await conclude(b, replica_b, "success")
    await conclude(c, replica_c, "partial")
    await pump(a, b, c, one, two)
    return {"a": a, "b": b, "c": c, "one": one, "two": two}


async def test_experiments_replications_and_evaluations_show_in_search_and_statistics(
    network: dict[str, Territory], fedify_peer: FedifyPeer
) -> None:
    one, two = network["one"], network["two"]
    indexed = await entries(one)
    kinds = sorted(e.kind for e in indexed)
    assert kinds.count("experiment") == 3 and kinds.count("evaluation") == 2
    assert {e.territory_name for e in indexed} == {"Saint-A", "Saint-B", "Saint-C"}

    # full text, accents and case aside, and prefixes
    assert len(await found(one, query="NAVETTE", kind="experiment")) == 3
    assert len(await found(one, query="hameau")) >= 1
    assert await found(one, query="téléphérique") == []
    assert [e.outcome for e in await found(one, kind="evaluation", outcome="success")] == [
        "success"
    ]
    assert {e.territory_name for e in await found(one, territory=network["b"].actor)} == {"Saint-B"}
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert await found(one, since=tomorrow) == []
    assert len(await found(one, until=tomorrow, kind="experiment")) == 3
    assert await found(one, query='") OR 1=1 --') == []  # a query is words, never syntax

    figures = theme_statistics(indexed)
    assert len(figures) == 1
    theme = figures[0]
    assert theme.theme, "experiments publish their theme, and replicas keep it"
    assert (theme.experiments, theme.replications, theme.territories) == (3, 2, 3)
    assert theme.evaluated == 2 and dict(theme.outcomes)["success"] == 1
    assert dict(theme.outcomes)["partial"] == 1 and theme.share("success") == 0.5

    # a second coordinator over the same territories gives the same statistics
    assert theme_statistics(await entries(two)) == figures
    config_one, config_two = one.client.app[config_key], two.client.app[config_key]
    assert statistics_csv(config_one, indexed) == statistics_csv(config_two, await entries(two))

    # rebuilding the index gives the same index
    before = sorted((e.uri, e.kind, e.theme, e.outcome) for e in indexed)
    assert await reindex(one.client.app[runtime_key]) == len(indexed)
    assert sorted((e.uri, e.kind, e.theme, e.outcome) for e in await entries(one)) == before

    # the pages: search results, statistics with their charts, open data with sources
    page = await (
        await one.client.get("/coordination?q=navette&kind=experiment", headers=HTML)
    ).text()
    assert page.count("Navette du samedi") >= 3 and "Saint-B" in page
    stats = await (await one.client.get("/coordination/statistics", headers=HTML)).text()
    assert "<svg" in stats and 'id="statistics"' in stats and "50 %" in stats
    english = await (await one.client.get("/coordination/statistics?lang=en", headers=HTML)).text()
    assert "Originals" in english and "Originales" not in english
    data = await (await one.client.get("/coordination/data/entries.csv")).text()
    assert network["a"].actor in data and f"{network['b'].base}/experiments/" in data
    statistics = await (await one.client.get("/coordination/data/statistics.jsonld")).json(
        content_type=None
    )
    sources = statistics["items"][0]["isBasedOn"]
    assert len(sources) == 3 and all(s.startswith("http://127.0.0.1:") for s in sources)
    assert entries_csv(config_one, indexed).splitlines()[0].startswith("kind,title,theme")

    # the digest, a public post Mastodon users follow, reaches the Fedify peer
    # the peer's control calls block: in a thread, so that this loop serves its requests
    await asyncio.to_thread(fedify_peer.follow, one.actor)
    await pump(one)
    note = await publish_digest(one.client.app[runtime_key])
    await pump(one)
    received = await asyncio.to_thread(fedify_peer.received, type="Create", wait=20)
    delivered = [r for r in received if note in json.dumps(r)]
    assert delivered, received
    text = json.dumps(delivered[0], ensure_ascii=False)
    assert "3 nouvelles expérimentations" in text and "/coordination" in text


async def test_only_indexable_territories_are_indexed(territory: Any) -> None:
    a, hidden = await territory("Saint-A"), await territory("Caché")
    async with hidden.client.app[sessions_key].begin() as session:
        for actor in await session.scalars(select(LocalActor)):
            actor.indexable = False
    coordinator = await territory("Réseau", "coordinator")
    for followed in (a, hidden):
        await follow(coordinator.client.app[runtime_key], followed.actor)
    await pump(a, hidden, coordinator)
    for node in (a, hidden):
        circle = await make_circle(node.client)
        await start_experiment(node.client, circle, await make_proposal(node.client, circle))
    await pump(a, hidden, coordinator)
    assert {e.territory_name for e in await entries(coordinator)} == {"Saint-A"}


async def test_territories_are_discovered_through_the_followed_ones(territory: Any) -> None:
    a, unknown = await territory("Saint-A"), await territory("Inconnu")
    coordinator = await territory("Réseau", "coordinator")
    await follow(a.client.app[runtime_key], unknown.actor)  # A follows a territory...
    await follow(coordinator.client.app[runtime_key], a.actor)  # ...the coordinator follows A
    await pump(a, unknown, coordinator)
    runtime = coordinator.client.app[runtime_key]
    assert await discover(runtime) == [unknown.actor]
    assert await discover(runtime) == []  # proposed once
    assert [p.uri for p in await proposals(runtime)] == [unknown.actor]
    # the page is for admins: the fixture's facilitator is refused, an admin answers there
    assert (await coordinator.client.get("/coordination/admin", headers=HTML)).status == 403
    async with coordinator.client.app[sessions_key].begin() as session:
        for account in await session.scalars(select(Account)):
            account.role = "admin"
    page = await (await coordinator.client.get("/coordination/admin", headers=HTML)).text()
    assert unknown.actor in page
    answer = await coordinator.client.post(
        "/coordination/admin/follow",
        data={"csrf": csrf_of(page), "target": unknown.actor},
        allow_redirects=False,
    )
    assert answer.status == 302 and "problem" not in answer.headers["Location"]
    await pump(unknown, coordinator)
    async with coordinator.client.app[sessions_key]() as session:
        row = await session.get(DiscoveredTerritory, unknown.actor)
        accepted = await session.scalar(
            select(Follow.state).where(Follow.followed_uri == unknown.actor)
        )
    assert row is not None and row.state == "followed" and accepted == "accepted"
    assert await proposals(runtime) == []


async def test_a_territory_node_has_no_coordination_pages(territory: Any) -> None:
    a = await territory("Saint-A")
    assert (await a.client.get("/coordination", headers=HTML)).status == 404
    assert (await a.client.get("/coordination/data/entries.csv")).status == 404


async def test_hostile_titles_and_links_are_made_harmless(territory: Any) -> None:
    a = await territory("Saint-A")
    coordinator = await territory("Réseau", "coordinator")
    await follow(coordinator.client.app[runtime_key], a.actor)
    await pump(a, coordinator)
    circle = await make_circle(a.client)
    await start_experiment(a.client, circle, await make_proposal(a.client, circle))
    await pump(a, coordinator)
    async with coordinator.client.app[sessions_key].begin() as session:
        entry = (await session.scalars(select(CoordinationEntry))).one()
        entry.title = "<script>alert(1)</script>Navette"
        entry.url = "javascript:alert(2)"
        assert (await session.scalars(select(RemoteActor))).first() is not None
    page = await (await coordinator.client.get("/coordination?q=navette", headers=HTML)).text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page


def test_the_cli_sets_the_role_and_runs_the_coordinators_work(tmp_path: Path) -> None:
    coordinator, town = tmp_path / "reseau", tmp_path / "bourg"
    for data, role in ((coordinator, "coordinator"), (town, "territory")):
        made = run_maillage(
            "init", "--data", str(data), "--base-url", "http://127.0.0.1:1", "--role", role
        )
        assert made.returncode == 0, made.stderr
    assert 'role = "coordinator"' in (coordinator / "maillage.toml").read_text()
    assert "[coordination]" in (coordinator / "maillage.toml").read_text()
    rebuilt = run_maillage("coordinate", "reindex", "--data", str(coordinator))
    assert rebuilt.returncode == 0 and "index rebuilt: 0 entries" in rebuilt.stdout
    empty = run_maillage("coordinate", "sync", "--data", str(coordinator))
    assert empty.returncode == 0 and "coordination.allow is empty" in empty.stdout
    refused = run_maillage("coordinate", "digest", "--data", str(town))
    assert refused.returncode != 0 and "is not a coordinator" in refused.stderr
    assert "maillage init --role coordinator" in refused.stderr


async def test_a_coordinators_bundle_carries_what_it_aggregates(
    network: dict[str, Territory], territory: Any, tmp_path: Path
) -> None:
    """Each territory's activity keeps its author's own proof: a node that never reached
    the territories verifies them from the coordinator's bundle, and a tampered copy fails."""
    one = network["one"]
    bundle = tmp_path / "reseau.tar.gz"
    summary = await export_bundle(one.client.app[runtime_key], bundle)
    # the three territories; their 3 experiments, 2 evaluations and 2 updates of the replicas
    assert summary.actors == 3 and summary.activities == 7
    offline = await territory("Hors-ligne")
    imported = await import_bundle(offline.client.app[runtime_key], bundle)
    assert imported.refused == [], imported.refused
    async with offline.client.app[sessions_key]() as session:
        authors = set(await session.scalars(select(InboxItem.actor_uri)))
    assert {network[n].actor for n in ("a", "b", "c")} <= authors
    # a copy whose experiment title was changed on the way is refused, entry by entry
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(bundle) as source, tarfile.open(tampered, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
            data = data.replace(b"Navette du samedi", b"Navette du dimanche")
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    again = await territory("Méfiant")
    refused = await import_bundle(again.client.app[runtime_key], tampered)
    assert refused.refused and all("proof" in why for _, why in refused.refused)


async def test_a_coordinator_follows_its_allow_list_and_territories_that_ask(
    territory: Any,
) -> None:
    listed, asking = await territory("Saint-A"), await territory("Saint-Demandeur")
    coordinator = await territory("Réseau", "coordinator", allow=(listed.actor,))
    runtime = coordinator.client.app[runtime_key]
    results = await sync_allow_list(runtime)
    assert [(r.followed, r.problem) for r in results] == [(listed.actor, None)]
    # a territory's admin asks by making their territory follow the coordinator
    await follow(asking.client.app[runtime_key], coordinator.actor)
    await pump(listed, asking, coordinator)
    assert [a.uri for a in await follow_requests(runtime)] == [asking.actor]
    result = await follow_territory(runtime, asking.actor)
    assert result.problem is None
    await pump(listed, asking, coordinator)
    assert await follow_requests(runtime) == []
    async with coordinator.client.app[sessions_key]() as session:
        followed = set(
            await session.scalars(
                select(Follow.followed_uri).where(
                    Follow.follower_uri == coordinator.actor, Follow.state == "accepted"
                )
            )
        )
    assert followed == {listed.actor, asking.actor}
    unknown = await follow_territory(runtime, "@personne@127.0.0.1:1")
    assert unknown.followed is None and unknown.problem
