"""Which URLs may become links: http(s) only, whoever wrote them.

A remote document or a form can carry ``javascript:``, ``data:`` or ``vbscript:`` URLs
(also as `` JaVaScRiPt:``, which browsers read the same); rendered as an ``href`` or a
``src`` they run script in our pages. So every URL that comes from outside is checked
twice: where it is read (``is_web_url``, ``keep_web_links``: refused or dropped before it
is stored) and where it is rendered (``safe_link``, the templates' ``safe_url`` filter).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})
"""The schemes a link may have; https only for remote URLs unless plain http is allowed."""

MAX_URL_LENGTH = 2048
"""Longer URLs are refused (the storage columns hold 2048 characters)."""

LINK_PROPERTIES = frozenset(
    {"url", "href", "icon", "image", "preview", "attachment", "inReplyTo", "context"}
    | {"wasDerivedFrom", "sameAs"}
)
"""ActivityStreams (and project) properties whose values are links a page may show, or
objects holding them (an ``icon`` Image's ``url``, a Mention's ``href``)."""

# Whitespace and control characters: browsers strip or skip them, so they hide schemes.
_HIDING = re.compile(r"[\x00-\x20\x7f-\x9f]")


def is_web_url(value: object, *, allow_http: bool = True) -> bool:
    """Whether `value` is an absolute http(s) URL with a host (https only unless
    `allow_http`), without whitespace or control characters, at most MAX_URL_LENGTH long.

    >>> is_web_url("https://peer.example/p/1"), is_web_url(" JaVaScRiPt:alert(1)")
    (True, False)
    >>> is_web_url("http://peer.example/", allow_http=False), is_web_url("https:nohost")
    (False, False)
    """
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return False
    if _HIDING.search(value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # a malformed IPv6 literal, or a bad port
        return False
    allowed = WEB_SCHEMES if allow_http else frozenset({"https"})
    return parts.scheme.lower() in allowed and bool(host)


def is_local_path(value: object) -> bool:
    """Whether `value` is a link within this site: ``/path``, ``?query`` or ``#fragment``
    (not ``//host`` nor ``/\\host``, which browsers read as another host).

    >>> is_local_path("/needs/1"), is_local_path("//evil.example/"), is_local_path("x:y")
    (True, False, False)
    """
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return False
    if _HIDING.search(value):
        return False
    if value.startswith("/"):
        return not value.startswith(("//", "/\\"))
    return value.startswith(("?", "#"))


def safe_link(value: object) -> str:
    """`value` when it may be an ``href`` or a ``src`` (an http(s) URL or a path of this
    site), else the empty string: what pages render for any URL, stored or computed.

    >>> safe_link("https://peer.example/p/1"), safe_link("/offers"), safe_link("data:,x")
    ('https://peer.example/p/1', '/offers', '')
    """
    if is_web_url(value) or is_local_path(value):
        return str(value)
    return ""


_DROP = object()
Document = TypeVar("Document")


def _kept(value: Any, allow_http: bool) -> Any:
    """A link property's value without its non-web links, or _DROP when nothing is left.

    Strings are links; an object (an Image, a Link, an embedded Note) goes only when its
    own ``id`` is not a web URL (its ``url`` or ``href`` is checked by the caller's walk);
    other values (null, numbers) cannot become links and stay.
    """
    if isinstance(value, str):
        return value if is_web_url(value, allow_http=allow_http) else _DROP
    if isinstance(value, dict):
        own = value.get("id")
        return value if own is None or is_web_url(own, allow_http=allow_http) else _DROP
    if isinstance(value, list):
        items = [item for item in value if _kept(item, allow_http) is not _DROP]
        return items if items or not value else _DROP
    return value


def keep_web_links(document: Document, *, allow_http: bool) -> Document:
    """Drop, in place, every link in LINK_PROPERTIES of a parsed document (at any depth)
    that is not a web URL; returns the document.

    Dropping, not refusing: a post whose ``url`` is ``javascript:`` keeps its content and
    is linked by its id instead, as other unusable fields are ignored. The walk is
    iterative, so nesting cannot exhaust the stack.
    """
    drop_non_web_links(document, allow_http=allow_http)
    return document


def drop_non_web_links(document: object, *, allow_http: bool) -> bool:
    """`keep_web_links`, saying whether anything was dropped (when nothing was, the document
    is still what its sender wrote, and its text can be kept as received).

    >>> post = {"url": ["https://peer.example/1", "javascript:x"], "icon": {"url": "data:,"}}
    >>> drop_non_web_links(post, allow_http=False), post
    (True, {'url': ['https://peer.example/1'], 'icon': {}})
    >>> drop_non_web_links(post, allow_http=False)
    False
    """
    dropped = False
    pending: list[Any] = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(item for item in node if isinstance(item, (dict, list)))
            continue
        if not isinstance(node, dict):
            continue
        for key in LINK_PROPERTIES.intersection(node):
            original = node[key]
            value = _kept(original, allow_http)
            if value is _DROP:
                del node[key]
                dropped = True
            elif value is not original:
                dropped = dropped or len(value) != len(original)
                node[key] = value
        pending.extend(value for value in node.values() if isinstance(value, (dict, list)))
    return dropped
