"""A community server cut off for a week: residents keep acting, pages keep answering,
nothing is lost, and when the line returns every peer gets everything, in order.

The node is real (its web application on a SQLite file, its delivery worker and outbound
client); its three peers are loopback inboxes whose ports stay closed for the simulated week
(no route), then open. The worker runs on a clock the test moves by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from federation.delivery.policy import MAX_UNANSWERED_DELAY
from node.domain.actors import ActorKind
from node.services.offline.link import LINK_DOWN, LINK_IDLE, link_report
from node.storage.actors import get_actor_of_kind
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.keyring import KeyRing
from node.storage.models import DeliveryCursor, OutboxEntry, OutboxTarget
from node.web.app import create_app
from tests.conftest import config_for, initialise
from tests.node import test_delivery as delivery
from tests.node.test_delivery import Clock, Node, SinkFactory, add_follower, make_worker
from tests.testrig.people import HTTP_NODE, as_person, submit
from tests.testrig.postgres import free_port

HTML = {"Accept": "text/html"}
DAYS = 7

clock = delivery.clock
client = delivery.client
make_sink = delivery.make_sink


class ClosedPeer:
    """A peer whose server is down: its port is known, nothing listens on it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"

    def inbox(self, path: str = "/inbox") -> str:
        return f"http://{self.host}{path}"


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    config = config_for(tmp_path, node=HTTP_NODE)
    await initialise(config)
    engine = make_engine(config.database.url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
    assert territory is not None
    yield Node(config, engine, sessions, territory, KeyRing())
    await engine.dispose()


async def expected_for(node: Node, host: str) -> list[str]:
    """Every activity logged for a host, in log order."""
    async with node.sessions() as session:
        rows = await session.scalars(
            select(OutboxEntry.activity_id)
            .join(OutboxTarget, OutboxTarget.seq == OutboxEntry.seq)
            .where(OutboxTarget.host == host)
            .order_by(OutboxEntry.seq)
        )
        return list(rows)


@pytest.mark.parametrize("peer_count", [1, 3], ids=["one peer", "three peers"])
async def test_a_week_cut_off_loses_nothing_and_every_peer_gets_everything_in_order(
    node: Node,
    client: Any,
    clock: Clock,
    make_sink: SinkFactory,
    aiohttp_client: Any,
    peer_count: int,
) -> None:
    """With one peer a dead line looks like a dead peer; with three the node sees its own
    outage. Either way the peers hear from it within minutes of the line's return."""
    peers = [ClosedPeer() for _ in range(peer_count)]
    for number, peer in enumerate(peers):
        await add_follower(node, peer, f"voisin{number}", shared=True)  # type: ignore[arg-type]
    web = await aiohttp_client(create_app(node.config, workers=False))
    await as_person(web, "animatrice", "admin")
    worker = make_worker(node, client, clock)
    reconnects: list[str] = []
    worker.on_reconnect = lambda: reconnects.append("link back")

    published = []
    for day in range(DAYS):
        for quarter in range(4):  # every six hours, residents act and the worker tries
            text = f"Jour {day + 1}, nouvelle {quarter + 1}"
            answer = await submit(web, "/admin", "/admin/announce", text=text)
            assert answer.status == 302, await answer.text()
            published.append(text)
            if quarter == 0:
                need = await submit(
                    web,
                    "/needs/new",
                    "/needs",
                    title=f"Besoin du jour {day + 1}",
                    text="Pendant la coupure.",
                    theme="mobility",
                )
                assert need.status == 302, await need.text()
            await worker.run_once()
            for path in ("/", "/needs", "/admin"):  # pages answer from what the node holds
                page = await web.get(path, headers=HTML)
                assert page.status == 200, path
            clock.advance(timedelta(hours=6))
        home = await (await web.get("/", headers=HTML)).text()
        assert published[-1] in home

    report = await link_report(node.sessions)
    assert report.state == LINK_DOWN
    waiting = {peer.host: await expected_for(node, peer.host) for peer in peers}
    assert all(len(ids) == DAYS * 5 for ids in waiting.values())  # 4 notes and a need a day
    assert {host.host: host.waiting for host in report.hosts} == {
        host: len(ids) for host, ids in waiting.items()
    }
    async with node.sessions() as session:
        for cursor in await session.scalars(select(DeliveryCursor)):
            assert cursor.given_up == 0 and cursor.last_target_id == 0, cursor.host

    # The line returns: the peers' servers answer again on the same ports, and within a few
    # minutes of the worker's clock they have everything.
    sinks = [await make_sink(port=peer.port) for peer in peers]
    for _ in range(6):
        clock.advance(MAX_UNANSWERED_DELAY / 2)
        await worker.run_once()
        if all(len(sink.accepted()) == len(waiting[sink.host]) for sink in sinks):
            break
    for sink in sinks:
        assert sink.accepted() == waiting[sink.host], sink.host  # all of it, in log order
    assert reconnects == ["link back"]  # the catch-up from the peers' outboxes is asked once
    async with node.sessions() as session:
        for cursor in await session.scalars(select(DeliveryCursor)):
            assert cursor.given_up == 0 and cursor.failures == 0, cursor.host  # nobody dead
            assert cursor.delivered == DAYS * 5
    assert (await link_report(node.sessions)).state == LINK_IDLE
