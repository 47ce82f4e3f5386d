"""Acceptance of moderation against the strict Fedify 1.5.9 peer (a real `node peer.mjs` on
loopback) and a real in-process node served on its own loopback port: a `Flag` from the
peer lands in the moderation queue; a suspension of the peer's domain (127.0.0.1:<port>,
from the admin's page) makes the node refuse its activities with 403 and stop delivering
to it; lifting the block restores both.

The peer's control API is synchronous HTTP: it is called from a thread so that the node,
served by this test's event loop, can answer the peer's own requests meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Any

from node.services.federation.announcements import announce
from node.storage.models import Report
from node.web.keys import delivery_worker_key, runtime_key
from protocols.activitystreams import PUBLIC
from tests.node import test_replication
from tests.node.test_needs import new_need
from tests.node.test_replication import Territory, pump
from tests.testrig.fedify import FedifyPeer
from tests.testrig.people import HTML, as_person, submit

#: the node fixture of the replication tests: initialised, served on a free loopback port
territory = test_replication.territory


async def peer_call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """A control API call of the peer, off the event loop that serves the node."""
    return await asyncio.to_thread(function, *args, **kwargs)


async def followed_by_peer(node: Territory, peer: FedifyPeer) -> None:
    """The peer follows the territory and gets the Accept."""
    await peer_call(peer.follow, f"acct:territoire@{node.base.removeprefix('http://')}")
    await pump(node)
    accepted = await peer_call(peer.following, target=node.actor, state="accepted", wait=20)
    assert accepted, await peer_call(peer.outbound_log)


def note_from(peer: FedifyPeer, number: int, node: Territory) -> dict[str, Any]:
    """A Create(Note) by the peer's actor, mentioning the territory."""
    note_id = f"{peer.base}/users/{peer.name}/notes/moderation-{number}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": peer.actor,
        "to": [PUBLIC],
        "cc": [node.actor],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": peer.actor,
            "to": [PUBLIC],
            "cc": [node.actor],
            "content": f"<p>note {number}</p>",
        },
    }


async def creates_posted(peer: FedifyPeer, node: Territory) -> list[dict[str, Any]]:
    """Every POST of a Create by the territory to the peer's inboxes, accepted or not."""
    return [
        entry
        for entry in await peer_call(peer.inbox_log)
        if (entry.get("activity") or {}).get("type") == "Create"
        and entry["activity"]["actor"] == node.actor
    ]


async def test_a_flag_lands_in_the_queue_and_a_domain_block_cuts_the_peer_off_until_lifted(
    territory: Any, aiohttp_client: Any, fedify_peer: FedifyPeer
) -> None:
    node: Territory = await territory("Saint-Modéré")
    runtime = node.client.app[runtime_key]
    inbox = f"{node.base}/inbox"
    await followed_by_peer(node, fedify_peer)

    # A Flag from the peer (Mastodon's shape) about one of the node's needs lands in the queue
    need_id = await new_need(node.client, "Une navette", text="Le samedi.")
    need_uri = f"{node.base}/needs/{need_id}"
    flag = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{fedify_peer.actor}#flags/1",
        "type": "Flag",
        "actor": fedify_peer.actor,
        "object": [node.actor, need_uri],
        "content": "Contenu trompeur",
    }
    sent = await peer_call(fedify_peer.send_raw, inbox, flag)
    assert sent["status"] == 202, sent
    await pump(node)
    [report] = await node.rows(Report)
    assert (report.origin, report.target_uri, report.reporter_uri) == (
        "remote",
        need_uri,
        fedify_peer.actor,
    )
    queue = await (await node.client.get("/moderation", headers=HTML)).text()
    assert "Contenu trompeur" in queue and "Une navette" in queue

    # An announcement is logged for the peer (a follower), not yet sent...
    posted = len(await creates_posted(fedify_peer, node))  # the need's Create, so far
    waiting = await announce(runtime, "Marché de Noël samedi")
    # ...when the admin suspends the peer's domain, host:port, from the domain blocks page
    admin = await aiohttp_client(node.client.server)
    await as_person(admin, "chef", "admin")
    peer_domain = fedify_peer.base.removeprefix("http://")
    blocked = await submit(
        admin,
        "/admin/domain-blocks",
        "/admin/domain-blocks",
        domain=peer_domain,
        severity="suspend",
        public_comment="Essai",
    )
    assert blocked.status == 302, await blocked.text()

    # its activities are refused with 403, before any fetch
    refused = await peer_call(fedify_peer.send_raw, inbox, note_from(fedify_peer, 1, node))
    assert refused["status"] == 403 and "suspended" in refused["body"], refused
    # nothing is delivered to it: the waiting announcement is skipped, follows are cut
    await node.client.app[delivery_worker_key].run_once()
    await announce(runtime, "Conseil jeudi")
    await node.client.app[delivery_worker_key].run_once()
    assert len(await creates_posted(fedify_peer, node)) == posted

    # Lifting the block restores both ways
    lifted = await submit(
        admin, "/admin/domain-blocks", "/admin/domain-blocks/remove", domain=peer_domain
    )
    assert lifted.status == 302, await lifted.text()
    accepted = await peer_call(fedify_peer.send_raw, inbox, note_from(fedify_peer, 2, node))
    assert accepted["status"] == 202, accepted
    await followed_by_peer(node, fedify_peer)  # the suspension had cut the follow
    restored = await announce(runtime, "Fête du village dimanche")
    await pump(node)
    received = await peer_call(fedify_peer.received, type="Create", object=restored.uri, wait=20)
    assert received, await peer_call(fedify_peer.inbox_log)
    # what was skipped during the suspension stays skipped: only the new announcement went
    assert len(await creates_posted(fedify_peer, node)) == posted + 1
    assert not await peer_call(fedify_peer.received, type="Create", object=waiting.uri)
