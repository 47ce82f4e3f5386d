"""The home page in French and English, with no external asset; health; error pages."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

HTML = {"Accept": "text/html"}


async def test_home_page_speaks_french_by_default(client: TestClient) -> None:
    response = await client.get("/", headers=HTML)
    assert response.status == 200
    page = await response.text()
    assert '<html lang="fr">' in page
    assert "<h1>Saint-X</h1>" in page
    assert "Suivre ce territoire depuis le fédivers" in page
    assert "@territoire@saint-x.example" in page
    assert response.headers["Content-Language"] == "fr"


async def test_home_page_follows_accept_language_and_the_switch(client: TestClient) -> None:
    page = await (
        await client.get("/", headers={**HTML, "Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    ).text()
    assert '<html lang="en">' in page and "Follow this territory from the fediverse" in page
    response = await client.get("/?lang=fr", headers={**HTML, "Accept-Language": "en"})
    assert '<html lang="fr">' in await response.text()
    assert response.cookies["lang"].value == "fr"
    # the cookie now wins over the browser's preference
    page = await (await client.get("/", headers={**HTML, "Accept-Language": "en"})).text()
    assert '<html lang="fr">' in page


async def test_pages_need_no_external_asset(client: TestClient) -> None:
    page = await (await client.get("/", headers=HTML)).text()
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith(("/", "#", "?")) or url.startswith("https://saint-x.example"), url
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        assert (await client.get(asset)).status == 200, asset
    css = await (await client.get("/static/style.css")).text()
    assert "url(" not in css and "@import" not in css


async def test_healthz_reports_the_database(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok"}


async def test_errors_are_clear_and_never_500(client: TestClient) -> None:
    for path, status in [
        ("/nope", 404),
        ("/actors/%00", 404),
        ("/nodeinfo/9.9", 404),
        ("/.well-known/webfinger?resource=%ff", 400),
    ]:
        response = await client.get(path, headers=HTML)
        assert response.status == status, path
    response = await client.post("/", data=b"x")
    assert response.status == 405 and "error" in await response.json()
