"""Discovery checked by an independent, strict implementation: the Fedify 1.5.9 test peer.

A real `maillage serve` on loopback and a real `node peer.mjs`: the peer looks our actors up
with Fedify's own code (WebFinger client, signed GET with its document loader, JSON-LD
parser). Passing proves Fedify accepts our WebFinger answers, content types, JSON-LD
@context and actor documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.testrig.fedify import FedifyPeer
from tests.testrig.postgres import free_port
from tests.testrig.processes import run_maillage, start_maillage, stop, wait_until_serving

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AP_TYPES = ("application/activity+json", "application/ld+json")


@dataclass
class ServedNode:
    base: str
    host: str  # host:port, as in acct: handles

    @property
    def territory(self) -> str:
        return f"{self.base}/actors/territoire"

    @property
    def instance(self) -> str:
        return f"{self.base}/actor"


@pytest.fixture(scope="module")
def maillage_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    """`maillage init` then `maillage serve`, a real process on a free loopback port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data: Path = tmp_path_factory.mktemp("fedify-discovery") / "node"
    init = run_maillage(
        "init",
        "--data",
        str(data),
        "--base-url",
        base,
        "--name",
        "Saint-Alpha",
        "--allow-private-addresses",
    )
    assert init.returncode == 0, init.stderr
    process = start_maillage("serve", "--data", str(data))
    try:
        wait_until_serving(base, process)
        yield ServedNode(base=base, host=f"127.0.0.1:{port}")
    finally:
        code, _, err = stop(process)
        assert code == 0, err[-4000:]


def looked_up(peer: FedifyPeer, uri: str) -> dict[str, Any]:
    """The peer's lookup, with Fedify's error text and logs in the message when it fails."""
    result = peer.lookup(uri)
    assert result.get("ok") is True, (
        f"Fedify refused {uri}: {result.get('error')}\n"
        f"answer: {result}\noutbound: {peer.outbound_log()}\npeer stderr:\n{peer.stderr_tail()}"
    )
    assert result.get("warnings") == [], f"Fedify warned about {uri}: {result['warnings']}"
    return result


def requests_to(peer: FedifyPeer, node: ServedNode) -> list[dict[str, Any]]:
    return [entry for entry in peer.outbound_log() if entry["url"].startswith(node.base + "/")]


def assert_signed_fetch_answered(peer: FedifyPeer, entry: dict[str, Any], url: str) -> None:
    """A GET the peer made to fetch an ActivityPub document, signed with its key, got 200."""
    assert entry["method"] == "GET" and entry["url"] == url, entry
    assert entry["status"] == 200 and entry["error"] is None, entry
    assert any(kind in (entry["accept"] or "") for kind in AP_TYPES), entry
    signature = entry["signature"] or {}
    assert signature.get("keyId") == f"{peer.actor}#main-key", entry


def assert_actor_document(document: dict[str, Any], kind: str, actor_id: str) -> None:
    """What the peer got is the document we serve, with the ActivityStreams context."""
    context = document["@context"]
    contexts = context if isinstance(context, list) else [context]
    assert AS_CONTEXT in contexts, context
    assert document["id"] == actor_id and document["type"] == kind
    assert document["publicKey"]["owner"] == actor_id
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(actor_id))
    assert document["inbox"].startswith(origin), document["inbox"]


def test_fedify_resolves_the_territory_by_acct(
    fedify_peer: FedifyPeer,
    maillage_node: ServedNode,
) -> None:
    handle = f"acct:territoire@{maillage_node.host}"
    result = looked_up(fedify_peer, handle)
    assert result["type"] == "Group"
    assert result["id"] == result["url"] == maillage_node.territory
    assert result["webfinger"]["subject"] == handle
    assert_actor_document(result["json"], "Group", maillage_node.territory)
    assert result["json"]["name"] == "Saint-Alpha"

    webfinger, fetch = requests_to(fedify_peer, maillage_node)
    # Fedify's WebFinger client, unsigned, asking for JRD (sent over http on loopback)
    assert webfinger["method"] == "GET" and webfinger["status"] == 200, webfinger
    assert webfinger["url"].startswith(f"{maillage_node.base}/.well-known/webfinger?resource=")
    assert webfinger["accept"] == "application/jrd+json" and webfinger["signature"] is None
    assert_signed_fetch_answered(fedify_peer, fetch, maillage_node.territory)


@pytest.mark.parametrize(("which", "kind"), [("territory", "Group"), ("instance", "Application")])
def test_fedify_resolves_actor_urls(
    fedify_peer: FedifyPeer,
    maillage_node: ServedNode,
    which: str,
    kind: str,
) -> None:
    url = getattr(maillage_node, which)
    result = looked_up(fedify_peer, url)
    assert result["type"] == kind
    assert result["id"] == result["url"] == url
    assert "webfinger" not in result
    assert_actor_document(result["json"], kind, url)

    fetches = requests_to(fedify_peer, maillage_node)
    assert fetches, fedify_peer.outbound_log()
    for entry in fetches:
        assert_signed_fetch_answered(fedify_peer, entry, url)


def test_fedify_resolves_the_instance_actor_by_acct(
    fedify_peer: FedifyPeer,
    maillage_node: ServedNode,
) -> None:
    # The instance actor is named after the host, as Mastodon's is.
    handle = f"acct:127.0.0.1@{maillage_node.host}"
    result = looked_up(fedify_peer, handle)
    assert result["type"] == "Application" and result["id"] == maillage_node.instance
    assert result["webfinger"]["subject"] == handle


def test_every_request_fedify_made_was_answered(
    fedify_peer: FedifyPeer,
    maillage_node: ServedNode,
) -> None:
    for uri in (
        f"acct:territoire@{maillage_node.host}",
        maillage_node.territory,
        maillage_node.instance,
    ):
        looked_up(fedify_peer, uri)
    entries = fedify_peer.outbound_log()
    assert entries and all(entry["url"].startswith(maillage_node.base + "/") for entry in entries)
    failed = [entry for entry in entries if entry["status"] != 200 or entry["error"]]
    assert failed == [], failed
    # nothing reached the peer's inbox: a lookup sends no activity either way
    assert fedify_peer.inbox_log() == [] and fedify_peer.received() == []
