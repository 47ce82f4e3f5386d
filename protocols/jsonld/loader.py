"""Offline JSON-LD processing: a pyld document loader that serves only bundled contexts.

Remote JSON-LD contexts are never fetched: a fetch would leak which documents we read,
stall the inbox on a slow host and let a third party change what a signed document
means. The loader knows the context documents in ``contexts/`` (see SOURCES.md) and
raises pyld's ``loading document failed`` error for any other URL.

``uses_only_known_contexts`` is the fast path that needs no pyld at all; ``expand`` and
``compact`` are the slow path, for documents whose meaning must be computed. pyld (which
imports requests, urllib3 and lxml: about 60 ms and 8 MB) is imported on the first slow-path
call, so a process that never needs it never loads it.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, cast
from urllib.parse import urlsplit

from protocols.json_input import JsonRefused, check_json_depth

from . import contexts as _contexts_package

# Canonical context URL -> file name in protocols/jsonld/contexts/.
_BUNDLED_FILES: dict[str, str] = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "security-data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "security-data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "security-multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://www.w3.org/ns/cid/v1": "cid-v1.jsonld",
    "https://w3id.org/identity/v1": "identity-v1.jsonld",
    "https://purl.archive.org/socialweb/webfinger": "webfinger.jsonld",
    "https://purl.archive.org/miscellany": "miscellany.jsonld",
    "https://gotosocial.org/ns": "gotosocial.jsonld",
    "http://joinmastodon.org/ns": "joinmastodon.jsonld",
    "https://join-lemmy.org/context.json": "join-lemmy.jsonld",
    "https://w3id.org/fep/5711": "fep-5711.jsonld",
    "https://w3id.org/fep/ef61": "fep-ef61.jsonld",
}

BUNDLED_CONTEXT_URLS: frozenset[str] = frozenset(_BUNDLED_FILES)
"""The canonical URLs of every context document the loader can serve."""

# Hosts whose context URLs peers also write with http:, a ".jsonld" suffix or a final "/".
_W3C_HOSTS: dict[str, str] = {
    "www.w3.org": "www.w3.org",
    "w3.org": "www.w3.org",
    "w3id.org": "w3id.org",
}

_LOADING_FAILED = "loading document failed"
#: what pyld lets out, besides its JsonLdError, on malformed documents (an invalid base IRI,
#: a term of the wrong type): found by tests/node/test_fuzz_inbox.py
_PYLD_SLIPS = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def _pyld() -> Any:
    """pyld's jsonld module, imported on first use."""
    from pyld import jsonld  # type: ignore[import-untyped]

    return jsonld


def canonical_context_url(url: str) -> str | None:
    """Return the bundled context's canonical URL that ``url`` names, or None if none.

    Peers spell the same context in several ways (``http:`` for ``https:``, a trailing
    ``#``, ``.jsonld`` suffix), and Mastodon and Fedify accept those spellings for the
    w3.org and w3id.org contexts, so we do too; other hosts must match exactly (a final
    ``#`` aside).
    """
    candidate = url.strip()
    if candidate.endswith("#"):
        candidate = candidate[:-1]
    if candidate in _BUNDLED_FILES:
        return candidate
    try:
        parts = urlsplit(candidate)
    except ValueError:  # "http://[" and other unparseable authorities
        return None
    host = _W3C_HOSTS.get(parts.netloc.lower())
    if host is None or parts.scheme.lower() not in ("http", "https"):
        return None
    if parts.query or parts.fragment:
        return None
    path = parts.path.removesuffix(".jsonld").removesuffix("/")
    candidate = f"https://{host}{path}"
    return candidate if candidate in _BUNDLED_FILES else None


@functools.cache
def _bundled_document(canonical_url: str) -> dict[str, Any]:
    """Read and parse one bundled context file, once per process."""
    resource = resources.files(_contexts_package).joinpath(_BUNDLED_FILES[canonical_url])
    document = json.loads(resource.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"bundled context for {canonical_url} is not a JSON object")
    return document


def load_context(url: str) -> dict[str, Any]:
    """Return a fresh copy of the bundled context document that ``url`` names.

    Raises pyld's ``JsonLdError`` (code ``loading document failed``) for a URL we do not
    bundle: nothing is ever fetched. The copy protects the in-memory cache from callers
    (pyld included) that modify what they are given.
    """
    canonical = canonical_context_url(url)
    if canonical is None:
        raise _pyld().JsonLdError(
            f"JSON-LD context {url!r} is not bundled with Maillage; remote contexts are "
            "never fetched (see protocols/jsonld/contexts/SOURCES.md)",
            "jsonld.LoadDocumentError",
            {"url": url},
            code=_LOADING_FAILED,
        )
    return copy.deepcopy(_bundled_document(canonical))


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """pyld ``documentLoader`` serving bundled contexts only; never touches the network.

    The ``static`` tag lets pyld keep the resolved context in its shared cache, so each
    context is processed once per process rather than once per document.
    """
    document = load_context(url)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": canonical_context_url(url),
        "document": document,
        "tag": "static",
    }


def _pyld_options() -> dict[str, Any]:
    """Options for every pyld call: our loader, never pyld's networked default."""
    return {"documentLoader": document_loader}


def expand(document: Mapping[str, Any] | Sequence[Any]) -> list[Any]:
    """Expand a JSON-LD document with pyld, resolving contexts from the bundle only.

    A context we do not bundle makes pyld raise ``JsonLdError`` (code ``loading remote
    context failed``) whose ``__cause__`` is the loader's ``loading document failed``.
    A document nested deeper than protocols.json_input allows, or one pyld cannot process,
    raises JsonRefused.
    """
    if isinstance(document, str):
        raise TypeError("expand() takes a parsed document, not a URL or JSON text")
    check_json_depth(document)
    try:
        return cast(list[Any], _pyld().expand(document, _pyld_options()))
    except RecursionError:  # pyld recurses per level, and contexts can add some
        raise JsonRefused("JSON-LD nested too deeply to process") from None
    except _PYLD_SLIPS as slip:
        raise JsonRefused(f"not JSON-LD that can be processed ({slip})") from None


def compact(
    document: Mapping[str, Any] | Sequence[Any],
    context: str | Mapping[str, Any] | Sequence[Any],
) -> dict[str, Any]:
    """Compact a JSON-LD document against ``context``, resolving contexts from the bundle only.

    Used to read a document that came with foreign term names in the terms we expect, e.g.
    ``compact(doc, document_context())``. A document nested deeper than
    protocols.json_input allows, or one pyld cannot process, raises JsonRefused.
    """
    if isinstance(document, str):
        raise TypeError("compact() takes a parsed document, not a URL or JSON text")
    check_json_depth(document)
    try:
        return cast(dict[str, Any], _pyld().compact(document, context, _pyld_options()))
    except RecursionError:  # pyld recurses per level, and contexts can add some
        raise JsonRefused("JSON-LD nested too deeply to process") from None
    except _PYLD_SLIPS as slip:
        raise JsonRefused(f"not JSON-LD that can be processed ({slip})") from None


def uses_only_known_contexts(document: object) -> bool:
    """Whether every ``@context`` in ``document`` is a bundled URL or an inline object.

    Such documents are the fast path: their terms are known, so their plain keys can be
    read without pyld (about 3 ms per document). Every embedded ``@context`` is checked,
    as are contexts that inline objects pull in (scoped ``@context``, ``@import``). A
    document without ``@context``, or with a ``null`` one, is not JSON-LD we can read
    this way and gives False.
    """
    if not isinstance(document, dict) or "@context" not in document:
        return False
    nodes: list[object] = [document]
    while nodes:
        node = nodes.pop()
        if isinstance(node, list):
            nodes.extend(item for item in node if isinstance(item, (dict, list)))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key == "@context":
                if not _context_is_known(value):
                    return False
            elif isinstance(value, (dict, list)):
                nodes.append(value)
    return True


def _context_is_known(context: object) -> bool:
    """Whether a ``@context`` value only uses bundled URLs and inline objects."""
    pending: list[object] = [context]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            if canonical_context_url(value) is None:
                return False
        elif isinstance(value, dict):
            if "@import" in value:
                pending.append(value["@import"] if isinstance(value["@import"], str) else None)
            for definition in value.values():
                if isinstance(definition, dict) and "@context" in definition:
                    pending.append(definition["@context"])
        else:
            return False
    return True
