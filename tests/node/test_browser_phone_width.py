"""Every page at phone width (375 x 800) in a real browser, on a served node of the sample
commune: nothing scrolls sideways, for a visitor and for the admin.

The pages are the application's own GET routes: the plain ones are visited, and each route
with a parameter (a need, a decision, a place, an indicator...) through the links the pages
show, a few of each. A route that no page links to fails the test unless it is listed in
UNLINKED with a reason, so that a new page is measured as soon as it exists. A page that is
too wide is reported with the outermost elements that stick out. The home page's screenshot
goes to test-artifacts/phone-home-fr.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from instance_config import load_config
from node.web.app import create_app
from tests.node.test_browser_resident import submit
from tests.testrig.browser import screenshot
from tests.testrig.nodes import MaillageNode

WIDTH = 375
ADMIN_PASSWORD = "Un-ecran-de-telephone-2026"
#: pages visited per route with a parameter, and in all (a bound on the crawl)
PER_ROUTE = 3
MAX_PAGES = 400
#: routes no page links to, visited at these addresses (an unknown token gets its page too)
SEEDS = ("/join/no-such-invitation", "/reset/no-such-reset", "/nodeinfo/2.1")
#: routes that are not pages for people and that no page links to
UNLINKED = {
    "/activities/{id}": "ActivityPub activities, for servers only",
    "/actor/{collection}": "the instance actor's collections, for servers only",
    "/actors/{name}/{collection}": "actors' collections, for servers only",
    "/experiments/{id}/replications": "a collection for servers; people see the experiment",
    "/indicators/{slug}/observations/{day}": "for servers; people go to the indicator's row",
    "/coordination/data/{dataset}.{suffix}": "a coordinator's open data (CSV, JSON-LD), "
    "linked from its pages only (tests/node/test_coordinator.py reads it)",
    "/decisions/remote/{id}": "a followed territory's decision: the demo follows none "
    "(tests/node/test_neighbour.py reads it)",
}

#: the Mastodon client API's paths: apps call them, people do not browse them
CLIENT_API = ("/api/", "/oauth/", "/.well-known/oauth-authorization-server")

#: The outermost elements that stick out of the viewport (their parent does not, or it keeps
#: them inside: an SVG drawing, a scrolling box that is their containing block).
OFFENDERS = """(width) => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim()
       ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const path = (el) => { const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement)
      parts.unshift(name(e));
    return parts.join(' > '); };
  const placed = (style) => ['absolute', 'fixed'].includes(style.position);
  const kept = (el) => {
    let escaping = placed(getComputedStyle(el));
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (escaping && style.position !== 'static') escaping = false;
      if (!escaping && (e instanceof SVGElement || style.overflowX !== 'visible')) return true;
      if (placed(style)) escaping = true;
    }
    return false; };
  const out = (el) => el !== document.body && el.getClientRects().length > 0
    && el.getBoundingClientRect().right > width + 0.5 && !kept(el);
  return Array.from(document.body.querySelectorAll('*'))
    .filter(el => out(el) && !out(el.parentElement))
    .slice(0, 5)
    .map(el => `${path(el)} (right edge ${Math.round(el.getBoundingClientRect().right)} px: `
      + `${JSON.stringify((el.textContent || '').trim().slice(0, 50))})`);
}"""


@dataclass
class Crawl:
    """What one person's walk through the pages found."""

    who: str
    visited: set[str] = field(default_factory=set)
    too_wide: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Route:
    """One GET route of the application: its path, and a pattern for paths with parameters."""

    path: str
    pattern: re.Pattern[str] | None

    def matches(self, path: str) -> bool:
        if self.pattern is None:
            return path == self.path
        return self.pattern.fullmatch(path) is not None


def get_routes(data: Path) -> list[Route]:
    """The application's GET routes, as `create_app` wires them (static files aside)."""
    app = create_app(load_config(data, {}), workers=False)
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        if route.method != "GET" or "directory" in info:
            continue
        if (info.get("formatter") or info["path"]).startswith(CLIENT_API):
            continue  # JSON for Mastodon apps, and the authorization page they open
        routes.append(Route(info.get("formatter") or info["path"], info.get("pattern")))
    return routes


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaillageNode]:
    """A served node filled with the sample commune by `maillage demo`."""
    node = MaillageNode(tmp_path_factory.mktemp("phone"), "Saint-Aubin-sur-Loire")
    node.cli("demo")
    node.start()
    yield node
    node.stop()


def open_phone(browser: Any, crawl: Crawl) -> Any:
    """A page in a new phone-sized context (its own cookies), noting every 5xx answer."""
    context = browser.new_context(locale="fr-FR", viewport={"width": WIDTH, "height": 800})
    context.set_default_timeout(15_000)
    context.on(
        "response",
        lambda r: crawl.server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    return context.new_page()


def log_in_as_admin(page: Any, node: MaillageNode) -> None:
    """Log in with the one-time password of `maillage init`, then choose a new one."""
    page.goto(node.base + "/login")
    page.get_by_label("Identifiant").fill("admin")
    page.get_by_label("Mot de passe").fill(node.one_time_password)
    submit(page, "Se connecter")
    page.get_by_label("Mot de passe actuel").fill(node.one_time_password)
    page.get_by_label("Nouveau mot de passe (10 caractères au moins)").fill(ADMIN_PASSWORD)
    page.get_by_label("Nouveau mot de passe, à nouveau").fill(ADMIN_PASSWORD)
    submit(page, "Enregistrer")


LINKS = """() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"""


def walk(page: Any, node: MaillageNode, routes: list[Route], crawl: Crawl) -> None:
    """Visit every plain route, the seeds, and up to PER_ROUTE linked paths of each route
    with parameters; measure each HTML page's width."""
    queue = [r.path for r in routes if r.pattern is None] + list(SEEDS)
    per_route: dict[str, int] = {}
    while queue and len(crawl.visited) < MAX_PAGES:
        path = queue.pop(0)
        if path in crawl.visited:
            continue
        route = next((r for r in routes if r.matches(path)), None)
        if route is None or per_route.get(route.path, 0) >= PER_ROUTE:
            continue
        per_route[route.path] = per_route.get(route.path, 0) + 1
        crawl.visited.add(path)
        answer = page.context.request.get(node.base + path, headers={"Accept": "text/html"})
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue  # a download or a document for servers
        page.goto(node.base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            offenders = page.evaluate(OFFENDERS, WIDTH)
            crawl.too_wide.append(f"{crawl.who} {path}: {width} px wide; " + "; ".join(offenders))
        for link in page.evaluate(LINKS):
            parts = urlsplit(link)
            if f"{parts.scheme}://{parts.netloc}" == node.base and parts.path not in crawl.visited:
                queue.append(parts.path)


def test_no_page_scrolls_sideways_at_phone_width(browser: Any, served: MaillageNode) -> None:
    routes = get_routes(served.data)
    visitor, admin = Crawl("visitor"), Crawl("admin")
    anonymous = open_phone(browser, visitor)
    walk(anonymous, served, routes, visitor)
    anonymous.goto(served.base + "/")
    screenshot(anonymous, "phone-home-fr")
    signed_in = open_phone(browser, admin)
    log_in_as_admin(signed_in, served)
    walk(signed_in, served, routes, admin)
    anonymous.context.close()
    signed_in.context.close()

    visited = visitor.visited | admin.visited
    reached = {r.path for r in routes if any(r.matches(path) for path in visited)}
    unreached = sorted({r.path for r in routes} - reached - UNLINKED.keys())
    assert not unreached, f"no page links to these routes (link them or list them): {unreached}"
    assert not visitor.server_errors + admin.server_errors
    assert len(admin.visited) > len(visitor.visited) > 60
    problems = visitor.too_wide + admin.too_wide
    assert not problems, "pages wider than the phone:\n" + "\n".join(problems)
