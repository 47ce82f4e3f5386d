"""The admin's web path: one-time password, forced change, announce, CSRF, roles."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from node.services.accounts.passwords import hash_password
from node.storage.models import Account, OutboxEntry
from node.web.app import create_app
from node.web.keys import sessions_key
from tests.conftest import initialise

HTML = {"Accept": "text/html"}
# Cookies are Secure on https nodes; the test client speaks plain http, so the node does too.
HTTP_NODE = {"base_url": "http://saint-x.example"}


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def form(client: TestClient, page_path: str, action: str, **fields: str) -> Any:
    page = await (await client.get(page_path, headers=HTML)).text()
    return await client.post(action, data={"csrf": csrf_of(page), **fields}, allow_redirects=False)


async def test_admin_logs_in_changes_password_and_announces(
    aiohttp_client: Any, make_config: Any
) -> None:
    config = make_config(node=HTTP_NODE)
    credentials = await initialise(config)
    assert credentials is not None
    client = await aiohttp_client(create_app(config, workers=False))

    response = await client.get("/admin", headers=HTML, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/login?next=/admin"

    response = await form(client, "/login", "/login", username="admin", password="wrong")
    assert (
        response.status == 400 and "Identifiant ou mot de passe incorrect." in await response.text()
    )
    response = await form(
        client, "/login", "/login", username="admin", password=credentials.password, next="/admin"
    )
    assert response.status == 302 and response.headers["Location"] == "/account/password"

    # the one-time password must be replaced before anything else
    response = await client.get("/admin", headers=HTML, allow_redirects=False)
    assert response.headers["Location"] == "/account/password"
    response = await form(
        client,
        "/account/password",
        "/account/password",
        current=credentials.password,
        new="court",
        repeat="court",
    )
    assert response.status == 400 and "au moins 10 caractères" in await response.text()
    response = await form(
        client,
        "/account/password",
        "/account/password",
        current=credentials.password,
        new="un mot de passe solide",
        repeat="un mot de passe solide",
    )
    assert response.status == 302 and response.headers["Location"] == "/admin"

    # a form without the session's CSRF token is refused
    response = await client.post(
        "/admin/announce", data={"text": "sans jeton"}, allow_redirects=False
    )
    assert response.status == 403
    response = await form(client, "/admin", "/admin/announce", text="Fête du village dimanche")
    assert response.status == 302 and response.headers["Location"].startswith("/notes/")
    note_page = await (await client.get(response.headers["Location"], headers=HTML)).text()
    assert "Fête du village dimanche" in note_page
    async with client.app[sessions_key]() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(OutboxEntry).where(OutboxEntry.type == "Create")
            )
            == 1
        )

    response = await form(client, "/admin", "/admin/announce", text="   ")
    assert response.status == 400 and "the announcement is empty" in await response.text()

    response = await form(client, "/admin", "/logout")
    assert response.status == 302
    assert (await client.get("/admin", headers=HTML, allow_redirects=False)).status == 302


async def test_residents_cannot_reach_the_admin_page(aiohttp_client: Any, make_config: Any) -> None:
    config = make_config(node=HTTP_NODE)
    await initialise(config)
    client = await aiohttp_client(create_app(config, workers=False))
    async with client.app[sessions_key].begin() as session:
        session.add(
            Account(
                username="camille", password_hash=hash_password("camille-secret-1"), role="resident"
            )
        )
    response = await form(
        client, "/login", "/login", username="camille", password="camille-secret-1"
    )
    assert response.status == 302 and response.headers["Location"] == "/"
    response = await client.get("/admin", headers=HTML)
    assert response.status == 403 and "réservée aux administrateurs" in await response.text()
    response = await form(client, "/", "/admin/announce", text="usurpation")
    assert response.status == 403


async def test_login_never_redirects_to_another_site(aiohttp_client: Any, make_config: Any) -> None:
    config = make_config(node=HTTP_NODE)
    credentials = await initialise(config)
    assert credentials is not None
    client = await aiohttp_client(create_app(config, workers=False))
    async with client.app[sessions_key].begin() as session:
        admin = (await session.scalars(select(Account))).one()
        admin.must_change_password = False
    for target in ("https://evil.example/", "//evil.example/x"):
        response = await form(
            client, "/login", "/login", username="admin", password=credentials.password, next=target
        )
        assert response.headers["Location"] == "/"
