"""A form on another site cannot act for a signed-in resident or admin.

The browser holds the admin's session cookie; another site's page posts a form to the node
(a new need, a comment, the admin's announcement and domain blocks, the logout). Without
the session's CSRF token it is refused with 403; and, in depth, so is a post that carries
the token but that the browser says comes from another site (`Origin`, or
`Sec-Fetch-Site`). Nothing changes. The node's own pages still post their forms, and the
endpoints for servers and apps (the inbox, the client API, OAuth tokens) are not pages:
another origin may call them.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.testrig.people import HTML, HTTP_NODE, as_person, csrf_of, submit

OWN_ORIGIN = HTTP_NODE["base_url"]
EVIL = "https://evil.example"
ATTACK = "attaque"


async def page(node: TestClient, path: str) -> str:
    response = await node.get(path, headers=HTML)
    assert response.status == 200, (path, response.status)
    return await response.text()


@pytest.fixture
async def admin(web_node: TestClient) -> tuple[TestClient, str]:
    """The admin signed in, and a need of theirs (its path)."""
    await as_person(web_node, "garde", "admin")
    need = await submit(
        web_node, "/needs/new", "/needs", title="Navette", text="Pas de bus.", theme="mobility"
    )
    assert need.status == 302, await need.text()
    return web_node, need.headers["Location"]


def forms(need: str) -> dict[str, tuple[str, dict[str, str], str]]:
    """Form posts an attacker would make: action, fields, and the page that would show it."""
    return {
        "new need": ("/needs", {"title": ATTACK, "text": ATTACK, "theme": "mobility"}, "/needs"),
        "comment": (f"{need}/comments", {"comment": ATTACK}, need),
        "announcement": ("/admin/announce", {"text": ATTACK}, "/"),
        "domain block": (
            "/admin/domain-blocks",
            {"domain": f"{ATTACK}.example", "severity": "suspend"},
            "/admin/domain-blocks",
        ),
        "logout": ("/logout", {}, "/admin"),
    }


CROSS_SITE = {
    "foreign Origin, no token": ({"Origin": EVIL}, False),
    "foreign Origin, with the token": ({"Origin": EVIL}, True),
    "Origin null, with the token": ({"Origin": "null"}, True),
    "Sec-Fetch-Site cross-site, with the token": ({"Sec-Fetch-Site": "cross-site"}, True),
    "no Origin, no token": ({}, False),
}


async def test_forms_posted_from_another_site_are_refused(admin: tuple[TestClient, str]) -> None:
    node, need = admin
    token = csrf_of(await page(node, "/"))
    refused: dict[str, int] = {}
    for form, (action, fields, _) in forms(need).items():
        for case, (headers, with_token) in CROSS_SITE.items():
            data = {**fields, **({"csrf": token} if with_token else {})}
            response = await node.post(
                action, data=data, headers={**HTML, **headers}, allow_redirects=False
            )
            refused[f"{form}: {case}"] = response.status
    assert refused == dict.fromkeys(refused, 403)
    # nothing was done: the admin is still signed in and no page shows the attack
    for _, _, shown_on in forms(need).values():
        assert ATTACK not in await page(node, shown_on), shown_on


async def test_the_nodes_own_forms_still_work(admin: tuple[TestClient, str]) -> None:
    node, need = admin
    token = csrf_of(await page(node, need))
    headers = {**HTML, "Origin": OWN_ORIGIN, "Sec-Fetch-Site": "same-origin"}
    comment = await node.post(
        f"{need}/comments",
        data={"csrf": token, "comment": "Je prendrais la navette."},
        headers=headers,
        allow_redirects=False,
    )
    assert comment.status == 302, await comment.text()
    assert "Je prendrais la navette." in await page(node, need)
    # a node reached under another name than its base URL's (127.0.0.1, not saint-x.example)
    reached_as = str(node.make_url("")).rstrip("/")
    again = await node.post(
        f"{need}/comments",
        data={"csrf": token, "comment": "Moi aussi."},
        headers={**HTML, "Origin": reached_as},
        allow_redirects=False,
    )
    assert again.status == 302, await again.text()
    typed = {**HTML, "Sec-Fetch-Site": "none"}  # a browser without Origin on this request
    logout = await node.post("/logout", data={"csrf": token}, headers=typed, allow_redirects=False)
    assert logout.status == 302
    assert (await node.get("/admin", headers=HTML, allow_redirects=False)).status == 302


async def test_servers_and_apps_may_post_from_another_origin(web_node: TestClient) -> None:
    headers = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
    inbox = await web_node.post("/inbox", json={"type": "Follow"}, headers=headers)
    assert inbox.status in (400, 401), await inbox.text()  # refused for its signature
    app: Any = await web_node.post(
        "/api/v1/apps",
        json={"client_name": "Web app", "redirect_uris": "https://app.example/cb"},
        headers=headers,
    )
    assert app.status == 200, await app.text()
    assert app.headers["Access-Control-Allow-Origin"] == "*"
    registered = await app.json()
    token = await web_node.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": registered["client_id"],
            "client_secret": registered["client_secret"],
        },
        headers=headers,
    )
    assert token.status == 200, await token.text()
    revoke = await web_node.post(
        "/oauth/revoke",
        data={
            "client_id": registered["client_id"],
            "client_secret": registered["client_secret"],
            "token": (await token.json())["access_token"],
        },
        headers=headers,
    )
    assert revoke.status == 200, await revoke.text()
