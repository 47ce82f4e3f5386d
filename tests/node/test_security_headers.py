"""Every answer of the node carries its security headers, and no page needs an inline style
or a script that its Content-Security-Policy would block.

The node filled with the sample territory is walked from every GET route (each route's
path with made-up parameters, then the links between pages, as an admin and as a visitor):
pages, redirects, JSON documents, the client API and error answers alike carry the policy,
nosniff, no framing, same-origin referrers and `Server: Maillage`. HSTS is sent by https
nodes only. The OAuth consent page lets its form lead to the app's redirect URI (browsers
apply form-action to the redirect that follows the form). The templates, and the SVG drawn
in Python, hold no `style=` attribute, `<style>` or `<script>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from instance_config import CONFIG_FILE_NAME
from instance_config.write import render_config_toml
from node.demo.fill import fill_demo
from node.web.app import create_app
from node.web.security_headers import origin_source
from tests.conftest import initialise
from tests.testrig.pages import crawl, example_path, resources
from tests.testrig.people import HTML, HTTP_NODE, add_account, as_person, log_in

WEB = Path(__file__).resolve().parents[2] / "node" / "web"
POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
FIXED = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Server": "Maillage",
}
HSTS = "Strict-Transport-Security"


def missing_headers(headers: Mapping[str, str]) -> dict[str, str | None]:
    """The expected headers an answer lacks or sends with another value."""
    wrong = {name: headers.get(name) for name, value in FIXED.items() if headers.get(name) != value}
    if HSTS in headers:
        wrong[HSTS] = headers[HSTS]  # an http node must not send it
    return wrong


class _InlineStyleOrScript(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.found.append(f"<{tag}>")
        self.found += [f"<{tag} {name}=...>" for name, _ in attrs if name == "style"]
        self.found += [f"<{tag} {name}=...>" for name, _ in attrs if name.startswith("on")]


def inline_style_or_script(page: str) -> list[str]:
    """The elements and attributes of a page that the policy blocks."""
    parser = _InlineStyleOrScript()
    parser.feed(page)
    parser.close()
    return parser.found


@pytest.fixture
async def sample(aiohttp_client: Any, make_config: Any) -> TestClient:
    """The sample territory on an http node (the test client speaks http)."""
    config = make_config(node=HTTP_NODE)
    (config.data_dir / CONFIG_FILE_NAME).write_text(
        render_config_toml(config, config.database.url), encoding="utf-8"
    )
    await initialise(config)
    await fill_demo(config, {}, progress=lambda _: None)
    return await aiohttp_client(create_app(config, workers=False))


async def test_every_answer_of_every_get_route_carries_the_security_headers(
    sample: TestClient,
) -> None:
    gets = resources(sample.app, "GET")
    seeds = [example_path(resource) for resource in gets]
    await as_person(sample, "garde", "admin")
    as_admin = await crawl(sample, seeds, per_route=3)
    sample.session.cookie_jar.clear()
    as_visitor = await crawl(sample, seeds, per_route=3)

    answers = {**as_visitor.headers, **{f"admin {p}": h for p, h in as_admin.headers.items()}}
    assert len(as_admin.pages) > 60 and len(answers) > 200
    reached = set(as_admin.visited) | set(as_visitor.visited)
    assert {resource.canonical for resource in gets} <= reached
    wrong = {path: missing for path, h in answers.items() if (missing := missing_headers(h))}
    assert wrong == {}
    pages = {**as_visitor.pages, **{f"admin {p}": page for p, page in as_admin.pages.items()}}
    blocked = {
        path: found for path, page in pages.items() if (found := inline_style_or_script(page))
    }
    assert blocked == {}


async def test_static_files_errors_and_the_inbox_say_server_maillage(client: TestClient) -> None:
    answers = {
        "page": await client.get("/", headers=HTML),
        "404 page": await client.get("/no-such-page", headers=HTML),
        "404 json": await client.get("/no-such-page"),
        "405": await client.put("/"),
        "static": await client.get("/static/style.css"),
        "missing static": await client.get("/static/nothing.css"),
        "inbox": await client.post("/inbox", data=b"{}"),
        "api": await client.get("/api/v1/instance"),
        "api preflight": await client.options("/api/v1/instance"),
    }
    for name, response in answers.items():
        assert response.headers["Server"] == "Maillage", name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers[HSTS] == "max-age=31536000", name  # the test node is https
        assert "aiohttp" not in response.headers["Server"].lower(), name
    assert answers["static"].status == 200 and answers["inbox"].status in (400, 401)
    # the client API keeps its CORS answers for web apps
    assert answers["api preflight"].headers["Access-Control-Allow-Origin"] == "*"


async def test_an_http_node_sends_no_hsts(web_node: TestClient) -> None:
    response = await web_node.get("/", headers=HTML)
    assert HSTS not in response.headers
    assert response.headers["Content-Security-Policy"] == POLICY


async def test_the_map_tile_server_is_an_allowed_image_source(
    aiohttp_client: Any, make_config: Any
) -> None:
    config = make_config(map={"tile_url": "https://{s}.tiles.example:8443/{z}/{x}/{y}.png"})
    await initialise(config)
    node = await aiohttp_client(create_app(config, workers=False))
    policy = (await node.get("/map", headers=HTML)).headers["Content-Security-Policy"]
    assert "img-src 'self' https://a.tiles.example:8443;" in policy


async def test_cookies_are_secure_httponly_and_lax_on_an_https_node(client: TestClient) -> None:
    password = await add_account(client, "camille")
    login = await client.get("/login", headers=HTML)
    anonymous = login.cookies["csrf"]
    # the test client speaks http: it would not send Secure cookies back by itself
    signed = await client.post(
        "/login",
        data={"csrf": anonymous.value, "username": "camille", "password": password},
        headers={"Cookie": f"csrf={anonymous.value}"},
        allow_redirects=False,
    )
    assert signed.status == 302
    for cookie in (anonymous, signed.cookies["maillage_session"]):
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax", cookie


async def test_cookies_are_not_secure_on_an_http_node(web_node: TestClient) -> None:
    cookie = (await web_node.get("/login", headers=HTML)).cookies["csrf"]
    assert not cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


async def register_app(node: TestClient, redirect: str) -> str:
    """Register an app through the client API; returns its client id."""
    response = await node.post(
        "/api/v1/apps", data={"client_name": "App", "redirect_uris": redirect, "scopes": "read"}
    )
    assert response.status == 200, await response.text()
    return str((await response.json())["client_id"])


@pytest.mark.parametrize(
    ("redirect", "form_action"),
    [
        ("tusky://oauth", "form-action 'self' tusky:"),
        ("https://app.example/oauth/callback?x=1", "form-action 'self' https://app.example"),
        ("http://127.0.0.1:8123/", "form-action 'self' http://127.0.0.1:8123"),
        ("urn:ietf:wg:oauth:2.0:oob", "form-action 'self'"),
    ],
)
async def test_the_oauth_consent_form_may_lead_to_the_apps_redirect_uri(
    web_node: TestClient, redirect: str, form_action: str
) -> None:
    client_id = await register_app(web_node, redirect)
    await log_in(web_node, "camille", await add_account(web_node, "camille"))
    query = {"client_id": client_id, "redirect_uri": redirect, "response_type": "code"}
    consent = await web_node.get("/oauth/authorize", params=query, headers=HTML)
    assert consent.status == 200, await consent.text()
    policy = consent.headers["Content-Security-Policy"]
    assert policy.endswith(form_action), policy
    # every other page keeps the strict policy
    assert (await web_node.get("/", headers=HTML)).headers["Content-Security-Policy"] == POLICY


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example; script-src *",
        "https://app.example'/x",
        "https://user@app.example/",
        "https://app .example/",
        "java script://x",
        "",
    ],
)
def test_a_source_that_cannot_be_written_safely_is_left_out(url: str) -> None:
    assert origin_source(url) is None


#: Python modules that draw SVG or HTML into pages.
DRAWING = [WEB / "charts.py", WEB / "bars.py", *sorted((WEB / "mapsvg").glob("*.py"))]
BLOCKED = re.compile(r"""\sstyle\s*=|<style\b|<script\b|\son[a-z]+\s*=\s*["']""", re.IGNORECASE)


def test_no_template_nor_drawing_code_holds_an_inline_style_or_a_script() -> None:
    files = [*sorted((WEB / "templates").rglob("*.html")), *DRAWING]
    assert len(files) > 50
    found = [
        f"{path.relative_to(WEB)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BLOCKED.search(line)
    ]
    assert found == [], "move these to static/style.css (the CSP blocks them):\n" + "\n".join(found)
