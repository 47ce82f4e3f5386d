"""The node's routes as data and its pages crawled, for tests that must cover every page or
endpoint: a route added later is then covered (or reported) without editing the tests.

- `resources(app, method)`: every route of a method, as aiohttp resources (static files aside);
- `example_path(resource)`: a concrete path that the route matches (ids made up);
- `unsafe_links(page)`: the href/src/action... values of a page whose scheme is not http(s)
  or mailto, read as a browser reads them (html.parser, leading blanks and tabs ignored);
- `crawl(client, seeds)`: GET pages and follow their links within the node, bounded; the
  headers of every answer are kept.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import web
from aiohttp.test_utils import TestClient

from node.web.keys import config_key

#: Attributes whose value a browser loads or follows.
LINK_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "poster", "data", "cite", "background", "xlink:href"}
)
#: Schemes a page may link to (mailto: in sanitised content).
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
#: Values made up to fill a route's parameters, tried in this order.
_PARAMETER_VALUES = ("0" * 26, "places", "territoire", "2026-01-01", "x", "2.1", "entries", "csv")
# What a browser drops before reading a URL: leading and trailing C0 controls and spaces, and
# tabs and newlines anywhere (WHATWG URL parser).
_EDGES = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")


def resources(app: web.Application, method: str) -> list[web.AbstractResource]:
    """The resources with a route for `method` (static file folders left out)."""
    found = {
        id(route.resource): route.resource
        for route in app.router.routes()
        if route.method == method
        and route.resource is not None
        and not isinstance(route.resource, web.StaticResource)
    }
    return list(found.values())


def matches(resource: web.AbstractResource, path: str) -> bool:
    """Whether the resource serves this path (without its query)."""
    info = resource.get_info()
    if "path" in info:
        return bool(info["path"] == path)
    pattern = info.get("pattern")
    return pattern is not None and pattern.fullmatch(path) is not None


def example_path(resource: web.AbstractResource) -> str:
    """A path the resource matches, its parameters filled with made-up values."""
    info = resource.get_info()
    if "path" in info:
        return str(info["path"])
    formatter: str = info["formatter"]
    names = re.findall(r"\{(\w+)\}", formatter)
    for values in itertools.product(_PARAMETER_VALUES, repeat=len(names)):
        path = formatter.format(**dict(zip(names, values, strict=True)))
        if matches(resource, path):
            return path
    raise AssertionError(f"no made-up value fits {resource.canonical}")


def scheme_of(url: str) -> str | None:
    """The scheme a browser reads in an attribute value, lower-cased; None when relative."""
    cleaned = url.strip(_EDGES).replace("\t", "").replace("\n", "").replace("\r", "")
    found = _SCHEME.match(cleaned)
    return found.group(1).lower() if found else None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in LINK_ATTRIBUTES and value is not None:
                self.found.append((tag, name, value))


def links_of(page: str) -> list[tuple[str, str, str]]:
    """(element, attribute, value) of every link-like attribute of a page."""
    parser = _Links()
    parser.feed(page)
    parser.close()
    return parser.found


def unsafe_links(page: str) -> list[str]:
    """The link-like attributes of a page whose scheme is neither http(s) nor mailto."""
    return [
        f'<{tag} {name}="{value}">'
        for tag, name, value in links_of(page)
        if (scheme := scheme_of(value)) is not None and scheme not in SAFE_SCHEMES
    ]


@dataclass
class Crawl:
    """What a crawl saw: the pages by route, problems (5xx, unsafe links) and every answer's
    headers by path."""

    visited: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)
    headers: dict[str, Mapping[str, str]] = field(default_factory=dict)


def _local(url: str, base_url: str) -> str | None:
    """The path (and query, without `lang` and `next`) of a link within the node, else None."""
    if url.startswith(base_url + "/"):
        url = url[len(base_url) :]
    if not url.startswith("/") or url.startswith("//"):
        return None
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("lang", "next")]
    return parts.path + (f"?{urlencode(query)}" if query else "")


async def crawl(
    client: TestClient,
    seeds: list[str],
    *,
    per_route: int = 2,
    limit: int = 400,
    headers: dict[str, str] | None = None,
) -> Crawl:
    """GET the seeds, then the node's pages they link to (at most `per_route` paths per
    route beyond the seeds, `limit` in all), as a browser would (Accept: text/html).

    Every answer must be below 500 and every HTML or Atom page free of unsafe links;
    `problems` says where not.
    """
    app = client.app
    base_url = app[config_key].node.base_url
    gets = resources(app, "GET")
    result = Crawl()
    queue: deque[tuple[str, bool]] = deque((seed, True) for seed in seeds)
    seen: set[str] = set()
    while queue and len(seen) < limit:
        path, seeded = queue.popleft()
        if path in seen:
            continue
        resource = next((r for r in gets if matches(r, urlsplit(path).path)), None)
        if resource is None:
            continue
        paths = result.visited.setdefault(resource.canonical, [])
        if not seeded and len(paths) >= per_route:
            continue
        seen.add(path)
        paths.append(path)
        response = await client.get(
            path, headers=headers or {"Accept": "text/html"}, allow_redirects=False
        )
        raw = await response.read()  # downloads (a zip) are not text
        result.headers[path] = response.headers
        if response.status >= 500:
            result.problems.append(f"{path}: {response.status}")
        location = response.headers.get("Location")
        if location and (target := _local(location, base_url)):
            queue.append((target, False))
        if response.content_type not in ("text/html", "application/atom+xml"):
            continue
        body = raw.decode(response.charset or "utf-8")
        result.pages[path] = body
        result.problems += [f"{path}: {link}" for link in unsafe_links(body)]
        for _, _, value in links_of(body):
            target = _local(value, base_url)
            if target is not None and target not in seen:
                queue.append((target, False))
    return result
