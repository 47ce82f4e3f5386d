"""Deeply nested JSON from outside (10,000 levels: 20 KB that exhausts any recursive parser,
and 800 levels, which Python's parser reads but which break what walks the result later) is
refused with a 4xx and a reason wherever it comes in: the inboxes, signed or not; every
other POST endpoint; form fields and uploaded files holding GeoJSON; documents the node
fetches (keys, actors, objects, WebFinger). No traceback reaches the log, and the node keeps
serving."""

from __future__ import annotations

import html
import json
import logging

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from node.web.keys import inbox_worker_key
from tests.node.test_inbox import note_create
from tests.testrig.pages import example_path, resources
from tests.testrig.people import HTML, HTTP_NODE, as_person, csrf_of, submit
from tests.testrig.remote import FakeRemote, RemoteActorDoc, signed_post

BASE = HTTP_NODE["base_url"]
INBOXES = ("/inbox", "/actor/inbox", "/actors/territoire/inbox")
DEPTHS = (10_000, 800)
ACTIVITY_JSON = {"Content-Type": "application/activity+json"}


def deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def deep_activity(actor: RemoteActorDoc, number: int, depth: int) -> bytes:
    """A valid Create whose note carries a deeply nested attachment."""
    text = json.dumps(note_create(actor, number, attachment="DEEP"))
    return text.replace('"DEEP"', deep_array(depth)).encode()


def deep_bodies(actor: RemoteActorDoc) -> dict[str, bytes]:
    bodies = {}
    for depth in DEPTHS:
        bodies[f"array {depth}"] = deep_array(depth).encode()
        bodies[f"object {depth}"] = deep_object(depth).encode()
        bodies[f"activity {depth}"] = deep_activity(actor, depth, depth)
    return bodies


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log records that carry a traceback or say something went wrong inside."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.exc_info or record.levelno >= logging.ERROR
    ]


@pytest.fixture
def node(web_node: TestClient, caplog: pytest.LogCaptureFixture) -> TestClient:
    """A node on plain http that may reach the loopback fake remote; every log kept."""
    caplog.set_level(logging.INFO)
    return web_node


async def accepts_a_normal_activity(node: TestClient, actor: RemoteActorDoc) -> bool:
    body, headers = signed_post(actor, f"{BASE}/inbox", note_create(actor, 1))
    return (await node.post("/inbox", data=body, headers=headers)).status == 202


@pytest.mark.parametrize("path", INBOXES)
async def test_deep_bodies_to_the_inboxes_are_400_signed_or_not(
    node: TestClient, remote: FakeRemote, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    alice = remote.add_actor("alice")
    for name, body in deep_bodies(alice).items():
        _, signed = signed_post(alice, BASE + path, body)
        for headers in (ACTIVITY_JSON, signed):
            response = await node.post(path, data=body, headers=headers)
            assert response.status == 400, (name, response.status, await response.text())
            assert "nested deeper than 64 levels" in (await response.json())["error"], name
    assert tracebacks(caplog) == []
    assert await accepts_a_normal_activity(node, alice)
    await node.app[inbox_worker_key].run_once()
    assert tracebacks(caplog) == []


async def test_deep_json_to_every_post_endpoint_is_refused_with_a_4xx(
    node: TestClient, remote: FakeRemote, caplog: pytest.LogCaptureFixture
) -> None:
    paths = [example_path(resource) for resource in resources(node.app, "POST")]
    assert len(paths) > 50 and "/offers" in paths and "/inbox" in paths
    for who in ("anonymous", "admin"):
        if who == "admin":
            await as_person(node, "admin-deep", "admin")
        for path in paths:
            for body in (deep_array(10_000), deep_object(10_000)):
                for content_type in ("application/json", "application/activity+json"):
                    response = await node.post(
                        path, data=body, headers={"Content-Type": content_type}
                    )
                    assert 400 <= response.status < 500, (who, path, response.status)
    assert tracebacks(caplog) == []
    assert (await node.get("/", headers=HTML)).status == 200


async def test_deep_geojson_in_a_form_field_or_an_uploaded_file_is_refused(
    node: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    await as_person(node, "margot", "facilitator")
    for depth in DEPTHS:
        response = await submit(
            node,
            "/map/data",
            "/map/data/places",
            name="Lavoir",
            kind="living_meeting_place",
            geometry=deep_array(depth),
        )
        assert response.status == 400
        assert "La géométrie n'est pas du GeoJSON lisible." in html.unescape(await response.text())
        page = await (await node.get("/map/import", headers=HTML)).text()
        form = FormData()
        form.add_field("csrf", csrf_of(page))
        form.add_field("geojson", deep_object(depth), filename="carte.geojson")
        response = await node.post("/map/import", data=form, headers=HTML)
        assert response.status == 400
        assert "Ce n'est pas du JSON lisible." in html.unescape(await response.text())
        rows = (
            "name,kind,latitude,longitude,geometry\n"
            + f'Lavoir,service_equipment,,,"{deep_array(depth)}"\n'
        )
        form = FormData()
        form.add_field("csrf", csrf_of(page))
        form.add_field("places", rows, filename="lieux.csv")
        response = await node.post("/map/import", data=form, headers=HTML)
        assert response.status == 400
        assert "La géométrie n'est pas du GeoJSON lisible." in html.unescape(await response.text())
    assert tracebacks(caplog) == []


async def test_deep_documents_the_node_fetches_are_refused_cleanly(
    node: TestClient, remote: FakeRemote, caplog: pytest.LogCaptureFixture
) -> None:
    await as_person(node, "admin-deep", "admin")
    alice = remote.add_actor("alice")
    for depth in DEPTHS:
        # a signing key whose actor document is deep: the activity is refused (401)
        deep = remote.add_actor(f"deep{depth}")
        remote.raw[deep.uri] = deep_array(depth).encode()
        body, headers = signed_post(deep, f"{BASE}/inbox", note_create(deep, 1))
        response = await node.post("/inbox", data=body, headers=headers)
        assert response.status == 401, await response.text()
        assert "cannot get the signing key" in (await response.json())["error"]
        # following an actor whose document is deep, by URL and by handle (deep WebFinger)
        response = await submit(node, "/admin", "/admin/follow", target=deep.uri)
        assert response.status == 400 and "nested deeper than 64 levels" in html.unescape(
            await response.text()
        )
        host = remote.base.removeprefix("http://")
        remote.raw[f"{remote.base}/.well-known/webfinger"] = deep_object(depth).encode()
        response = await submit(node, "/admin", "/admin/follow", target=f"deep{depth}@{host}")
        assert response.status == 400 and "nested deeper than 64 levels" in html.unescape(
            await response.text()
        )
        # adopting an experiment whose document is deep
        remote.raw[f"{remote.base}/objects/deep{depth}"] = deep_object(depth).encode()
        response = await submit(
            node,
            "/experiments/adopt",
            "/experiments/adopt",
            url=f"{remote.base}/objects/deep{depth}",
            adaptations="Les mêmes, en plus petit.",
            starts_on="2026-05-01",
            ends_on="2026-09-30",
        )
        assert response.status == 400
        assert "Impossible de lire une expérimentation à cette adresse." in html.unescape(
            await response.text()
        )
    assert tracebacks(caplog) == []
    assert await accepts_a_normal_activity(node, alice)
    assert (await node.get("/", headers=HTML)).status == 200
