"""Which URLs may become links: http(s) only, read as a browser reads them."""

from __future__ import annotations

import pytest

from protocols.activitystreams import web_link
from protocols.links import is_local_path, is_web_url, keep_web_links, safe_link

HOSTILE = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "https:no-host",
    "https://",
    "//evil.example/",
    "/\\evil.example/",
    "https://exa mple.org/",
    "https://[::1/",
    "",
)


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_urls_are_neither_web_urls_nor_rendered(url: str) -> None:
    assert not is_web_url(url)
    assert safe_link(url) == ""
    assert web_link(url) == ""


def test_web_urls_and_local_paths_are_kept() -> None:
    for url in ("https://peer.example/p/1", "HTTPS://PEER.EXAMPLE/", "http://[::1]:8080/x"):
        assert is_web_url(url) and safe_link(url) == url
    assert not is_web_url("http://peer.example/", allow_http=False)
    assert is_web_url("https://peer.example/", allow_http=False)
    for path in ("/needs/1", "/offers?kind=give", "?lang=en", "#top"):
        assert is_local_path(path) and safe_link(path) == path
    assert safe_link(None) == "" and safe_link(42) == ""
    assert not is_web_url("https://peer.example/" + "a" * 2048)


def test_hostile_links_are_dropped_from_documents_at_any_depth() -> None:
    value = " JaVaScRiPt:alert(1)"
    document = {
        "id": "https://peer.example/notes/1",
        "url": value,
        "inReplyTo": {"id": value, "type": "Note"},
        "context": "data:,x",
        "icon": {"type": "Image", "url": value},
        "tag": [
            {"type": "Mention", "href": "https://town.example/actors/territoire"},
            {"type": "Hashtag", "href": "vbscript:msgbox(1)", "name": "#x"},
        ],
        "attachment": [value, "https://peer.example/a.png", {"type": "Link", "href": value}],
        "object": {"image": [value], "url": ["http://peer.example/p", value]},
        "additionalType": "tc:Proposal",
    }
    assert keep_web_links(document, allow_http=True) == {
        "id": "https://peer.example/notes/1",
        "icon": {"type": "Image"},
        "tag": [
            {"type": "Mention", "href": "https://town.example/actors/territoire"},
            {"type": "Hashtag", "name": "#x"},
        ],
        "attachment": ["https://peer.example/a.png", {"type": "Link"}],
        "object": {"url": ["http://peer.example/p"]},
        "additionalType": "tc:Proposal",
    }
    assert keep_web_links({"url": "http://peer.example/p"}, allow_http=False) == {}
    assert keep_web_links({"url": None, "attachment": []}, allow_http=False) == {
        "url": None,
        "attachment": [],
    }


def test_a_deep_document_is_walked_without_recursion() -> None:
    document: dict[str, object] = {"url": "javascript:alert(1)"}
    for _ in range(10_000):
        document = {"object": document}
    keep_web_links(document, allow_http=True)
    inner = document
    while "object" in inner:
        inner = inner["object"]  # type: ignore[assignment]
    assert inner == {}
