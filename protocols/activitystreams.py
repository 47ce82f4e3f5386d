"""Reading ActivityStreams documents liberally: values may be a string, an object or a list.

Liberal in what we accept (Mastodon, Misskey, Lemmy, Fedify all differ), strict in what we
produce. Pure functions over parsed JSON.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from protocols.links import is_web_url

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
#: Spellings of the public collection seen in the wild (JSON-LD compaction yields the short ones).
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})
ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})


def as_list(value: Any) -> list[Any]:
    """A property's values as a list: absent -> [], single -> [value].

    >>> as_list(None), as_list("a"), as_list(["a", "b"])
    ([], ['a'], ['a', 'b'])
    """
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def id_of(value: Any) -> str | None:
    """The id of a reference: a URI string, or an embedded object's `id` (or a Link's `href`).

    >>> id_of("https://a.example/1"), id_of({"id": "https://a.example/2"}), id_of(3)
    ('https://a.example/1', 'https://a.example/2', None)
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id") or value.get("href")
        return found if isinstance(found, str) else None
    return None


def ids_of(value: Any) -> list[str]:
    """The ids of every reference in a property (strings, objects or a list of both)."""
    return [found for item in as_list(value) if (found := id_of(item)) is not None]


def type_of(document: Any) -> str | None:
    """The first type of an object (`type` may be a list; Mastodon picks the first known)."""
    if not isinstance(document, dict):
        return None
    types = [t for t in as_list(document.get("type")) if isinstance(t, str)]
    return types[0] if types else None


def origin_of(uri: str) -> str:
    """scheme://host[:port] of a URI, lower-cased: what "same origin" compares.

    >>> origin_of("https://Town.example:8443/a/b?c")
    'https://town.example:8443'
    """
    parts = urlsplit(uri)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def host_of(uri: str) -> str:
    """host[:port] of a URI, lower-cased: the unit of domain policy and delivery.

    >>> host_of("https://Town.example:8443/a")
    'town.example:8443'
    """
    return urlsplit(uri).netloc.lower()


def is_public(document: dict[str, Any]) -> bool:
    """Whether an object or activity is addressed to the public collection."""
    return any(a in PUBLIC_ALIASES for a in ids_of(document.get("to")) + ids_of(document.get("cc")))


def web_link(*candidates: str | None) -> str:
    """The first http(s) URL among candidates (a remote object's `url`, then its `id`):
    hostile documents may carry javascript: or data: URLs, which must never become links.

    >>> web_link("javascript:alert(1)", "https://peer.example/p/1")
    'https://peer.example/p/1'
    >>> web_link(None, "data:text/html,x")
    ''
    """
    for url in candidates:
        if url and is_web_url(url):
            return url
    return ""
