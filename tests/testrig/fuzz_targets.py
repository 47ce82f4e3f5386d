"""What property-based fuzzing feeds and what it may get back: every parser in protocols/
fed from outside, each with the typed errors it is allowed to raise (anything else is a bug
that would become a 500), and hostile inputs for the inbox endpoint.

Shared by tests/protocols/test_fuzz_parsers.py, tests/node/test_fuzz_inbox.py (a few hundred
cases) and bench/fuzz.py (ten thousand and more)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import strategies as st

from protocols.activitystreams import host_of, ids_of, is_public, origin_of, type_of, web_link
from protocols.html import html_to_text, sanitize_html, text_to_html
from protocols.httpsig import SignatureError, read_signature, verify_content_digest, verify_digest
from protocols.httpsig.cavage import parse_signature_header
from protocols.httpsig.rfc9421 import parse_signatures
from protocols.httpsig.structured import (
    StructuredFieldError,
    parse_dictionary,
    parse_item,
    parse_list,
)
from protocols.httpsig.window import parse_http_date
from protocols.integrity import ProofError, verify_document
from protocols.json_input import JsonRefused, parse_json
from protocols.jsonld.loader import canonical_context_url, uses_only_known_contexts
from protocols.keys import base58btc_decode, ed25519_from_multibase, load_public_key_pem
from protocols.links import is_local_path, is_web_url, keep_web_links, safe_link

AS = "https://www.w3.org/ns/activitystreams"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
_PROOF_KEY = ed25519.Ed25519PrivateKey.generate().public_key()

#: text with the characters parsers trip on: quotes, separators, brackets, controls, non-ASCII
tricky_text = st.text(
    st.one_of(
        st.sampled_from(list('"\\,;=:()<>[]{}*?/ \t\r\n\x00é€\u202e\ud7ff')),
        st.characters(codec="utf-8"),
    ),
    max_size=80,
)
#: URLs of every shape, hostile schemes and broken authorities among them
urls = st.one_of(
    st.sampled_from(
        [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "http://[",
            "http://[::1",
            "https://[fe80::1%25eth0]/",
            "https://a.example:99999/",
            "https://user:pw@a.example/",
            "//a.example/x",
            "https://a.example/\x00",
            "https://127.0.0.1/",
            "https://xn--e1afmkfd.example/",
        ]
    ),
    st.builds(
        lambda s, h, p: f"{s}://{h}{p}",
        st.sampled_from(["http", "https", "ftp", ""]),
        tricky_text,
        tricky_text,
    ),
    tricky_text,
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), tricky_text, urls
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            tricky_text
            | st.sampled_from(["id", "type", "href", "url", "@context", "actor", "object"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=20,
)
#: keys an activity has, so that generated documents get past the first checks
ACTIVITY_KEYS = [
    "@context", "id", "type", "actor", "object", "to", "cc", "content", "name", "url",
    "attributedTo", "inReplyTo", "tag", "attachment", "icon", "image", "published", "target",
    "summary", "href", "mediaType", "oneOf", "anyOf", "replies", "proof",
]  # fmt: skip
TYPES = ["Create", "Update", "Delete", "Follow", "Accept", "Undo", "Like", "Announce", "Flag",
         "Note", "Question", "Person", "Offer", "Add", "Remove", "Reject", "Tombstone"]  # fmt: skip


def activities(actor: str) -> st.SearchStrategy[dict[str, Any]]:
    """Activities by `actor` with every other field anything: objects, lists, hostile URLs."""
    values = st.one_of(json_values, st.sampled_from(TYPES), st.just(actor), st.just(AS))
    nested = st.fixed_dictionaries(
        {"type": st.sampled_from(TYPES)},
        optional={key: values for key in ACTIVITY_KEYS if key != "type"}
        | {"id": urls | st.just(actor + "/o")},
    )
    own_id = st.builds(lambda n: f"{actor}/a/{n}", st.integers(0, 10**9))
    kinds = st.sampled_from(TYPES)

    def mostly(good: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> Any:
        return st.integers(0, 9).flatmap(lambda n: hostile if n == 0 else good)

    return st.fixed_dictionaries(
        {  # mostly well-formed heads (one in ten is hostile), so most reach the handlers
            "@context": mostly(st.sampled_from([AS, [AS]]), json_values),
            "id": mostly(own_id, urls),
            "type": mostly(kinds, json_values),
            "actor": st.just(actor),
        },
        optional={
            key: st.one_of(values, nested, st.lists(nested, max_size=3))
            for key in ACTIVITY_KEYS
            if key not in {"@context", "id", "type", "actor"}
        },
    )


@dataclass(frozen=True)
class Parser:
    """One parser fed from outside: how to draw its input, how to call it, what it may raise."""

    name: str
    inputs: st.SearchStrategy[Any]
    call: Callable[[Any], object]
    refusals: tuple[type[Exception], ...] = ()


class _LiveMarkup(HTMLParser):
    """Collects what a browser would run: script-like elements, event handlers, and links
    whose scheme is not http(s) or mailto."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed", "style", "svg", "math", "form"}:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(name)
            elif name in {"href", "src", "action", "formaction"} and value is not None:
                link = re.sub(r"[\x00-\x20]", "", value).lower()
                if ":" in link.split("/")[0] and not link.startswith(
                    ("http:", "https:", "mailto:")
                ):
                    self.found.append(f"{name}={value}")


def _no_live_markup(fragment: str) -> None:
    """Sanitising must leave no script, no event handler and no javascript: link."""
    cleaned = sanitize_html(fragment)
    reader = _LiveMarkup()
    reader.feed(cleaned)
    reader.close()
    assert not reader.found, (fragment, cleaned, reader.found)


def _safe_link_is_web_or_empty(value: object) -> None:
    link = safe_link(value)
    assert link == "" or is_web_url(link) or is_local_path(link), (value, link)


def _headers(mapping: dict[str, str]) -> None:
    read_signature("POST", "https://node.example/inbox", mapping, b"{}", NOW)


html_fragments = st.one_of(
    tricky_text,
    st.lists(
        st.sampled_from(
            [
                "<a href='javascript:alert(1)'>x</a>",
                "<script>alert(1)</script>",
                "<img src=x onerror=alert(1)>",
                "<p>",
                "</p>",
                "<b>",
                '<a href="https://a.example">',
                "</a>",
                "<iframe src=//x>",
                "<svg onload=1>",
                "&lt;",
                "&#106;avascript:",
                "<br>",
                '<span class="h-card">',
                "<style>",
                "<!--",
                "-->",
                "<math>",
                "<![CDATA[",
            ]
        )
        | tricky_text,
        max_size=12,
    ).map("".join),
)
header_maps = st.dictionaries(
    st.sampled_from(
        [
            "Signature",
            "Signature-Input",
            "Date",
            "Host",
            "Digest",
            "Content-Digest",
            "Content-Type",
            "(request-target)",
        ]
    ),
    st.one_of(
        tricky_text,
        st.sampled_from(
            [
                'keyId="https://a.example/k",headers="(request-target) host date digest",'
                'signature="AAAA"',
                'sig1=("@method" "@target-uri");created=1;keyid="k"',
                "sig1=:AAAA:",
                "Mon, 07 Dec 2026 12:00:00 GMT",
                "SHA-256=AAAA",
                "sha-256=:AAAA:",
            ]
        ),
    ),
    max_size=6,
)

PARSERS: tuple[Parser, ...] = (
    Parser("parse_json", st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v)
           .encode()), parse_json, (JsonRefused,)),
    Parser("structured item", tricky_text, parse_item, (StructuredFieldError,)),
    Parser("structured list", tricky_text, parse_list, (StructuredFieldError,)),
    Parser("structured dictionary", tricky_text, parse_dictionary, (StructuredFieldError,)),
    Parser("cavage Signature header", tricky_text, parse_signature_header, (SignatureError,)),
    Parser("RFC 9421 Signature-Input", st.tuples(tricky_text, tricky_text),
           lambda pair: parse_signatures(*pair), (SignatureError,)),
    Parser("HTTP date", tricky_text, parse_http_date, (SignatureError,)),
    Parser("Digest", st.tuples(tricky_text, st.binary(max_size=20)),
           lambda pair: verify_digest(*pair), (SignatureError,)),
    Parser("Content-Digest", st.tuples(tricky_text, st.binary(max_size=20)),
           lambda pair: verify_content_digest(*pair), (SignatureError,)),
    Parser("signed request headers", header_maps, _headers, (SignatureError,)),
    Parser("sanitize_html", html_fragments, _no_live_markup),
    Parser("html_to_text", html_fragments, html_to_text),
    Parser("text_to_html", tricky_text | urls, text_to_html),
    Parser("is_web_url", urls | json_values, is_web_url),
    Parser("safe_link", urls | json_values, _safe_link_is_web_or_empty),
    Parser("keep_web_links", st.dictionaries(st.sampled_from(ACTIVITY_KEYS), json_values),
           lambda doc: keep_web_links(doc, allow_http=False)),
    Parser("activity helpers", json_values, lambda v: (type_of(v), ids_of(v), web_link(
           *(x for x in ids_of(v)))) + ((is_public(v),) if isinstance(v, dict) else ())),
    Parser("origin and host", urls, lambda u: (origin_of(u), host_of(u)), (ValueError,)),
    Parser("JSON-LD contexts", json_values, lambda v: (uses_only_known_contexts(v),
           canonical_context_url(v) if isinstance(v, str) else None)),
    Parser("base58btc", tricky_text, base58btc_decode, (ValueError,)),
    Parser("publicKeyMultibase", tricky_text, ed25519_from_multibase, (ValueError,)),
    Parser("public key PEM", tricky_text, load_public_key_pem, (ValueError,)),
    Parser("FEP-8b32 proof", st.dictionaries(st.sampled_from(["proof", "id", "@context"]),
           json_values | st.fixed_dictionaries({}, optional={k: json_values for k in [
               "type", "cryptosuite", "proofPurpose", "verificationMethod", "created",
               "proofValue", "@context"]})), lambda doc: verify_document(doc, _PROOF_KEY),
           (ProofError,)),
)  # fmt: skip


def check_parser(parser: Parser, value: Any) -> None:
    """Feed one input; only the parser's typed refusals may come out."""
    try:
        parser.call(value)
    except parser.refusals:
        pass
