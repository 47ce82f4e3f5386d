"""The intake's group commit on a real node, real signatures and a real SQLite file: every 202
is sent only once its activity is committed (another connection reads it right after), the
activity id deduplicates exactly under concurrency, and when the database cannot be written
the waiting senders are told to come back (503 + Retry-After) instead of hanging or a 500,
after which the writer goes on by itself. The store's bounded queue is checked on both
backends."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.ports import ReceivedActivity, Settlement, StoreUnavailable
from node.storage.base import utcnow
from node.storage.engine import SQLITE_BUSY_TIMEOUT_MS
from node.storage.group_commit import GroupCommitter
from node.storage.inbox import SqlInbox
from node.storage.models import InboxItem
from tests.node.test_inbox import INBOX, count, make_node, note_create
from tests.testrig.faults import SqliteWriteLock
from tests.testrig.remote import FakeRemote, RemoteActorDoc, signed_post

#: Concurrent POSTs, from this many senders, at most IN_FLIGHT at once.
POSTS, SENDERS, IN_FLIGHT = 120, 4, 24
#: Longest the other writer holds the lock (the test releases it once it was answered).
LOCK_HELD_AT_MOST_SECONDS = 60
#: What the waiting requests may take to be answered: two batches meeting the busy timeout
#: (the first request's, then all the others'), with room for a loaded machine.
ANSWERED_WITHIN_SECONDS = 3 * SQLITE_BUSY_TIMEOUT_MS / 1000 + 5


def stored(database: Path, activity_id: str) -> int:
    """Rows for `activity_id`, read through a connection of its own (not the node's)."""
    with sqlite3.connect(database, timeout=10) as connection:
        row = connection.execute(
            "SELECT count(*) FROM inbox_items WHERE activity_id = ?", (activity_id,)
        ).fetchone()
    return int(row[0])


async def sqlite_node(aiohttp_client: Any, make_config: Any) -> tuple[TestClient, Path]:
    """A node without background workers on a SQLite file; and that file."""
    node = await make_node(aiohttp_client, make_config)
    config = make_config()
    return node, Path(config.database.url.split("///", 1)[1])


async def post_raw(node: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    response = await node.post("/inbox", data=body, headers=headers)
    return response.status, response


async def test_each_202_follows_the_commit_and_each_id_is_stored_once(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node, database = await sqlite_node(aiohttp_client, make_config)
    senders = [remote.add_actor(f"sender{n}") for n in range(SENDERS)]
    activities = [note_create(senders[n % SENDERS], n) for n in range(POSTS)]
    # Every activity twice (a sender retrying before its first answer came), then once more.
    signed = [
        (activity["id"], *signed_post(senders[n % SENDERS], INBOX, activity))
        for n, activity in enumerate(activities)
    ]
    gate = asyncio.Semaphore(IN_FLIGHT)
    seen_after_202: list[int] = []

    async def deliver(activity_id: str, body: bytes, headers: dict[str, str]) -> int:
        async with gate:
            response = await node.post("/inbox", data=body, headers=headers)
            if response.status == 202:  # acknowledged: it must be readable by anyone now
                seen_after_202.append(stored(database, activity_id))
            return response.status

    statuses = await asyncio.gather(*(deliver(*one) for one in signed + signed))
    assert statuses == [202] * (2 * POSTS)
    assert seen_after_202 == [1] * (2 * POSTS)  # committed before its 202, and only once
    again = await asyncio.gather(*(deliver(*one) for one in signed[:10]))
    assert again == [202] * 10
    assert await count(node, InboxItem) == POSTS
    assert all(stored(database, activity["id"]) == 1 for activity in activities)


async def test_a_database_that_cannot_be_written_answers_503_then_the_writer_goes_on(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node, database = await sqlite_node(aiohttp_client, make_config)
    senders: list[RemoteActorDoc] = [remote.add_actor(f"sender{n}") for n in range(SENDERS)]
    for n, sender in enumerate(senders):  # keys fetched and cached before the lock
        body, headers = signed_post(sender, INBOX, note_create(sender, 1000 + n))
        assert (await post_raw(node, body, headers))[0] == 202
    lock = SqliteWriteLock(database, LOCK_HELD_AT_MOST_SECONDS).start()
    await asyncio.get_running_loop().run_in_executor(None, lock.taken.wait, 30)
    waiting = [
        signed_post(senders[n % SENDERS], INBOX, note_create(senders[n % SENDERS], n))
        for n in range(IN_FLIGHT)
    ]
    try:
        answers = await asyncio.wait_for(
            asyncio.gather(*(node.post("/inbox", data=b, headers=h) for b, h in waiting)),
            ANSWERED_WITHIN_SECONDS,  # a bound, not a measure: each write is not tried alone
        )
    finally:
        lock.release()
        await asyncio.get_running_loop().run_in_executor(None, lock.join)
    assert [answer.status for answer in answers] == [503] * IN_FLIGHT
    for answer in answers:
        assert int(answer.headers["Retry-After"]) > 0
        assert "try again later" in (await answer.json())["error"]
    assert await count(node, InboxItem) == SENDERS  # nothing acknowledged, nothing stored

    retried = await asyncio.gather(*(node.post("/inbox", data=b, headers=h) for b, h in waiting))
    assert [answer.status for answer in retried] == [202] * IN_FLIGHT
    assert await count(node, InboxItem) == SENDERS + IN_FLIGHT


def received(number: int) -> ReceivedActivity:
    activity_id = f"https://peer.example/activities/{number}"
    return ReceivedActivity(
        activity_id=activity_id,
        type="Create",
        actor="https://peer.example/users/a",
        object_id=None,
        raw={"id": activity_id, "type": "Create", "actor": "https://peer.example/users/a"},
    )


async def test_the_writes_queue_is_bounded(
    node_sessions: async_sessionmaker[AsyncSession],
) -> None:
    inbox = SqlInbox(node_sessions, GroupCommitter(node_sessions, max_pending=3))
    results = await asyncio.gather(
        *(inbox.add_if_new(received(n)) for n in range(5)), return_exceptions=True
    )
    assert results[:3] == [True, True, True]
    assert [type(result) for result in results[3:]] == [StoreUnavailable, StoreUnavailable]
    assert await inbox.add_if_new(received(3)) is True  # the queue emptied: accepted again
    assert await inbox.add_if_new(received(0)) is False


@pytest.mark.parametrize("duplicates", [2, 5])
async def test_one_id_sent_at_once_many_times_is_stored_once(
    node_sessions: async_sessionmaker[AsyncSession], duplicates: int
) -> None:
    inbox = SqlInbox(node_sessions)
    results = await asyncio.gather(*(inbox.add_if_new(received(7)) for _ in range(duplicates)))
    assert sorted(results) == [False] * (duplicates - 1) + [True]


async def test_the_sender_text_is_stored_as_is_unless_reading_changed_the_document(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node, database = await sqlite_node(aiohttp_client, make_config)
    alice = remote.add_actor("alice")
    plain = note_create(alice, 1)
    hostile = note_create(alice, 2, url="javascript:alert(1)")
    bodies = {}
    for activity in (plain, hostile):
        body, headers = signed_post(alice, INBOX, activity)
        assert (await post_raw(node, body, headers))[0] == 202
        bodies[activity["id"]] = body.decode()
    with sqlite3.connect(database) as connection:
        raw = dict(connection.execute("SELECT activity_id, raw FROM inbox_items").fetchall())
    assert raw[plain["id"]] == bodies[plain["id"]]  # not serialised again
    assert "javascript:" not in raw[hostile["id"]]  # the link dropped on reading is not kept


async def test_the_claims_of_a_failed_pass_are_due_again_for_the_same_process(
    node_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A worker pass that claimed items and then failed (the database locked while it applied)
    # settles nothing; its claims stay this process's, renewed by the lease heartbeat, so the
    # next pass must take them again rather than leave them until the process ends.
    inbox = SqlInbox(node_sessions, owner="this-process")
    other = SqlInbox(node_sessions, owner="other-process")
    for n in range(3):
        assert await inbox.add_if_new(received(n)) is True
    first = await inbox.claim_due(utcnow(), 10)
    assert len(first) == 3
    assert await inbox.renew_claims() == 3  # the heartbeat keeps them this process's
    assert await other.claim_due(utcnow(), 10) == []  # another process still may not
    again = await inbox.claim_due(utcnow(), 10)
    assert sorted(item.item_id for item in again) == sorted(item.item_id for item in first)
    await inbox.settle_many([Settlement(item.item_id, "applied", "ok") for item in again])
    assert await inbox.claim_due(utcnow(), 10) == [] and inbox.backlog() == 0
