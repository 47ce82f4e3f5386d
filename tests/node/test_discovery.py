"""Discovery as Mastodon checks it: WebFinger, host-meta, NodeInfo, actors (interop.md 1-2)."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from protocols.keys import ed25519_from_multibase, load_public_key_pem
from tests.conftest import BASE_URL

AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
MASTODON_USERNAME = re.compile(r"\A[a-z0-9_]+([.-]+[a-z0-9_]+)*\Z", re.IGNORECASE)
TERRITORY = f"{BASE_URL}/actors/territoire"
INSTANCE = f"{BASE_URL}/actor"


async def webfinger(client: TestClient, resource: str) -> tuple[int, dict, dict]:
    response = await client.get("/.well-known/webfinger", params={"resource": resource})
    body = await response.json(content_type=None)
    return response.status, body, dict(response.headers)


@pytest.mark.parametrize(
    "resource",
    [
        "acct:territoire@saint-x.example",
        "territoire@saint-x.example",
        "@territoire@saint-x.example",
        "acct:TERRITOIRE@Saint-X.example",
        TERRITORY,
        f"{BASE_URL}/",
    ],
)
async def test_webfinger_resolves_the_territory(client: TestClient, resource: str) -> None:
    status, jrd, headers = await webfinger(client, resource)
    assert status == 200, jrd
    assert headers["Content-Type"].startswith("application/jrd+json")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert jrd["subject"] == "acct:territoire@saint-x.example"
    self_links = [link for link in jrd["links"] if link["rel"] == "self"]
    assert self_links == [{"rel": "self", "type": "application/activity+json", "href": TERRITORY}]
    assert any(link["rel"] == "http://webfinger.net/rel/profile-page" for link in jrd["links"])


async def test_webfinger_resolves_the_instance_actor(client: TestClient) -> None:
    status, jrd, _ = await webfinger(client, "acct:saint-x.example@saint-x.example")
    assert status == 200
    assert jrd["links"][0]["href"] == INSTANCE
    status, jrd, _ = await webfinger(client, INSTANCE)
    assert status == 200 and jrd["subject"] == "acct:saint-x.example@saint-x.example"


@pytest.mark.parametrize(
    "resource",
    [
        "acct:nobody@saint-x.example",
        "acct:territoire@other.example",
        "mailto:territoire@saint-x.example",
        "did:key:z6Mk",
        "https://other.example/actors/territoire",
        f"{BASE_URL}/actors/nobody",
        "xmpp:territoire@saint-x.example",
    ],
)
async def test_webfinger_unknown_resources_are_404(client: TestClient, resource: str) -> None:
    status, body, headers = await webfinger(client, resource)
    assert status == 404 and "error" in body
    assert headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "resource", ["", "acct:", "acct:nobody", "acct:@saint-x.example", "acct:a b@x", "x" * 3000]
)
async def test_webfinger_malformed_queries_are_400(client: TestClient, resource: str) -> None:
    status, body, _ = await webfinger(client, resource)
    assert status == 400 and body["error"]


async def test_webfinger_without_resource_is_400(client: TestClient) -> None:
    response = await client.get("/.well-known/webfinger")
    assert response.status == 400


async def test_host_meta_points_at_webfinger(client: TestClient) -> None:
    response = await client.get("/.well-known/host-meta")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/xrd+xml")
    assert f'template="{BASE_URL}/.well-known/webfinger?resource={{uri}}"' in await response.text()


async def test_nodeinfo_describes_the_territory(client: TestClient) -> None:
    links = await (await client.get("/.well-known/nodeinfo")).json()
    rels = {link["rel"]: link["href"] for link in links["links"]}
    assert rels["http://nodeinfo.diaspora.software/ns/schema/2.1"] == f"{BASE_URL}/nodeinfo/2.1"
    assert rels["https://www.w3.org/ns/activitystreams#Application"] == INSTANCE
    response = await client.get("/nodeinfo/2.1")
    assert response.headers["Content-Type"] == (
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    )
    info = await response.json(content_type=None)
    assert info["version"] == "2.1"
    assert re.fullmatch(r"[a-z0-9-]+", info["software"]["name"])
    assert info["protocols"] == ["activitypub"]
    assert info["openRegistrations"] is False
    assert info["usage"]["users"]["total"] == 1
    assert info["metadata"]["territory"] == {
        "name": "Saint-X",
        "handle": "territoire@saint-x.example",
        "role": "territory",
        "languages": ["fr", "en"],
        "level": "commune",
    }
    assert (await client.get("/nodeinfo/2.0")).status == 200
    assert (await client.get("/nodeinfo/3.0")).status == 404


async def fetch_actor(client: TestClient, url: str, headers: dict) -> dict:
    response = await client.get(url.removeprefix(BASE_URL), headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "application/activity+json"
    return await response.json(content_type=None)


@pytest.mark.parametrize("accept", [AP, LD, {"Accept": "application/json"}])
@pytest.mark.parametrize(("url", "kind"), [(TERRITORY, "Group"), (INSTANCE, "Application")])
async def test_actors_pass_mastodon_checks(
    client: TestClient, url: str, kind: str, accept: dict
) -> None:
    actor = await fetch_actor(client, url, accept)
    assert actor["id"] == url
    assert actor["type"] == kind
    context = actor["@context"]
    assert "https://www.w3.org/ns/activitystreams" in (
        context if isinstance(context, list) else [context]
    )
    assert all(isinstance(c, dict) or c.startswith("https://") for c in context)
    assert MASTODON_USERNAME.match(actor["preferredUsername"])
    for name in ("inbox", "outbox", "followers", "following"):
        assert actor[name].startswith(url + "/")
    assert actor["endpoints"]["sharedInbox"] == f"{BASE_URL}/inbox"
    assert actor["discoverable"] is True and actor["indexable"] is True
    assert actor["icon"]["mediaType"] == "image/png"
    key = actor["publicKey"]
    assert key["id"] == f"{url}#main-key" and key["owner"] == url
    public = load_public_key_pem(key["publicKeyPem"])
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    (multikey,) = actor["assertionMethod"]
    assert multikey["type"] == "Multikey" and multikey["controller"] == url
    assert isinstance(
        ed25519_from_multibase(multikey["publicKeyMultibase"]), ed25519.Ed25519PublicKey
    )


async def test_territory_actor_carries_the_project_vocabulary(client: TestClient) -> None:
    actor = await fetch_actor(client, TERRITORY, AP)
    assert actor["additionalType"] == "tc:Territory"
    assert actor["territoryLevel"] == "commune"
    assert actor["name"] == "Saint-X"
    assert actor["summary"] == "<p>Un village de test.<br>Deux lignes.</p>"
    assert actor["url"] == f"{BASE_URL}/"
    assert actor["manuallyApprovesFollowers"] is False
    inline = [c for c in actor["@context"] if isinstance(c, dict)]
    assert inline and "additionalType" in inline[-1]


async def test_the_same_key_is_served_every_time(client: TestClient) -> None:
    first = await fetch_actor(client, TERRITORY, AP)
    second = await fetch_actor(client, TERRITORY, AP)
    assert first["publicKey"] == second["publicKey"]
    instance = await fetch_actor(client, INSTANCE, AP)
    assert instance["publicKey"]["publicKeyPem"] != first["publicKey"]["publicKeyPem"]


async def test_collections_are_paged_ordered_collections(client: TestClient) -> None:
    for name in ("outbox", "followers", "following", "featured"):
        collection = await fetch_actor(client, f"{TERRITORY}/{name}", AP)
        assert collection["type"] == "OrderedCollection" and collection["totalItems"] == 0
        assert collection["first"]
        page = await fetch_actor(client, collection["first"], AP)
        assert page["type"] == "OrderedCollectionPage" and page["partOf"] == collection["id"]


async def test_browsers_get_html_from_actor_urls(client: TestClient) -> None:
    response = await client.get(
        "/actors/territoire", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert response.status == 302 and response.headers["Location"] == "/"
    response = await client.get("/actors/admin", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status == 200 and response.content_type == "text/html"
    assert "@admin@saint-x.example" in await response.text()


async def test_unknown_actor_is_404_for_machines_and_people(client: TestClient) -> None:
    response = await client.get("/actors/nobody", headers=AP)
    assert response.status == 404 and (await response.json())["error"]
    response = await client.get("/actors/nobody", headers={"Accept": "text/html"})
    assert response.status == 404 and "Page introuvable" in await response.text()
    response = await client.get("/actors/saint-x.example", headers=AP)
    assert response.status == 404  # the instance actor lives at /actor only
