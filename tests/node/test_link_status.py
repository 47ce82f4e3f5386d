"""The link state the admin page and `maillage status` show: what waits for which server,
since when, and what each last answered. Real outbox log, real delivery worker and client,
loopback sinks and ports nobody listens on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from node.cli import describe_link, describe_server
from node.domain.actors import ActorKind
from node.services.offline.link import LINK_DOWN, LINK_IDLE, LINK_UP, link_report, retry_now
from node.services.offline.server_health import ServerHealth
from node.storage.actors import get_actor_of_kind
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.keyring import KeyRing
from node.web.app import create_app
from tests.conftest import config_for, initialise
from tests.node import test_delivery as delivery
from tests.node.test_delivery import Clock, Node, SinkFactory, log, make_worker
from tests.testrig.people import HTTP_NODE, as_person
from tests.testrig.postgres import free_port
from tests.testrig.processes import run_maillage, start_maillage, stop, wait_until_serving

HTML = {"Accept": "text/html"}

# The delivery tests' fixtures: the test clock, the real outbound client, loopback sinks.
clock = delivery.clock
client = delivery.client
make_sink = delivery.make_sink


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    """A node served over plain http, so that a browser session works in the test client."""
    config = config_for(tmp_path, node=HTTP_NODE)
    await initialise(config)
    engine = make_engine(config.database.url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
    assert territory is not None
    yield Node(config, engine, sessions, territory, KeyRing())
    await engine.dispose()


async def test_a_node_with_nothing_to_send_is_idle(node: Node) -> None:
    report = await link_report(node.sessions)
    assert report.state == LINK_IDLE and report.hosts == [] and report.waiting == 0
    assert describe_link(report) == ["link: idle, nothing waits to be delivered"]


async def test_no_server_answering_is_a_link_down_with_every_queue_shown(
    node: Node, client: Any, clock: Clock, aiohttp_client: Any
) -> None:
    ports = [free_port(), free_port()]
    unreachable = [f"http://127.0.0.1:{port}/inbox" for port in ports]
    await log(node, unreachable[:1])
    await log(node, unreachable)
    await make_worker(node, client, clock).run_once()

    report = await link_report(node.sessions)
    assert report.state == LINK_DOWN and report.waiting == 3
    by_host = {host.host: host for host in report.hosts}
    assert {host: queue.waiting for host, queue in by_host.items()} == {
        f"127.0.0.1:{ports[0]}": 2,
        f"127.0.0.1:{ports[1]}": 1,
    }
    for host in report.hosts:
        assert host.failures >= 1 and host.last_status is None and host.last_error
        assert host.last_success_at is None and host.oldest_waiting_since is not None
    assert report.oldest_waiting_since == min(h.oldest_waiting_since for h in report.hosts)
    lines = describe_link(report)
    assert lines[0].startswith("link: down, no server answers; 3 deliveries wait")
    assert any(line.startswith(f"127.0.0.1:{ports[0]}") for line in lines[2:])

    web = await aiohttp_client(create_app(node.config, workers=False))
    await as_person(web, "admin1", "admin")
    page = await (await web.get("/admin", headers=HTML)).text()
    assert "Liaison coupée : aucun serveur ne répond." in page
    assert "3 livraisons attendent" in page
    for host in by_host:
        assert f"<td>{host}</td><td>{by_host[host].waiting}</td>" in page
    english = await (await web.get("/admin", headers={**HTML, "Accept-Language": "en"})).text()
    assert "Link down: no server answers." in english


async def test_a_server_that_answers_makes_the_link_up_and_is_remembered(
    node: Node, client: Any, clock: Clock, make_sink: SinkFactory
) -> None:
    busy = await make_sink([503, 503])
    fine = await make_sink()
    await log(node, [busy.inbox(), fine.inbox()])
    await make_worker(node, client, clock).run_once()

    report = await link_report(node.sessions)
    assert report.state == LINK_UP
    hosts = {host.host: host for host in report.hosts}
    assert hosts[fine.host].waiting == 0 and hosts[fine.host].last_success_at is not None
    assert hosts[busy.host].waiting == 1 and hosts[busy.host].last_status == 503
    assert any("HTTP 503" in line for line in describe_link(report))


def test_maillage_status_on_a_new_node(tmp_path: Path) -> None:
    data = tmp_path / "node"
    base = f"http://127.0.0.1:{free_port()}"
    assert run_maillage("init", "--data", str(data), "--base-url", base).returncode == 0
    status = run_maillage("status", "--data", str(data))
    assert status.returncode == 0, status.stderr
    idle, server = status.stdout.strip().splitlines()
    assert idle == "link: idle, nothing waits to be delivered"
    assert server.startswith("server: not answering on 127.0.0.1:")

    serving = start_maillage("serve", "--data", str(data))
    try:
        wait_until_serving(base, serving)
        status = run_maillage("status", "--data", str(data))
        assert status.returncode == 0, status.stderr
        assert "every worker making progress" in status.stdout
    finally:
        stop(serving)


def test_stalled_workers_are_named_with_their_backlog() -> None:
    health = ServerHealth(
        "127.0.0.1:8080",
        running=True,
        status="stalled",
        stalled={
            "inbox": {"pending": 33, "seconds_without_progress": 61.5, "error": "OperationalError"}
        },
    )
    assert describe_server(health) == [
        "server: running on 127.0.0.1:8080, stalled:",
        "  worker inbox: 33 waiting, no progress for 61.5 s (last error: OperationalError)",
    ]


async def test_retry_sends_at_once_what_waited_for_its_backoff(
    node: Node, client: Any, clock: Clock, make_sink: SinkFactory
) -> None:
    peer = await make_sink([503])  # down once, then back
    await log(node, [peer.inbox()])
    worker = make_worker(node, client, clock)
    await worker.run_once()
    (waiting,) = (await link_report(node.sessions)).hosts
    assert waiting.waiting == 1 and waiting.next_attempt_at is not None
    assert waiting.next_attempt_at > clock.now
    assert await worker.run_once() == 0  # its backoff holds it back

    # The operator knows the peer is back: `maillage retry` ends its backoff.
    assert await retry_now(node.sessions, "elsewhere.example") == 0
    assert await retry_now(node.sessions, peer.host) == 1
    assert await worker.run_once() == 1
    (sent,) = (await link_report(node.sessions)).hosts
    assert sent.waiting == 0 and len(peer.accepted()) == 1
    assert await retry_now(node.sessions) == 0  # nothing waits any more
