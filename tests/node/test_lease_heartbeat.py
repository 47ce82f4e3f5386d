"""The lease heartbeat, on both backends: a delivery to a peer slower to answer than the
lease, and inbox items slower to apply than it, stay this process's while it works on them;
another process on the same database (a second store with another owner) does not take them
over and send or apply them a second time. Once the holder stops renewing, they are free."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from federation.ports import Settlement
from instance_config import InstanceConfig
from node.services.federation.announcements import announce
from node.storage.base import utcnow
from node.storage.inbox import SqlInbox
from node.storage.outbox import SqlDeliveryStore
from node.web.app import create_app
from node.web.keys import inbox_store_key, lease_heartbeat_key, runtime_key, sessions_key
from tests.conftest import initialise
from tests.node.test_inbox import note_create
from tests.node.test_workers_survive import follow_the_territory, post, received
from tests.testrig.nodes import eventually_async
from tests.testrig.remote import FakeRemote

#: the shortest lease the configuration accepts, so that the test waits a few seconds only
LEASE_SECONDS = 2
#: how long the holder keeps its work in hand: well past one lease
HELD_SECONDS = 2.5 * LEASE_SECONDS


def _config(make_config: Any, database_url: str) -> InstanceConfig:
    return make_config(
        database={"url": database_url, "lease_seconds": LEASE_SECONDS},
        federation={"allow_private_addresses": True},
    )


async def test_a_slow_delivery_keeps_its_host_until_it_is_answered(
    aiohttp_client: Any, make_config: Any, database_url: str, remote: FakeRemote
) -> None:
    config = _config(make_config, database_url)
    await initialise(config)
    node: TestClient = await aiohttp_client(create_app(config))
    follower = remote.add_actor("follower")
    await follow_the_territory(node, remote, follower)

    answer = asyncio.Event()
    remote.before_answer = answer.wait  # the follower takes its time to answer
    note = await announce(node.app[runtime_key], "Une annonce lente à livrer.")
    await eventually_async(lambda: received(remote, follower, "Create"), "the POST", within=30)

    other = SqlDeliveryStore(node.app[sessions_key], owner="another-process")
    await asyncio.sleep(HELD_SECONDS)
    assert await other.due_hosts(utcnow(), 1000) == [], "the host was taken over mid-delivery"
    answer.set()

    await eventually_async(
        lambda: _no_due_hosts(other), "the delivery to be recorded as done", within=30
    )
    copies = [a for a in received(remote, follower, "Create") if a["object"]["id"] == note.uri]
    assert len(copies) == 1, copies


async def _no_due_hosts(store: SqlDeliveryStore) -> bool:
    return await store.count_due(utcnow()) == 0


async def test_claimed_items_stay_claimed_while_the_heartbeat_runs(
    aiohttp_client: Any, make_config: Any, database_url: str, remote: FakeRemote
) -> None:
    config = _config(make_config, database_url)
    await initialise(config)
    node: TestClient = await aiohttp_client(create_app(config, workers=False))
    sender = remote.add_actor("sender")
    for number in range(3):
        assert await post(node, sender, note_create(sender, number)) == 202
    inbox: SqlInbox = node.app[inbox_store_key]
    other = SqlInbox(node.app[sessions_key], owner="another-process")
    claimed = await inbox.claim_due(utcnow(), 10)
    assert len(claimed) == 3

    # While this process works on its items, the heartbeat the server runs keeps them.
    heartbeat = asyncio.create_task(node.app[lease_heartbeat_key].run_forever())
    try:
        await asyncio.sleep(HELD_SECONDS)
        assert await other.claim_due(utcnow(), 10) == [], "claimed items were taken over"
        await inbox.settle_many([Settlement(claimed[0].item_id, "applied", "", None)])
    finally:
        heartbeat.cancel()
        await asyncio.gather(heartbeat, return_exceptions=True)

    # A process that stops renewing (it died) loses what it still held, once the lease ends.
    await asyncio.sleep(LEASE_SECONDS + 0.5)
    taken_over = await other.claim_due(utcnow(), 10)
    assert sorted(item.item_id for item in taken_over) == sorted(
        item.item_id for item in claimed[1:]
    )
