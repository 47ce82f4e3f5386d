"""Browser sessions end when they should, seen from two real browsers (two cookie jars) on
one served node: a login always opens a new session and ends the browser's previous one
(a session token planted before login is never the one signed in), a logout deletes the
session on the server (its token, replayed, signs nobody in), and a password change ends
every session of the account while the browser making the change gets a fresh one. The
apps' OAuth tokens outlive a password change, as on Mastodon (the resident revokes them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from node.storage.models import Account, WebSession
from node.web.auth import SESSION_COOKIE
from node.web.keys import sessions_key
from tests.testrig.people import HTML, add_account, log_in, submit

NEW_PASSWORD = "un-nouveau-mot-de-passe"


@pytest.fixture
async def other(web_node: TestClient) -> AsyncIterator[TestClient]:
    """A second browser on the same node: its own cookie jar."""
    browser = TestClient(web_node.server)
    await browser.start_server()
    yield browser
    await browser.session.close()


def token_of(browser: TestClient) -> str:
    """The session cookie a browser holds."""
    cookie = browser.session.cookie_jar.filter_cookies(browser.make_url("/")).get(SESSION_COOKIE)
    assert cookie is not None, "the browser holds no session cookie"
    return cookie.value


def plant(browser: TestClient, token: str) -> None:
    """Put a session cookie in a browser, as an attacker would before the victim logs in."""
    browser.session.cookie_jar.update_cookies({SESSION_COOKIE: token}, browser.make_url("/"))


async def signed_in_as(browser: TestClient) -> str | None:
    """Whose account the browser's session opens (None: sent to the login page)."""
    response = await browser.get("/account/profile", headers=HTML, allow_redirects=False)
    if response.status == 302:
        assert response.headers["Location"].startswith("/login")
        return None
    assert response.status == 200, await response.text()
    page = await response.text()
    return next(name for name in ("camille", "dominique") if name.title() in page)


async def sessions_of(node: TestClient, username: str) -> int:
    """How many server-side sessions the account has."""
    async with node.app[sessions_key]() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(WebSession)
                .join(Account, Account.id == WebSession.account_id)
                .where(Account.username == username)
            )
            or 0
        )


async def test_a_login_opens_a_new_session_and_ends_the_planted_one(
    web_node: TestClient, other: TestClient
) -> None:
    camille = await add_account(web_node, "camille")
    dominique = await add_account(web_node, "dominique")
    # Given the attacker's own session, planted in the victim's browser
    await log_in(other, "dominique", dominique)
    planted = token_of(other)
    plant(web_node, planted)
    assert await signed_in_as(web_node) == "dominique"
    # When the victim logs in on that browser
    await log_in(web_node, "camille", camille)
    # Then the browser holds a new session, the victim's, and the planted one has ended
    assert token_of(web_node) != planted
    assert await signed_in_as(web_node) == "camille"
    assert await signed_in_as(other) is None
    assert await sessions_of(web_node, "dominique") == 0


async def test_a_token_made_up_before_login_is_not_the_one_signed_in(
    web_node: TestClient, other: TestClient
) -> None:
    password = await add_account(web_node, "camille")
    plant(web_node, "made-up-by-an-attacker")
    await log_in(web_node, "camille", password)
    assert token_of(web_node) != "made-up-by-an-attacker"
    plant(other, "made-up-by-an-attacker")
    assert await signed_in_as(other) is None


async def test_logging_out_deletes_the_session_on_the_server(
    web_node: TestClient, other: TestClient
) -> None:
    await log_in(web_node, "camille", await add_account(web_node, "camille"))
    token = token_of(web_node)
    response = await submit(web_node, "/", "/logout")
    assert response.status == 302
    assert await signed_in_as(web_node) is None
    assert await sessions_of(web_node, "camille") == 0
    plant(other, token)  # the cookie, copied before the logout, opens nothing
    assert await signed_in_as(other) is None


async def test_a_password_change_ends_every_session_but_renews_the_changers(
    web_node: TestClient, other: TestClient
) -> None:
    password = await add_account(web_node, "camille")
    await log_in(web_node, "camille", password)
    await log_in(other, "camille", password)
    before = token_of(web_node)
    assert await sessions_of(web_node, "camille") == 2
    api_token = await password_grant(web_node, "camille", password)

    changed = await submit(
        web_node,
        "/account/password",
        "/account/password",
        current=password,
        new=NEW_PASSWORD,
        repeat=NEW_PASSWORD,
    )
    assert changed.status == 302, await changed.text()
    assert token_of(web_node) != before
    assert await signed_in_as(web_node) == "camille"
    assert await signed_in_as(other) is None
    assert await sessions_of(web_node, "camille") == 1
    plant(other, before)  # the changer's previous cookie has ended too
    assert await signed_in_as(other) is None
    # the app's token is kept, as Mastodon keeps it
    me = await web_node.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {api_token}"}
    )
    assert me.status == 200 and (await me.json())["username"] == "camille"


async def password_grant(node: TestClient, username: str, password: str) -> str:
    """An app's token for the account (the OAuth password grant)."""
    app: dict[str, Any] = await (
        await node.post(
            "/api/v1/apps",
            json={"client_name": "Essai", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        )
    ).json()
    response = await node.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": username,
            "password": password,
            "scope": "read",
        },
    )
    assert response.status == 200, await response.text()
    return str((await response.json())["access_token"])
