"""Offline JSON-LD: bundled contexts, the project context, and documents peers really send."""

from __future__ import annotations

import copy
import json
import socket
import time
import uuid
from importlib import resources
from typing import Any

import pytest
from pyld import jsonld  # type: ignore[import-untyped]

from protocols.jsonld import loader
from protocols.jsonld.loader import (
    BUNDLED_CONTEXT_URLS,
    canonical_context_url,
    compact,
    document_loader,
    expand,
    load_context,
    uses_only_known_contexts,
)
from protocols.jsonld.project_context import (
    ACTIVITYSTREAMS_CONTEXT,
    MAILLAGE_CONTEXT,
    STANDARD_CONTEXTS,
    document_context,
)

AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"
SCHEMA = "http://schema.org/"
TC = "https://w3id.org/territoires/ns#"
TOOT = "http://joinmastodon.org/ns#"

# What @fedify/fedify 1.5.9 (shared/peers/fedify) preloads, esm/runtime/contexts.js; it
# refuses documents that name any other remote context.
FEDIFY_1_5_PRELOADED = {
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    "https://w3id.org/security/data-integrity/v1",
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
    "https://w3id.org/identity/v1",
    "https://purl.archive.org/socialweb/webfinger",
    "http://schema.org/",
    "https://gotosocial.org/ns",
}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail loudly if anything tries to open a connection or resolve a name."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def values(node: dict[str, Any], iri: str) -> list[Any]:
    """The expanded values of one property, as '@value' / '@id' scalars."""
    return [item.get("@value", item.get("@id")) for item in node.get(iri, [])]


def mastodon_actor() -> dict[str, Any]:
    """A Mastodon 4.x actor: @context as ActivityPub::Adapter (app/lib/activitypub/adapter.rb)
    builds it from NAMED_CONTEXT_MAP and CONTEXT_EXTENSION_MAP."""
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            {
                "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
                "toot": "http://joinmastodon.org/ns#",
                "featured": {"@id": "toot:featured", "@type": "@id"},
                "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
                "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
                "movedTo": {"@id": "as:movedTo", "@type": "@id"},
                "schema": "http://schema.org#",
                "PropertyValue": "schema:PropertyValue",
                "value": "schema:value",
                "discoverable": "toot:discoverable",
                "suspended": "toot:suspended",
                "Emoji": "toot:Emoji",
                "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
            },
        ],
        "id": "https://mastodon.example/users/alice",
        "type": "Person",
        "following": "https://mastodon.example/users/alice/following",
        "followers": "https://mastodon.example/users/alice/followers",
        "inbox": "https://mastodon.example/users/alice/inbox",
        "outbox": "https://mastodon.example/users/alice/outbox",
        "featured": "https://mastodon.example/users/alice/collections/featured",
        "featuredTags": "https://mastodon.example/users/alice/collections/tags",
        "preferredUsername": "alice",
        "name": "Alice :verified:",
        "summary": '<p>Habitante de <a href="https://mastodon.example/tags/saintx" '
        'class="mention hashtag" rel="tag">#<span>saintx</span></a></p>',
        "url": "https://mastodon.example/@alice",
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "published": "2024-03-01T00:00:00Z",
        "memorial": False,
        "alsoKnownAs": ["https://old.example/users/alice"],
        "publicKey": {
            "id": "https://mastodon.example/users/alice#main-key",
            "owner": "https://mastodon.example/users/alice",
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIB...\n-----END PUBLIC KEY-----\n",
        },
        "tag": [
            {
                "id": "https://mastodon.example/emojis/1",
                "type": "Emoji",
                "name": ":verified:",
                "icon": {
                    "type": "Image",
                    "mediaType": "image/png",
                    "url": "https://m.example/v.png",
                },
            }
        ],
        "attachment": [
            {
                "type": "PropertyValue",
                "name": "Site",
                "value": '<a href="https://alice.example" rel="me">alice.example</a>',
            }
        ],
        "endpoints": {"sharedInbox": "https://mastodon.example/inbox"},
        "icon": {"type": "Image", "mediaType": "image/png", "url": "https://m.example/a.png"},
    }


def fedify_actor() -> dict[str, Any]:
    """An actor as Fedify 1.5 writes it (the @context of its Person serialisation)."""
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            "https://w3id.org/security/data-integrity/v1",
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
            {
                "toot": "http://joinmastodon.org/ns#",
                "discoverable": "toot:discoverable",
                "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            },
        ],
        "id": "https://fedify.example/users/bob",
        "type": "Person",
        "inbox": "https://fedify.example/users/bob/inbox",
        "preferredUsername": "bob",
        "publicKey": {
            "id": "https://fedify.example/users/bob#main-key",
            "type": "CryptographicKey",
            "owner": "https://fedify.example/users/bob",
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n",
        },
        "assertionMethod": [
            {
                "id": "https://fedify.example/users/bob#ed25519-key",
                "type": "Multikey",
                "controller": "https://fedify.example/users/bob",
                "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            }
        ],
    }


def territory_actor() -> dict[str, Any]:
    """Our Territory Group actor, vocabulary.md section 5.2 shape, with document_context()."""
    actor = "https://saint-x.example/t/saint-x"
    return {
        "@context": document_context(),
        "id": actor,
        "type": "Group",
        "additionalType": "tc:Territory",
        "preferredUsername": "saint-x",
        "name": "Saint-X",
        "summary": "Territoire citoyen de Saint-X — besoins, cercles, expérimentations.",
        "summaryMap": {"fr": "Territoire citoyen de Saint-X — besoins, cercles, expérimentations."},
        "inbox": f"{actor}/inbox",
        "outbox": f"{actor}/outbox",
        "followers": f"{actor}/followers",
        "attributedTo": f"{actor}/moderators",
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "territoryLevel": "commune",
        "parentTerritory": "https://pays-y.example/t/pays-y",
        "wasDerivedFrom": "https://pays-y.example/t/pays-y",
        "sameAs": "http://www.wikidata.org/entity/Q000000",
        "attachment": [
            {"type": "PropertyValue", "name": "INSEE", "propertyID": "insee-cog", "value": "38999"},
            {
                "type": "PropertyValue",
                "name": "Charte",
                "value": '<a href="https://saint-x.example/charte">charte</a>',
            },
        ],
        "location": {
            "type": "Place",
            "name": "Saint-X",
            "latitude": 45.2,
            "longitude": 5.7,
            "address": {
                "type": "PostalAddress",
                "postalCode": "38999",
                "addressLocality": "Saint-X",
                "addressCountry": "FR",
            },
            "geometry": {"asGeoJSON": '{"type":"Point","coordinates":[5.7,45.2]}'},
        },
        "circles": f"{actor}/circles",
        "proposals": f"{actor}/proposals",
        "experiments": f"{actor}/experiments",
        "offers": f"{actor}/offers",
        "places": f"{actor}/places",
        "indicatorCatalog": "https://network.example/indicators",
        "endpoints": {"sharedInbox": "https://saint-x.example/inbox"},
        "publicKey": {
            "id": f"{actor}#main-key",
            "owner": actor,
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n",
        },
        "assertionMethod": [
            {
                "id": f"{actor}#ed25519-key",
                "type": "Multikey",
                "controller": actor,
                "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            }
        ],
    }


# -- bundled contexts ---------------------------------------------------------------------


def test_every_bundled_context_parses_and_is_listed_in_sources() -> None:
    sources = resources.files("protocols.jsonld.contexts").joinpath("SOURCES.md").read_text()
    for url in BUNDLED_CONTEXT_URLS:
        document = load_context(url)
        assert isinstance(document.get("@context"), (dict, list)), url
        assert f"`{url}`" in sources, f"{url} missing from SOURCES.md"


def test_the_required_contexts_are_bundled() -> None:
    assert {
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        "https://w3id.org/security/data-integrity/v1",
        "https://w3id.org/security/multikey/v1",
        "https://www.w3.org/ns/cid/v1",
        "https://purl.archive.org/socialweb/webfinger",
    } <= BUNDLED_CONTEXT_URLS


def test_bundled_files_are_package_data() -> None:
    names = {entry.name for entry in resources.files("protocols.jsonld.contexts").iterdir()}
    for url in BUNDLED_CONTEXT_URLS:
        assert loader._BUNDLED_FILES[url] in names


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("https://www.w3.org/ns/activitystreams", "https://www.w3.org/ns/activitystreams"),
        ("http://www.w3.org/ns/activitystreams", "https://www.w3.org/ns/activitystreams"),
        ("https://www.w3.org/ns/activitystreams#", "https://www.w3.org/ns/activitystreams"),
        ("https://www.w3.org/ns/activitystreams.jsonld", "https://www.w3.org/ns/activitystreams"),
        ("https://w3.org/ns/activitystreams", "https://www.w3.org/ns/activitystreams"),
        ("http://w3id.org/security/v1", "https://w3id.org/security/v1"),
        ("https://w3id.org/security/v1/", "https://w3id.org/security/v1"),
        ("https://w3id.org/security/multikey/v1.jsonld", "https://w3id.org/security/multikey/v1"),
        (
            "https://purl.archive.org/socialweb/webfinger#",
            "https://purl.archive.org/socialweb/webfinger",
        ),
        ("http://joinmastodon.org/ns", "http://joinmastodon.org/ns"),
    ],
)
def test_accepted_spellings_of_bundled_contexts(spelling: str, canonical: str) -> None:
    assert canonical_context_url(spelling) == canonical


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/ns/activitystreams",
        "https://www.w3.org.evil.example/ns/activitystreams",
        "https://www.w3.org:8443/ns/activitystreams",
        "https://user@www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/activitystreams?x=1",
        "ftp://www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/activitystreams/extra",
        "https://w3id.org/security/v2",
        "http://schema.org/",
        "https://purl.archive.org/socialweb/webfinger.jsonld",
        "",
    ],
)
def test_other_urls_are_not_bundled(url: str) -> None:
    assert canonical_context_url(url) is None
    with pytest.raises(jsonld.JsonLdError) as raised:
        load_context(url)
    assert raised.value.code == "loading document failed"
    assert "not bundled" in str(raised.value)


def test_loader_serves_from_memory_after_the_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://www.w3.org/ns/activitystreams"
    first = document_loader(url)
    assert first["document"]["@context"]["as"] == AS
    assert first["documentUrl"] == url

    def no_disk(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("bundled context read from disk twice")

    monkeypatch.setattr(loader.resources, "files", no_disk)
    started = time.perf_counter()
    for _ in range(10):
        again = document_loader("http://www.w3.org/ns/activitystreams#")
    assert (time.perf_counter() - started) / 10 < 0.005
    assert again["document"] == first["document"]


def test_loader_hands_out_copies() -> None:
    document = load_context("https://w3id.org/security/v1")
    document["@context"]["publicKey"] = "evil:publicKey"
    assert load_context("https://w3id.org/security/v1")["@context"]["publicKey"] != "evil:publicKey"


# -- the project context ------------------------------------------------------------------


def test_maillage_context_is_inline_and_only_names_known_contexts() -> None:
    context = document_context()
    assert context[0] == ACTIVITYSTREAMS_CONTEXT == "https://www.w3.org/ns/activitystreams"
    assert context[-1] == MAILLAGE_CONTEXT
    urls = [entry for entry in context if isinstance(entry, str)]
    assert urls == list(STANDARD_CONTEXTS)
    assert all(url in BUNDLED_CONTEXT_URLS for url in urls)
    # Fedify rejects a remote context it does not preload.
    assert set(urls) <= FEDIFY_1_5_PRELOADED
    assert all(isinstance(entry, (str, dict)) for entry in context)


def test_document_context_is_a_fresh_copy() -> None:
    context = document_context()
    context[-1]["additionalType"]["@type"] = "@vocab"
    context[-1]["evil"] = "x"
    context.append("https://evil.example/ctx")
    assert MAILLAGE_CONTEXT["additionalType"] == {"@id": "sc:additionalType", "@type": "@id"}
    assert "evil" not in MAILLAGE_CONTEXT
    assert document_context()[-1] == MAILLAGE_CONTEXT


def test_maillage_terms_leave_the_standard_terms_alone() -> None:
    """No term of ours shadows a term of a standard context (protected or not)."""
    for url in STANDARD_CONTEXTS:
        standard = load_context(url)["@context"]
        assert not set(standard) & set(MAILLAGE_CONTEXT), url
    for term in ("Multikey", "assertionMethod", "publicKeyMultibase", "controller", "proof"):
        assert term not in MAILLAGE_CONTEXT


def test_maillage_context_holds_the_vocabulary_terms() -> None:
    # section 5.1, plus flows and mapActors, plus headline and statusLine (FEDERATION.md)
    assert len(MAILLAGE_CONTEXT) == 133 + 2 + 2
    assert MAILLAGE_CONTEXT["tc"] == TC
    assert MAILLAGE_CONTEXT["wasDerivedFrom"] == {"@id": "prov:wasDerivedFrom", "@type": "@id"}
    assert MAILLAGE_CONTEXT["covers"] == {"@id": "tc:covers", "@type": "@id"}
    json.dumps(MAILLAGE_CONTEXT)  # plain JSON, ready to serialise


# -- expansion ----------------------------------------------------------------------------


def test_territory_actor_expands_with_our_terms(no_network: list[Any]) -> None:
    [node] = expand(territory_actor())
    assert node["@type"] == [AS + "Group"]
    assert values(node, SCHEMA + "additionalType") == [TC + "Territory"]
    assert values(node, TC + "territoryLevel") == ["commune"]
    assert values(node, "http://www.w3.org/ns/prov#wasDerivedFrom") == [
        "https://pays-y.example/t/pays-y"
    ]
    assert values(node, TC + "parentTerritory") == ["https://pays-y.example/t/pays-y"]
    assert values(node, TC + "indicatorCatalog") == ["https://network.example/indicators"]
    assert values(node, SCHEMA + "sameAs") == ["http://www.wikidata.org/entity/Q000000"]
    assert values(node, AS + "manuallyApprovesFollowers") == [False]
    assert values(node, TOOT + "discoverable") == [True]
    fields = node[AS + "attachment"]
    assert fields[0]["@type"] == [SCHEMA + "PropertyValue"]
    assert values(fields[0], SCHEMA + "propertyID") == ["insee-cog"]
    assert values(fields[0], SCHEMA + "value") == ["38999"]
    [place] = node[AS + "location"]
    [geometry] = place["https://w3id.org/valueflows/ont/vf#hasDetailedGeometry"]
    assert "http://www.opengis.net/ont/geosparql#asGeoJSON" in geometry
    [key] = node[SEC + "publicKey"]
    assert values(key, SEC + "owner") == ["https://saint-x.example/t/saint-x"]
    [multikey] = node[SEC + "assertionMethod"]
    assert multikey["@type"] == [SEC + "Multikey"]
    assert values(multikey, SEC + "controller") == ["https://saint-x.example/t/saint-x"]
    assert values(multikey, SEC + "publicKeyMultibase")[0].startswith("z6Mk")
    assert no_network == []


def test_territory_actor_compacts_back_to_our_terms(no_network: list[Any]) -> None:
    document = territory_actor()
    compacted = compact(expand(document), document_context())
    assert compacted["additionalType"] == "tc:Territory"
    assert compacted["territoryLevel"] == "commune"
    assert compacted["wasDerivedFrom"] == "https://pays-y.example/t/pays-y"
    assert compacted["assertionMethod"][0]["publicKeyMultibase"].startswith("z6Mk")


def test_mastodon_actor_expands(no_network: list[Any]) -> None:
    document = mastodon_actor()
    assert uses_only_known_contexts(document)
    [node] = expand(document)
    assert node["@type"] == [AS + "Person"]
    assert values(node, TOOT + "discoverable") == [True]
    assert values(node, TOOT + "featured") == [
        "https://mastodon.example/users/alice/collections/featured"
    ]
    assert values(node, AS + "alsoKnownAs") == ["https://old.example/users/alice"]
    [field] = node[AS + "attachment"]
    assert field["@type"] == ["http://schema.org#PropertyValue"]
    assert "alice.example" in values(field, "http://schema.org#value")[0]
    [key] = node[SEC + "publicKey"]
    assert values(key, SEC + "publicKeyPem")[0].startswith("-----BEGIN PUBLIC KEY-----")
    [emoji] = node[AS + "tag"]
    assert emoji["@type"] == [TOOT + "Emoji"]
    assert values(node, "http://www.w3.org/ns/ldp#inbox") == [
        "https://mastodon.example/users/alice/inbox"
    ]


def test_fedify_actor_expands(no_network: list[Any]) -> None:
    document = fedify_actor()
    assert uses_only_known_contexts(document)
    [node] = expand(document)
    [multikey] = node[SEC + "assertionMethod"]
    assert multikey["@type"] == [SEC + "Multikey"]
    [key] = node[SEC + "publicKey"]
    assert key["@type"] == [SEC + "Key"]


def test_unknown_remote_context_raises_without_fetching(no_network: list[Any]) -> None:
    url = f"https://contexts.example/{uuid.uuid4()}.jsonld"
    document = {"@context": [ACTIVITYSTREAMS_CONTEXT, url], "type": "Note", "content": "hi"}
    assert not uses_only_known_contexts(document)
    with pytest.raises(jsonld.JsonLdError) as raised:
        expand(document)
    cause = raised.value.__cause__
    assert isinstance(cause, jsonld.JsonLdError)
    assert cause.code == "loading document failed"
    assert cause.details == {"url": url}
    assert no_network == []


def test_unknown_context_in_compact_raises_without_fetching(no_network: list[Any]) -> None:
    url = f"https://contexts.example/{uuid.uuid4()}"
    with pytest.raises(jsonld.JsonLdError):
        compact({"@context": ACTIVITYSTREAMS_CONTEXT, "type": "Note"}, url)
    assert no_network == []


def test_expand_wants_a_parsed_document() -> None:
    with pytest.raises(TypeError):
        expand("https://www.w3.org/ns/activitystreams")


def test_expand_does_not_modify_its_input() -> None:
    document = territory_actor()
    before = copy.deepcopy(document)
    expand(document)
    assert document == before


# -- fast path ----------------------------------------------------------------------------


def test_known_contexts_need_no_pyld() -> None:
    assert uses_only_known_contexts(territory_actor())
    assert uses_only_known_contexts({"@context": "https://www.w3.org/ns/activitystreams"})
    assert uses_only_known_contexts(
        {"@context": ["http://www.w3.org/ns/activitystreams", {"toot": TOOT}]}
    )


@pytest.mark.parametrize(
    "document",
    [
        {"type": "Note"},
        {"@context": None},
        {"@context": 42},
        {"@context": [ACTIVITYSTREAMS_CONTEXT, None]},
        {"@context": "https://contexts.example/ns"},
        {"@context": [ACTIVITYSTREAMS_CONTEXT, {"@import": "https://contexts.example/ns"}]},
        {
            "@context": [
                ACTIVITYSTREAMS_CONTEXT,
                {"Thing": {"@id": "ex:Thing", "@context": "https://contexts.example/ns"}},
            ]
        },
        {
            "@context": ACTIVITYSTREAMS_CONTEXT,
            "type": "Create",
            "object": {"@context": "https://contexts.example/ns", "type": "Note"},
        },
        {
            "@context": ACTIVITYSTREAMS_CONTEXT,
            "type": "Collection",
            "items": [{"type": "Note"}, [{"@context": ["https://contexts.example/ns"]}]],
        },
        ["not", "an", "object"],
    ],
)
def test_unknown_or_missing_contexts_take_the_slow_path(document: Any) -> None:
    assert not uses_only_known_contexts(document)


def test_fast_path_copes_with_deep_nesting() -> None:
    document: dict[str, Any] = {"@context": ACTIVITYSTREAMS_CONTEXT}
    node = document
    for _ in range(5000):
        node["object"] = {"type": "Note"}
        node = node["object"]
    assert uses_only_known_contexts(document)
    context: Any = ACTIVITYSTREAMS_CONTEXT
    for _ in range(5000):
        context = [context]
    assert uses_only_known_contexts({"@context": context})
