"""The inbox at its limits, on a real node, real SQLite file and real signatures: past
`federation.max_inbox_backlog` senders are told to come back (503 + Retry-After) until the
worker has caught up; a run of posts is applied in one transaction, not one per post."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from node.storage.models import InboxItem, Note
from node.web.app import create_app
from node.web.keys import engine_key, inbox_worker_key
from tests.conftest import initialise
from tests.node.test_inbox import INBOX, count, make_node, note_create, post
from tests.testrig.remote import FakeRemote, signed_post

LIMIT = 3


async def test_a_full_backlog_answers_503_with_retry_after_until_it_is_applied(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node = await make_node(aiohttp_client, make_config, max_inbox_backlog=LIMIT)
    alice = remote.add_actor("alice")
    for number in range(LIMIT):
        assert (await post(node, alice, note_create(alice, number)))[0] == 202
    body, headers = signed_post(alice, INBOX, note_create(alice, 9))
    refused = await node.post("/inbox", data=body, headers=headers)
    assert refused.status == 503
    assert int(refused.headers["Retry-After"]) > 0
    assert "waiting to be applied" in (await refused.json())["error"]
    assert await count(node, InboxItem) == LIMIT  # nothing more stored

    await node.app[inbox_worker_key].run_once()
    assert await post(node, alice, note_create(alice, 9)) == (
        202,
        {"accepted": note_create(alice, 9)["id"]},
    )
    assert await count(node, Note) == LIMIT  # the last one waits for the worker


async def test_the_backlog_left_by_an_earlier_run_counts_at_start(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    config = make_config(federation={"allow_private_addresses": True, "max_inbox_backlog": 2})
    await initialise(config)
    first = await aiohttp_client(create_app(config, workers=False))
    alice = remote.add_actor("alice")
    for number in range(2):
        assert (await post(first, alice, note_create(alice, number)))[0] == 202
    await first.close()
    again = await aiohttp_client(create_app(config, workers=False))
    assert (await post(again, alice, note_create(alice, 5)))[0] == 503


async def test_a_run_of_posts_is_applied_and_settled_in_a_few_transactions(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node = await make_node(aiohttp_client, make_config)
    senders = [remote.add_actor(f"sender{n}") for n in range(3)]
    posts = [note_create(senders[n % 3], n) for n in range(30)]
    twice = note_create(senders[0], 100)  # the same post in two activities
    twice_again = {**twice, "id": twice["id"] + "/again"}
    for activity in [*posts, twice, twice_again]:
        author = next(s for s in senders if s.uri == activity["actor"])
        assert (await post(node, author, activity))[0] == 202
    commits = 0

    def counted(_connection: Any) -> None:
        nonlocal commits
        commits += 1

    engine = node.app[engine_key].sync_engine
    event.listen(engine, "commit", counted)
    try:
        assert await node.app[inbox_worker_key].run_once() == len(posts) + 2
    finally:
        event.remove(engine, "commit", counted)
    assert commits <= 3, commits  # the posts together, then their outcomes; not 2 per post
    assert await count(node, Note) == len(posts) + 1
    assert await count(node, InboxItem, InboxItem.state == "applied") == len(posts) + 1
    assert await count(node, InboxItem, InboxItem.note == "post already known") == 1
