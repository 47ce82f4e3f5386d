"""The inbox's rate limits hold for the whole node when it runs as several processes on one
real PostgreSQL: each `maillage serve --workers N` process keeps 1/N of every configured
rate and burst, so one actor posting faster than its budget gets about the budget admitted
across all the processes, not N times it.

Each request goes on a new connection, so the kernel hands them to whichever process
accepts first and they spread over the processes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from node.storage.models import InboxItem
from tests.node.test_fleet import Fleet, _create_note, post_signed, running_fleet
from tests.testrig.postgres import PostgresServer
from tests.testrig.remote import FakeRemote, signed_post

PROCESSES = 3
#: the actor's configured burst: what the whole node may admit from it at once
BUDGET = 30
#: activities the actor posts, far past the budget (each process sees more than its share)
POSTED = 180
IN_FLIGHT = 12


async def _post_from_one_actor(fleet: Fleet, remote: FakeRemote) -> Counter[int]:
    """POSTED signed Create(Note) from one actor, IN_FLIGHT at once, one connection each."""
    author = remote.add_actor("bavard")
    inbox = f"{fleet.base}/inbox"
    requests = [
        signed_post(author, inbox, _create_note(author.uri, serial, fleet.territory))
        for serial in range(POSTED)
    ]
    return await post_signed(inbox, requests, in_flight=IN_FLIGHT, connection_each=True)


async def test_an_actor_past_its_rate_gets_the_node_budget_across_three_processes(
    postgres_server: PostgresServer, tmp_path: Path, remote: FakeRemote
) -> None:
    # Given a node served by three processes, where one actor may deliver BUDGET activities
    # at once and then one a minute,
    async with running_fleet(
        postgres_server,
        tmp_path,
        PROCESSES,
        MAILLAGE_LIMITS_INBOX_ACTOR_PER_MINUTE="1",
        MAILLAGE_LIMITS_INBOX_ACTOR_BURST=str(BUDGET),
    ) as fleet:
        # when that actor posts six times its budget as fast as it can,
        statuses = await _post_from_one_actor(fleet, remote)
        stored = await fleet.scalar(select(func.count()).select_from(InboxItem))

    # then the node as a whole admits about the budget (each process its third; a token
    # or so may come back while the test runs), not three times it, and refuses the rest
    # with 429 without storing them.
    admitted = statuses[202]
    assert set(statuses) <= {202, 429}, statuses
    assert BUDGET // PROCESSES <= admitted <= BUDGET + PROCESSES, statuses
    assert statuses[429] == POSTED - admitted
    assert stored == admitted
