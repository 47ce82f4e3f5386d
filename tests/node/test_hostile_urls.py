"""URLs from other servers and from forms never become live script links.

A followed remote actor whose profile, posts, polls, replies and Maillage objects (offers,
needs, proposals, decisions, experiments, evaluations) put `javascript:`, `data:` and
`vbscript:` URLs (also mixed case, or after blanks) in every URL-bearing field delivers them,
signed, through the real inbox to a node filled with the sample territory. Then every page
of the node, reached from every GET route and the links between pages, is read as a visitor
and as an admin: no href, src or action may have a scheme other than http(s) or mailto, and
nothing stored keeps such a link. The local forms that take a URL refuse them by field, and
texts holding them show no live link.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from instance_config import CONFIG_FILE_NAME
from instance_config.write import render_config_toml
from node.convert.remote_actors import actor_from_as
from node.demo.fill import fill_demo
from node.domain.forms import WEB_ADDRESS_EXPECTED
from node.storage.models import (
    Decision,
    Follow,
    InboxItem,
    Need,
    Note,
    Offer,
    Proposal,
    RemoteActor,
    RemoteObject,
)
from node.storage.remote import put_remote_actor
from node.web.app import create_app
from node.web.keys import inbox_worker_key, sessions_key
from protocols.activitystreams import PUBLIC
from protocols.keys import public_key_to_pem
from protocols.links import LINK_PROPERTIES
from tests.conftest import initialise
from tests.testrig.pages import crawl, example_path, resources, scheme_of, unsafe_links
from tests.testrig.people import HTML, HTTP_NODE, as_person, csrf_of, submit
from tests.testrig.remote import AS, FakeRemote, RemoteActorDoc, signed_post

BASE = HTTP_NODE["base_url"]
TEMPLATES = Path(__file__).resolve().parents[2] / "node" / "web" / "templates"
TERRITORY = f"{BASE}/actors/territoire"
HOSTILE = (
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    " JaVaScRiPt:alert(1)",
    "\tjavascript:alert(1)",
)
#: GET routes that no page links to, with the reason they are not crawled
NOT_CRAWLED = {
    "/join/{token}": "a one-time invitation link, shown once to the admin who makes it",
    "/reset/{token}": "a one-time password-reset link, shown once",
    "/activities/{id}": "ActivityPub JSON only, linked from no page",
    "/experiments/{id}/replications": "an ActivityPub collection, linked from no page",
    "/nodeinfo/{version}": "NodeInfo JSON, linked from /.well-known/nodeinfo (JSON)",
    "/actor/{collection}": "ActivityPub collections of the instance actor, JSON only",
    "/actors/{name}/{collection}": "ActivityPub collections of the actors, JSON only",
    "/indicators/{slug}/observations/{day}": "JSON for servers; browsers are redirected to the"
    " indicator's page",
    "/coordination/data/{dataset}.{suffix}": "a coordinator's CSV and JSON-LD, no page of links"
    " (tests/node/test_coordinator.py checks its pages)",
}


def hostile_fields(value: str) -> dict[str, Any]:
    """Every URL-bearing field of an ActivityStreams object, set to `value`."""
    return {
        "url": value,
        "icon": {"type": "Image", "url": value},
        "image": {"type": "Image", "url": value},
        "preview": {"type": "Link", "href": value},
        "context": value,
        "attachment": [
            {"type": "Document", "mediaType": "image/png", "url": value, "name": "image"},
            {"type": "Link", "href": value},
            {"type": "PropertyValue", "name": "Site", "value": f'<a href="{value}">site</a>'},
            value,
        ],
        "tag": [
            {"type": "Mention", "href": TERRITORY, "name": "@territoire"},
            {"type": "Hashtag", "href": value, "name": "#piege"},
        ],
    }


def hostile_object(
    actor: RemoteActorDoc, kind: str, number: int, value: str, **extra: Any
) -> dict[str, Any]:
    """A public object addressed to the territory, with hostile links everywhere."""
    return {
        "id": f"{actor.uri}/objects/{kind}-{number}",
        "type": "Note",
        "attributedTo": actor.uri,
        "to": [PUBLIC],
        "cc": [TERRITORY],
        "name": f"{kind} piégé {number}",
        "content": f'<p>{kind} piégé {number} <a href="{value}">lien</a><img src="{value}"></p>',
        "inReplyTo": value,
        **hostile_fields(value),
        **extra,
    }


def maillage_objects(actor: RemoteActorDoc, number: int, value: str) -> list[dict[str, Any]]:
    """Another node's offer, need, proposal, decision, experiment and evaluation."""
    return [
        hostile_object(
            actor,
            "offre",
            number,
            value,
            additionalType="vf:Proposal",
            purpose="offer",
            publishes={"type": "Intent", "action": "work", "provider": actor.uri},
            lifecycleState="open",
        ),
        *(
            hostile_object(
                actor,
                kind,
                number,
                value,
                type="Page",
                additionalType="tc:Proposal",
                proposalKind=kind,
                lifecycleState="open",
            )
            for kind in ("need", "proposal")
        ),
        hostile_object(
            actor,
            "decision",
            number,
            value,
            type="Question",
            additionalType="tc:Decision",
            oneOf=[{"type": "Note", "name": "Oui"}, {"type": "Note", "name": "Non"}],
        ),
        hostile_object(
            actor,
            "experiment",
            number,
            value,
            type="Article",
            additionalType="tc:Experiment",
            lifecycleState="running",
            wasDerivedFrom=value,
        ),
        hostile_object(
            actor,
            "evaluation",
            number,
            value,
            type="Article",
            additionalType="tc:Evaluation",
            evaluates=value,
        ),
    ]


def create(actor: RemoteActorDoc, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{document['id']}/create",
        "type": "Create",
        "actor": actor.uri,
        "to": [PUBLIC],
        "cc": [TERRITORY],
        "object": document,
    }


async def deliver(node: TestClient, actor: RemoteActorDoc, activity: dict[str, Any]) -> None:
    body, headers = signed_post(actor, f"{BASE}/inbox", activity)
    response = await node.post("/inbox", data=body, headers=headers)
    assert response.status == 202, await response.text()


async def apply_all(node: TestClient) -> None:
    worker = node.app[inbox_worker_key]
    for _ in range(50):
        if not await worker.run_once():
            return
    raise AssertionError("the inbox worker did not drain")


async def first(node: TestClient, model: Any, *where: Any) -> Any:
    async with node.app[sessions_key]() as session:
        return (await session.scalars(select(model).where(*where))).first()


async def local_targets(node: TestClient) -> dict[str, str]:
    """Objects of the sample territory that replies can answer, by page path -> URI."""
    targets = {}
    announcement = await first(node, Note, Note.local, Note.deleted_at.is_(None))
    targets[f"/notes/{announcement.id}"] = announcement.uri
    for model, prefix in ((Offer, "offers"), (Need, "needs"), (Proposal, "proposals")):
        row = await first(node, model)
        targets[f"/{prefix}/{row.id}"] = row.uri
    decision = await first(node, Decision)
    targets[f"/decisions/{decision.id}"] = decision.uri
    return targets


def hostile_actor_fields(value: str) -> dict[str, Any]:
    fields = hostile_fields(value)
    fields.pop("tag")
    fields["summary"] = f'<p>Bio <a href="{value}">lien</a></p>'
    return fields


@dataclass
class Hostile:
    """The node under test and the pages of its objects that received hostile replies."""

    node: TestClient
    replied: list[str]


@pytest.fixture
async def hostile(aiohttp_client: Any, make_config: Any, remote: FakeRemote) -> Hostile:
    """The sample territory, following `mallory` (and followed by her), who then sent
    hostile posts, polls, replies, objects and profile updates; an admin is logged in."""
    config = make_config(node=HTTP_NODE, federation={"allow_private_addresses": True})
    (config.data_dir / CONFIG_FILE_NAME).write_text(
        render_config_toml(config, config.database.url), encoding="utf-8"
    )
    await initialise(config)
    await fill_demo(config, {}, progress=lambda _: None)
    node = await aiohttp_client(create_app(config, workers=False))
    mallory = remote.add_actor("mallory", name="Mallory", extra=hostile_actor_fields(HOSTILE[0]))
    await as_person(node, "garde", "admin")
    followed = await submit(node, "/admin", "/admin/follow", target=mallory.uri)
    assert followed.status == 302, await followed.text()
    follow = await first(node, Follow, Follow.followed_uri == mallory.uri)
    accept = {"@context": AS, "type": "Accept", "actor": mallory.uri, "object": follow.activity_uri}
    await deliver(node, mallory, accept | {"id": f"{mallory.uri}/accepts/1"})
    following = {"@context": AS, "type": "Follow", "actor": mallory.uri, "object": TERRITORY}
    await deliver(node, mallory, following | {"id": f"{mallory.uri}/follows/1"})
    targets = await local_targets(node)
    for number, value in enumerate(HOSTILE):
        await deliver(
            node, mallory, create(mallory, hostile_object(mallory, "note", number, value))
        )
        poll = hostile_object(mallory, "sondage", number, value, type="Question")
        poll["oneOf"] = [{"type": "Note", "name": "Oui"}, {"type": "Note", "name": "Non"}]
        await deliver(node, mallory, create(mallory, poll))
        for path, uri in targets.items():
            kind = "réponse " + path.split("/")[1]
            reply = hostile_object(mallory, kind, number, value, inReplyTo=uri)
            reply["id"] = f"{mallory.uri}/objects/reply-{path.split('/')[1]}-{number}"
            await deliver(node, mallory, create(mallory, reply))
        for document in maillage_objects(mallory, number, value):
            await deliver(node, mallory, create(mallory, document))
        profile = mallory.document() | hostile_actor_fields(value)
        update = {"@context": AS, "type": "Update", "actor": mallory.uri, "object": profile}
        await deliver(node, mallory, update | {"id": f"{mallory.uri}/updates/{number}"})
    await apply_all(node)
    return Hostile(node, list(targets))


def assert_links_stored_are_web_links(rows: list[Any]) -> None:
    """No stored link column, nor any link property of a stored raw document, keeps a
    URL whose scheme is not http(s)."""
    pending: list[Any] = []
    for row in rows:
        for column in ("url", "icon_url", "in_reply_to"):
            value = getattr(row, column, None)
            assert value is None or scheme_of(value) in ("http", "https"), (row, column, value)
        raw = getattr(row, "raw", None)
        pending.append(json.loads(raw) if isinstance(raw, str) else raw)
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key in LINK_PROPERTIES and isinstance(value, str):
                    assert scheme_of(value) in ("http", "https"), (key, value)
                pending.append(value)


async def test_no_page_shows_a_hostile_remote_url_as_a_link(hostile: Hostile) -> None:
    node = hostile.node
    home = html.unescape(await (await node.get("/", headers=HTML)).text())
    assert "note piégé 4" in home and "sondage piégé 4" in home  # the posts did arrive
    offers = html.unescape(await (await node.get("/offers", headers=HTML)).text())
    assert "offre piégé 2" in offers
    async with node.app[sessions_key]() as session:
        stored = [
            *(await session.scalars(select(Note).where(~Note.local))),
            *(await session.scalars(select(RemoteObject))),
            *(await session.scalars(select(RemoteActor))),
        ]
        inbox = list(await session.scalars(select(InboxItem)))
    assert len(stored) > 40
    assert_links_stored_are_web_links(stored + inbox)

    plain = [example_path(r) for r in resources(node.app, "GET") if "path" in r.get_info()]
    seeds = plain + hostile.replied
    as_admin = await crawl(node, seeds, per_route=3)
    node.session.cookie_jar.clear()
    as_visitor = await crawl(node, seeds, per_route=3)
    assert as_admin.problems == [] and as_visitor.problems == []
    print(
        "DBG MISSING",
        sorted(
            {r.canonical for r in resources(node.app, "GET")}
            - set(as_admin.visited)
            - set(as_visitor.visited)
        ),
    )
    assert len(as_admin.pages) > 60 and "/admin" in as_admin.pages
    reached = set(as_admin.visited) | set(as_visitor.visited)
    every_route = {
        resource.canonical
        for resource in resources(node.app, "GET")
        # JSON for Mastodon apps (tests/node/test_client_api*.py), no page of links
        if not resource.canonical.startswith(("/api/", "/oauth/authorize"))
    }
    assert sorted(every_route - reached - set(NOT_CRAWLED)) == []


async def actor_form(node: TestClient, website: str) -> str:
    response = await submit(
        node,
        "/map/data",
        "/map/data/actors",
        name="Amis du lavoir",
        kind="association",
        website=website,
    )
    assert response.status == 400, website
    return html.unescape(await response.text())


async def test_local_forms_refuse_hostile_urls_and_texts_show_no_live_link(
    web_node: TestClient,
) -> None:
    node = web_node
    await as_person(node, "garde", "admin")
    for value in HOSTILE:
        page = await actor_form(node, value)
        assert f'role="alert" id="new-actor-website-error">{WEB_ADDRESS_EXPECTED}' in page
        adopt = await submit(
            node,
            "/experiments/adopt",
            "/experiments/adopt",
            url=value,
            adaptations="Aucune.",
            starts_on="2026-05-01",
            ends_on="2026-09-30",
        )
        assert adopt.status == 400 and WEB_ADDRESS_EXPECTED in html.unescape(await adopt.text())
        follow = await submit(node, "/admin", "/admin/follow", target=value)
        assert follow.status == 400
        upload_page = await (await node.get("/map/import", headers=HTML)).text()
        form = FormData()
        form.add_field("csrf", csrf_of(upload_page))
        rows = f'name,kind,website\nAmis du lavoir,association,"{value}"\n'
        form.add_field("actors", rows, filename="acteurs.csv", content_type="text/csv")
        imported = await node.post("/map/import", data=form, headers=HTML)
        assert imported.status == 400 and WEB_ADDRESS_EXPECTED in html.unescape(
            await imported.text()
        )
        for answer in (adopt, follow, imported):
            assert unsafe_links(await answer.text()) == []
        assert unsafe_links(page) == []
    text = " ".join(f'<a href="{value}">lien</a> {value.strip()}' for value in HOSTILE)
    need = await submit(node, "/needs/new", "/needs", title="Piège", text=text, theme="mobility")
    assert need.status == 302
    announced = await submit(node, "/admin", "/admin/announce", text=text)
    assert announced.status == 302
    profile = await submit(
        node, "/account/profile", "/account/profile", display_name="Garde", summary=text[:500]
    )
    assert profile.status == 302
    for path in (need.headers["Location"], "/", "/actors/garde"):
        page = await (await node.get(path, headers=HTML)).text()
        assert "lien" in page, path
        assert unsafe_links(page) == [], path


async def test_links_stored_before_the_check_existed_are_not_rendered(
    web_node: TestClient,
) -> None:
    """Rows written by an older node (or by hand) may hold hostile URLs: the pages' safe_url
    filter still shows none of them as a link."""
    node = web_node
    neighbour = "https://voisin.example/actors/territoire"
    async with node.app[sessions_key].begin() as session:
        session.add(
            RemoteActor(
                uri=neighbour,
                domain="voisin.example",
                type="Group",
                username="territoire",
                name="Voisinville",
                url=HOSTILE[0],
                icon_url=HOSTILE[1],
                inbox=f"{neighbour}/inbox",
                raw=json.dumps({"id": neighbour, "type": "Group"}),
            )
        )
        session.add(
            Follow(
                follower_uri=TERRITORY,
                followed_uri=neighbour,
                activity_uri=f"{BASE}/activities/follow-1",
                state="accepted",
            )
        )
        for number, value in enumerate(HOSTILE):
            session.add(
                Note(
                    uri=f"{value}//{number}" if number % 2 else f"{neighbour}/notes/{number}",
                    author_uri=neighbour,
                    url=value,
                    in_reply_to=value,
                    content=f"<p>ancien {number}</p>",
                )
            )
            for index, (kind, extra) in enumerate(
                [
                    ("vf:Proposal", {"purpose": "offer"}),
                    ("tc:Experiment", {}),
                    ("tc:Proposal", {"proposalKind": "need"}),
                    ("tc:Proposal", {"proposalKind": "proposal"}),
                ]
            ):
                session.add(
                    RemoteObject(
                        uri=f"https://voisin.example/objects/{index}-{number}",
                        kind=kind,
                        actor_uri=neighbour,
                        name=f"ancien {kind} {number}",
                        url=value,
                        raw=json.dumps({"url": value, **extra}),
                    )
                )
    for path in ("/", "/offers", "/experiments", "/needs", "/proposals", "/feed.atom"):
        page = html.unescape(await (await node.get(path, headers=HTML)).text())
        assert "ancien" in page or path == "/feed.atom", path
        assert unsafe_links(page) == [], path


def test_every_template_link_fed_by_a_value_goes_through_safe_url() -> None:
    fed = re.compile(r"""\b(?:href|src|action|formaction|poster)=["']?\{\{(.*?)\}\}""")
    unfiltered = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in fed.finditer(path.read_text(encoding="utf-8"))
        if "safe_url" not in match.group(1)
    ]
    assert unfiltered == []


async def test_outside_test_configuration_only_https_links_are_kept(
    client: TestClient, remote: FakeRemote
) -> None:
    """A production node (no private addresses, so no plain http) keeps https links of a
    received post and drops http ones; the sender's key was cached earlier (a production
    node cannot fetch it from the loopback fake server)."""
    mallory = remote.add_actor("mallory")
    async with client.app[sessions_key].begin() as session:
        await put_remote_actor(
            session,
            actor_from_as(mallory.document()),
            {mallory.key_id: public_key_to_pem(mallory.private_key.public_key())},
        )
    note = hostile_object(mallory, "note", 1, "http://peer.example/plain")
    note |= {"url": "https://peer.example/@mallory/1", "inReplyTo": "http://peer.example/n/0"}
    body, headers = signed_post(mallory, "https://saint-x.example/inbox", create(mallory, note))
    response = await client.post("/inbox", data=body, headers=headers)
    assert response.status == 202, await response.text()
    item = await first(client, InboxItem)
    stored = json.loads(item.raw)["object"]
    assert stored["url"] == "https://peer.example/@mallory/1"
    assert "inReplyTo" not in stored and "context" not in stored
    assert stored["image"] == stored["icon"] == {"type": "Image"}
    assert stored["attachment"] == [
        {"type": "Document", "mediaType": "image/png", "name": "image"},
        {"type": "Link"},
        {
            "type": "PropertyValue",
            "name": "Site",
            "value": '<a href="http://peer.example/plain">site</a>',
        },
    ]
