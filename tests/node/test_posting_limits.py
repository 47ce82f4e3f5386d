"""Posting limits per resident and hour, through the real forms and the real client API:
past the limit the form comes back with when to post again (429, Retry-After, French and
English), the app gets Mastodon's 429; the admin sees what was refused."""

from __future__ import annotations

import html
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from node.storage.models import Need, Note, Offer
from node.web.app import create_app
from tests.conftest import initialise
from tests.node.test_client_api_wire import bearer, user_token
from tests.node.test_inbox import count
from tests.node.test_offers import LEND
from tests.testrig.people import HTML, HTTP_NODE, as_person, csrf_of, submit

LIMITS = {"needs_per_hour": 2, "comments_per_hour": 1, "offers_per_hour": 1}
NEED = {"title": "Navette vers la gare", "text": "Le samedi, pas de bus.", "theme": "mobility"}


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    config = make_config(node=HTTP_NODE, limits=LIMITS)
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


async def test_needs_past_the_hourly_limit_are_refused_with_when_to_retry(
    node: TestClient, aiohttp_client: Any
) -> None:
    await as_person(node, "camille")
    for _ in range(2):
        assert (await submit(node, "/needs/new", "/needs", **NEED)).status == 302
    refused = await submit(node, "/needs/new", "/needs", **NEED)
    assert refused.status == 429 and 3500 < int(refused.headers["Retry-After"]) <= 3600
    page = html.unescape(await refused.text())
    assert "Vous avez exprimé 2 besoins dans l'heure" in page and "(dans 60 min)" in page
    assert 'value="Navette vers la gare"' in page, "the form comes back, filled in"
    english = await node.post(
        "/needs?lang=en",
        data={"csrf": csrf_of(page), **NEED},
        headers={**HTML, "Accept-Language": "en"},
    )
    assert english.status == 429 and "You expressed 2 needs within the hour" in html.unescape(
        await english.text()
    )
    assert await count(node, Need) == 2
    # another resident is not concerned
    other = await aiohttp_client(node.server)
    await as_person(other, "remi")
    assert (await submit(other, "/needs/new", "/needs", **NEED)).status == 302


async def test_comments_and_offers_past_the_limit_are_refused_on_their_pages(
    node: TestClient,
) -> None:
    await as_person(node, "camille")
    created = await submit(node, "/needs/new", "/needs", **NEED)
    path = created.headers["Location"]
    first = await submit(node, path, f"{path}/comments", comment="Je prendrais la navette.")
    assert first.status == 302
    second = await submit(node, path, f"{path}/comments", comment="Moi aussi !")
    assert second.status == 429 and "Retry-After" in second.headers
    assert "1 commentaires dans l'heure" in html.unescape(await second.text())
    assert await count(node, Note) == 1

    assert (await submit(node, "/offers/new", "/offers", **LEND)).status == 302
    offer = await submit(node, "/offers/new", "/offers", **LEND)
    assert offer.status == 429 and "1 offres ou demandes" in html.unescape(await offer.text())
    assert await count(node, Offer) == 1

    await as_person(node, "admin-x", "admin")
    page = html.unescape(await (await node.get("/admin/refusals", headers=HTML)).text())
    assert "Publication : trop de commentaires ou de messages" in page
    assert "Publication : trop d'offres et de demandes" in page and "<code>camille</code>" in page
    english = await (await node.get("/admin/refusals?lang=en", headers=HTML)).text()
    assert "Posting: too many comments or posts" in english and "Refusals by the limits" in english
    admin = await (await node.get("/admin", headers=HTML)).text()
    assert 'href="/admin/refusals"' in admin


async def test_app_posts_past_the_limit_get_mastodons_429(node: TestClient) -> None:
    token = await user_token(node)
    first = await node.post("/api/v1/statuses", json={"status": "un"}, headers=bearer(token))
    assert first.status == 200, await first.text()
    second = await node.post("/api/v1/statuses", json={"status": "deux"}, headers=bearer(token))
    assert second.status == 429 and "Retry-After" in second.headers
    assert "limit of 1 an hour" in (await second.json())["error"]


async def test_only_admins_see_the_refusals(node: TestClient) -> None:
    await as_person(node, "camille")
    assert (await node.get("/admin/refusals", headers=HTML)).status == 403
