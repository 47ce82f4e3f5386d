"""Federation end to end: two Maillage nodes and the strict Fedify peer, all real processes
on loopback, real signatures both ways (issue: federation core, acceptance 8)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from html import unescape

import pytest

from protocols.activitystreams import PUBLIC
from tests.testrig.fedify import FedifyPeer
from tests.testrig.nodes import MaillageNode, eventually, inbox_journal


@pytest.fixture(scope="module")
def alpha(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaillageNode]:
    node = MaillageNode(tmp_path_factory.mktemp("alpha"), "Saint-Alpha").start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def beta(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaillageNode]:
    node = MaillageNode(tmp_path_factory.mktemp("beta"), "Saint-Beta").start()
    yield node
    node.stop()


def total(node: MaillageNode, collection: str) -> int:
    status, document = node.json(f"/actors/territoire/{collection}")
    assert status == 200
    return int(document["totalItems"])


def stored_activities(node: MaillageNode, ids: list[str]) -> int:
    """How many of these activity ids the node kept in its inbox table (read-only look)."""
    with sqlite3.connect(f"file:{node.data / 'maillage.sqlite3'}?mode=ro", uri=True) as db:
        marks = ",".join("?" * len(ids))
        return int(
            db.execute(
                f"SELECT count(*) FROM inbox_items WHERE activity_id IN ({marks})", ids
            ).fetchone()[0]
        )


def test_two_nodes_follow_each_other_and_exchange_announcements_and_replies(
    alpha: MaillageNode, beta: MaillageNode
) -> None:
    # Given two territories that follow each other
    assert "follow request sent" in beta.cli("follow", alpha.acct)
    assert "follow request sent" in alpha.cli("follow", f"@territoire@{beta.domain}")
    eventually(
        lambda: total(alpha, "followers") == 1 and total(beta, "following") == 1,
        "beta follows alpha",
    )
    eventually(
        lambda: total(beta, "followers") == 1 and total(alpha, "following") == 1,
        "alpha follows beta",
    )
    status, page = alpha.json("/actors/territoire/followers?page=1")
    assert page["orderedItems"] == [beta.territory]

    # When Alpha announces, Beta shows it
    note_id = alpha.cli("announce", "Bonjour de Saint-Alpha : marché samedi !")
    assert note_id.startswith(f"{alpha.base}/notes/")
    eventually(lambda: "marché samedi" in beta.html("/"), "the announcement on Beta's home page")

    # And Beta's reply shows under Alpha's announcement
    reply_id = beta.cli("announce", "--in-reply-to", note_id, "Merci, nous viendrons !")
    eventually(
        lambda: "nous viendrons" in alpha.html(note_id.removeprefix(alpha.base)),
        "Beta's reply on Alpha",
    )
    status, note = alpha.json(note_id)
    assert status == 200 and note["type"] == "Note" and note["attributedTo"] == alpha.territory
    status, reply = beta.json(reply_id)
    assert reply["inReplyTo"] == note_id and alpha.territory in reply["cc"]
    assert total(alpha, "outbox") == 1


def test_fedify_peer_follows_and_interacts_with_the_territory(
    alpha: MaillageNode, fedify_peer: FedifyPeer
) -> None:
    # The strict peer follows the territory and is accepted
    fedify_peer.follow(alpha.acct)
    assert fedify_peer.following(target=alpha.territory, state="accepted", wait=20)
    eventually(
        lambda: (
            fedify_peer.actor
            in alpha.json("/actors/territoire/followers?page=1")[1]["orderedItems"]
        ),
        "the peer among Alpha's followers",
    )

    # An announcement reaches it, signed in a way it verifies
    note_id = alpha.cli("announce", "Conseil de quartier jeudi à 19 h.")
    received = fedify_peer.received(type="Create", object=note_id, wait=20)
    assert received, fedify_peer.inbox_log()
    assert "Conseil de quartier" in received[0]["json"]["object"]["content"]
    verified = [e for e in fedify_peer.inbox_log() if e.get("http_signature", {}).get("verified")]
    assert any(e["http_signature"]["owner"] == alpha.territory for e in verified)

    # It replies: the reply shows under the announcement
    reply = fedify_peer.note(
        to=[alpha.territory],
        cc=[PUBLIC],
        content="<p>J'y serai <script>alert(1)</script></p>",
        inReplyTo=note_id,
        mentions=[alpha.territory],
    )
    assert reply.get("delivered"), reply
    note_page = note_id.removeprefix(alpha.base)
    page = eventually(
        lambda: (html := alpha.html(note_page)) and "serai" in html and html,
        "the peer's reply on the note page",
    )
    assert "<script>" not in page

    # It likes, then undoes the like
    like = fedify_peer.like(note_id)
    assert like.get("delivered"), like
    eventually(
        lambda: "1 j'aime" in unescape(alpha.html(note_page)),
        lambda: f"the like counted {inbox_journal(alpha)}",
    )
    fedify_peer.undo(like["like_id"])
    eventually(lambda: "0 j'aime" in unescape(alpha.html(note_page)), "the like undone")

    # It deletes its reply: the reply disappears
    fedify_peer.delete(reply["note_id"])
    eventually(
        lambda: "serai" not in alpha.html(note_id.removeprefix(alpha.base)), "the reply removed"
    )

    # The territory deletes its announcement: the peer is told, the note answers 410
    assert alpha.cli("delete", note_id) == f"deleted {note_id}"
    assert fedify_peer.received(type="Delete", object=note_id, wait=20), fedify_peer.inbox_log()
    status, tombstone = alpha.json(note_id)
    assert status == 410 and tombstone["type"] == "Tombstone"


def test_territory_follows_the_peer_and_receives_its_notes(
    alpha: MaillageNode, fedify_peer: FedifyPeer
) -> None:
    alpha.cli("follow", fedify_peer.acct)
    assert fedify_peer.followers(actor=alpha.territory, wait=20)
    eventually(
        lambda: alpha.json("/actors/territoire/following?page=1")[1]["orderedItems"].count(
            fedify_peer.actor
        ),
        "the peer in Alpha's following",
    )
    sent = fedify_peer.note(
        to=[PUBLIC], cc=["followers"], content="<p>Nouvelles du jardin partagé</p>"
    )
    assert sent.get("delivered"), sent
    eventually(lambda: "jardin partagé" in alpha.html("/"), "the peer's note on Alpha's home page")


def test_signed_garbage_is_refused_and_nothing_is_stored(
    alpha: MaillageNode, fedify_peer: FedifyPeer
) -> None:
    inbox = f"{alpha.base}/inbox"
    me = fedify_peer.actor
    base_id = f"{fedify_peer.base}/users/alice/garbage"
    cases = {
        "signer not actor": ({"actor": f"{fedify_peer.base}/users/mallory"}, {}, False, (401,)),
        "foreign-origin object": (
            {
                "object": {
                    "id": f"{alpha.base}/notes/forged",
                    "type": "Note",
                    "attributedTo": me,
                    "content": "forged",
                }
            },
            {},
            False,
            (403,),
        ),
        "old date": ({}, {"Date": "Mon, 01 Jan 2024 00:00:00 GMT"}, False, (401,)),
        "wrong key": (
            {},
            {
                "Signature": f'keyId="{me}#main-key",algorithm="rsa-sha256",'
                'headers="(request-target) host date digest",signature="AAAA"'
            },
            True,
            (401,),
        ),
        "unsigned": ({}, {}, True, (401,)),
    }
    ids = []
    for number, (name, (changes, headers, unsigned, expected)) in enumerate(cases.items()):
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{base_id}/{number}",
            "type": "Create",
            "actor": me,
            "to": [PUBLIC],
            "object": {
                "id": f"{base_id}/{number}/note",
                "type": "Note",
                "attributedTo": me,
                "content": f"garbage {name}",
                "to": [PUBLIC],
            },
        } | changes
        ids.append(activity["id"])
        answer = fedify_peer.send_raw(inbox, activity=activity, headers=headers, sign=not unsigned)
        assert answer["status"] in expected, (name, answer)
    # A body changed after signing: the signed Digest is of another body.
    tampered_activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{base_id}/tampered",
        "type": "Like",
        "actor": me,
        "object": f"{alpha.base}/actors/territoire",
    }
    ids.append(tampered_activity["id"])
    tampered = fedify_peer.send_raw(
        inbox,
        body=json.dumps(tampered_activity),
        headers={"Digest": "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
    )
    assert tampered["status"] == 401 and "digest" in tampered["body"].lower(), tampered
    assert stored_activities(alpha, ids) == 0
    assert "garbage" not in alpha.html("/")


def test_a_renamed_territory_sends_its_new_profile(
    alpha: MaillageNode, fedify_peer: FedifyPeer
) -> None:
    fedify_peer.follow(alpha.acct)
    assert fedify_peer.following(target=alpha.territory, state="accepted", wait=20)
    alpha.stop()
    toml = alpha.data / "maillage.toml"
    toml.write_text(
        toml.read_text().replace('name = "Saint-Alpha"', 'name = "Saint-Alpha-les-Bains"')
    )
    alpha.start()
    updates = fedify_peer.received(type="Update", actor=alpha.territory, wait=20)
    assert updates and updates[-1]["json"]["object"]["name"] == "Saint-Alpha-les-Bains"
