"""A strict independent server receives our offers and decisions and reads them as posts:
the Fedify 1.5.9 test peer follows a served node's territory, `maillage demo` then fills the
node through its services, and the node's delivery worker sends the peer every Create.

Fedify parses each activity with its own JSON-LD code before its inbox listener records it
(`fedify_class`, `object_type` and `json` in the control API), and its lookup fetches and
parses the objects again: an offer is a Note whose content holds the title, status line,
text and a link to the offer's page, with no summary or name that Mastodon or GoToSocial
would turn into a content warning; a decision is a Question with its options and end time,
a poll, with the same readable content.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from protocols.html import html_to_text
from tests.testrig.fedify import FedifyPeer
from tests.testrig.nodes import MaillageNode, eventually

#: The sample's offers still published (8 but the closed one, whose Create the outbox
#: collapses into its Delete) and decisions (node/demo/territory_data).
OFFERS, DECISIONS = 7, 3
#: The deliveries follow the demo within seconds; a slow machine gets a margin.
DELIVERY_WAIT = 60


@pytest.fixture
def alpha(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaillageNode]:
    node = MaillageNode(tmp_path_factory.mktemp("fedify-posts"), "Saint-Alpha").start()
    yield node
    print("--- Saint-Alpha log ---", node.stop()[-4000:], sep="\n")


def offers_and_polls(peer: FedifyPeer, node: MaillageNode) -> tuple[list[Any], list[Any]]:
    """The Creates of offers and of decisions the peer accepted from the territory so far."""
    received = peer.received(type="Create", actor=node.territory)
    offers = [
        entry for entry in received if entry["raw"]["object"].get("additionalType") == "vf:Proposal"
    ]
    polls = [entry for entry in received if entry.get("object_type") == "Question"]
    return offers, polls


def assert_reads_as_a_post(entry: dict[str, Any], kind: str) -> dict[str, Any]:
    """What the peer parsed is a post of `kind` Mastodon shows in full; returns its object."""
    assert (entry["fedify_class"], entry["object_type"]) == ("Create", kind), entry
    sent, parsed = entry["raw"]["object"], entry["json"]["object"]
    assert parsed["type"] == kind, parsed
    assert "summary" not in sent and "name" not in sent, sent
    assert "summary" not in parsed and "name" not in parsed, parsed
    assert parsed["id"] == sent["id"] and parsed["url"] == sent["id"], parsed
    content = parsed["content"]
    assert content.startswith("<p><strong>"), content
    assert html_to_text(content).startswith(sent["headline"]), content
    assert f'href="{sent["id"]}"' in content, content
    assert sent["statusLine"].split(" · ")[0] in content, content
    return dict(parsed)


def test_fedify_receives_offers_and_decisions_as_readable_posts_and_polls(
    alpha: MaillageNode, fedify_peer: FedifyPeer
) -> None:
    fedify_peer.follow(alpha.acct)
    assert fedify_peer.following(target=alpha.territory, state="accepted", wait=20)

    alpha.cli("demo")

    offers, questions = eventually(
        lambda: (
            (found := offers_and_polls(fedify_peer, alpha))
            and len(found[0]) >= OFFERS
            and len(found[1]) >= DECISIONS
            and found
        ),
        lambda: f"the sample's offers and decisions at the peer: {fedify_peer.inbox_log()[-3:]}",
        timeout=DELIVERY_WAIT,
    )
    for entry in offers:
        assert_reads_as_a_post(entry, "Note")
    for entry in questions:
        poll = assert_reads_as_a_post(entry, "Question")
        options = poll.get("oneOf") or poll.get("anyOf")
        sent = entry["raw"]["object"]["oneOf"]
        assert [o["name"] for o in options] == [o["name"] for o in sent], poll
        assert poll["endTime"] == entry["raw"]["object"]["endTime"], poll

    # Fedify's lookup (signed GET, JSON-LD parse) reads the same objects at their URLs
    for entry, kind in ((offers[0], "Note"), (questions[0], "Question")):
        found = fedify_peer.lookup(entry["object_id"])
        assert found.get("ok") is True and found.get("warnings") == [], found
        assert (found["type"], found["id"]) == (kind, entry["object_id"]), found
        assert "summary" not in found["json"] and "name" not in found["json"], found["json"]
