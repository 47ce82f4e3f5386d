"""The outbox log, cursors and inbox store on both backends (SQLite and a real PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.http import DeliveryOutcome
from federation.ports import ReceivedActivity, Settlement
from node.domain.actors import ActorKind
from node.storage.actors import get_actor_of_kind
from node.storage.base import utcnow
from node.storage.inbox import SqlInbox
from node.storage.outbox import SqlDeliveryStore, append_to_outbox


async def test_log_cursor_and_inbox_on_each_backend(
    node_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = node_sessions
    async with sessions.begin() as session:
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
        assert territory is not None
        for number in range(3):
            activity = {
                "id": f"https://saint-x.example/activities/{number}",
                "type": "Create",
                "object": {"id": f"https://saint-x.example/notes/{number}"},
                "to": [],
            }
            await append_to_outbox(
                session,
                activity,
                territory.id,
                ["https://a.example/inbox", "https://b.example/inbox"],
                public=True,
            )
    store = SqlDeliveryStore(sessions)
    now = utcnow()
    assert sorted(await store.due_hosts(now, 10)) == ["a.example", "b.example"]
    pending = await store.pending_for_host("a.example", 10)
    assert [p.object_id for p in pending] == [
        f"https://saint-x.example/notes/{n}" for n in range(3)
    ]
    ok = DeliveryOutcome(202, None, None, "cavage")
    await store.advance("a.example", pending[0].target_id, delivered=1, answer=ok)
    assert len(await store.pending_for_host("a.example", 10)) == 2
    failed = DeliveryOutcome(503, None, "busy", "cavage")
    assert await store.postpone("b.example", True, now + timedelta(minutes=5), failed) == 1
    assert await store.due_hosts(now, 10) == ["a.example"]
    assert sorted(await store.due_hosts(now + timedelta(minutes=6), 10)) == [
        "a.example",
        "b.example",
    ]

    inbox = SqlInbox(sessions)
    received = ReceivedActivity(
        "https://r.example/a/1", "Like", "https://r.example/u", None, {"x": 1}
    )
    assert await inbox.add_if_new(received) is True
    assert await inbox.add_if_new(received) is False
    (queued,) = await inbox.claim_due(utcnow(), 10)
    assert inbox.backlog() == 1
    await inbox.settle_many([Settlement(queued.item_id, "applied", "ok")])
    assert await inbox.claim_due(utcnow(), 10) == []
    assert inbox.backlog() == 0
