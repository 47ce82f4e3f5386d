"""Domain blocks on a real node and a fake remote server on loopback: checked at the start of
the inbox pipeline (suspend: 403 before any fetch; reject_reports: Flags dropped), on fetches
and on deliveries; a suspension removes the domain's content and follow relations; the
configuration's blocked_domains is adopted; Mastodon CSV block lists in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from federation.delivery.worker import DeliveryWorker
from federation.domain_policy import DomainRules, normalise_domain
from federation.http import FederationClient, FetchRefused
from federation.ports import DomainRule, DomainSeverity
from node.domain.block_lists import BLOCK_LIST_HEADER
from node.services.moderation.block_lists import (
    import_block_list,
    read_block_list,
    write_block_list,
)
from node.services.moderation.domain_blocks import (
    BlockError,
    block_request,
    list_blocks,
    remove_block,
    save_block,
)
from node.storage.base import utcnow
from node.storage.models import (
    DeliveryCursor,
    DomainBlock,
    Follow,
    InboxItem,
    Note,
    OutboxTarget,
    RemoteActor,
    Report,
)
from node.storage.outbox import SqlDeliveryStore
from node.web.keys import delivery_worker_key, inbox_worker_key, runtime_key
from tests.conftest import BASE_URL
from tests.node.test_inbox import TERRITORY, count, make_node, note_create, post
from tests.testrig.processes import run_maillage
from tests.testrig.remote import AS, FakeRemote, RemoteActorDoc


def flag(actor: RemoteActorDoc, number: int, *objects: str) -> dict[str, Any]:
    """A Flag in Mastodon's shape: the reporter, the reported account and posts, a comment."""
    return {
        "@context": AS,
        "id": f"{actor.uri}/flags/{number}",
        "type": "Flag",
        "actor": actor.uri,
        "object": list(objects),
        "content": "<p>Spam <script>x</script></p>",
    }


async def block(node: TestClient, domain: str, severity: str = "suspend", **flags: Any) -> None:
    await save_block(node.app[runtime_key], block_request(domain, severity, **flags))


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    return await make_node(aiohttp_client, make_config)


def test_a_block_covers_subdomains_and_ports_and_a_port_only_itself() -> None:
    rules = DomainRules(
        [
            DomainRule("example.com", DomainSeverity.SILENCE),
            DomainRule("bad.example.com", DomainSeverity.SUSPEND),
            DomainRule("127.0.0.1:9100", DomainSeverity.SUSPEND),
        ]
    )
    assert rules.rule_for("a.example.com").severity is DomainSeverity.SILENCE  # type: ignore[union-attr]
    assert rules.rule_for("example.com:8443").severity is DomainSeverity.SILENCE  # type: ignore[union-attr]
    # the most specific block wins
    assert rules.rule_for("x.bad.example.com").severity is DomainSeverity.SUSPEND  # type: ignore[union-attr]
    assert rules.rule_for("notexample.com") is None
    assert rules.rule_for("127.0.0.1:9100") is not None
    assert rules.rule_for("127.0.0.1:9101") is None
    assert normalise_domain("Bad.Example.COM.") == "bad.example.com"
    with pytest.raises(ValueError):
        normalise_domain("https://evil.example/path")


async def test_a_suspended_domain_is_refused_before_any_fetch_and_unblocking_restores_it(
    node: TestClient, remote: FakeRemote
) -> None:
    alice = remote.add_actor("alice")
    domain = remote.base.removeprefix("http://")  # 127.0.0.1:<port>
    await block(node, domain)
    status, body = await post(node, alice, note_create(alice, 1))
    assert status == 403 and "suspended" in body["error"]
    assert remote.fetches == [] and await count(node, InboxItem) == 0

    # a block of the host covers every port on it
    await remove_block(node.app[runtime_key], domain)
    await block(node, "127.0.0.1")
    assert (await post(node, alice, note_create(alice, 2)))[0] == 403

    await remove_block(node.app[runtime_key], "127.0.0.1")
    assert (await post(node, alice, note_create(alice, 3)))[0] == 202


async def test_a_silenced_domain_still_delivers(node: TestClient, remote: FakeRemote) -> None:
    alice = remote.add_actor("alice")
    await block(node, "127.0.0.1", "silence")
    assert (await post(node, alice, note_create(alice, 1)))[0] == 202


async def test_fetches_from_a_suspended_domain_are_refused(
    node: TestClient, remote: FakeRemote
) -> None:
    alice = remote.add_actor("alice")
    await block(node, "127.0.0.1")
    with pytest.raises(FetchRefused, match="blocked"):
        await node.app[runtime_key].client.fetch_document(alice.uri, None)
    assert remote.fetches == []


async def test_flags_land_in_the_queue_unless_reports_are_rejected(
    node: TestClient, remote: FakeRemote
) -> None:
    mallory = remote.add_actor("mallory")
    assert (await post(node, mallory, flag(mallory, 1, TERRITORY)))[0] == 202
    await node.app[inbox_worker_key].run_once()
    async with node.app[runtime_key].sessions() as session:
        report = (await session.scalars(select(Report))).one()
    assert (report.origin, report.target_uri, report.reporter_uri) == (
        "remote",
        TERRITORY,
        mallory.uri,
    )
    assert report.comment == "Spam" and report.state == "open"

    await block(node, "127.0.0.1", "noop", reject_reports=True)
    status, body = await post(node, mallory, flag(mallory, 2, TERRITORY))
    assert status == 202 and "rejected" in body["dropped"]
    assert await count(node, InboxItem, InboxItem.type == "Flag") == 1
    # other activities still come in
    assert (await post(node, mallory, note_create(mallory, 1)))[0] == 202


async def test_a_flag_about_nothing_of_ours_is_ignored(
    node: TestClient, remote: FakeRemote
) -> None:
    mallory = remote.add_actor("mallory")
    assert (await post(node, mallory, flag(mallory, 1, f"{remote.base}/users/other")))[0] == 202
    await node.app[inbox_worker_key].run_once()
    assert await count(node, Report) == 0


async def test_suspending_a_domain_removes_its_content_follows_and_deliveries(
    node: TestClient, remote: FakeRemote
) -> None:
    bob = remote.add_actor("bob")
    follow = {"@context": AS, "id": f"{bob.uri}/follows/1", "type": "Follow", "actor": bob.uri}
    assert (await post(node, bob, follow | {"object": TERRITORY}))[0] == 202
    assert (await post(node, bob, note_create(bob, 1)))[0] == 202
    await node.app[inbox_worker_key].run_once()
    assert await count(node, Follow, Follow.follower_uri == bob.uri) == 1
    assert await count(node, Note, Note.author_uri == bob.uri) == 1
    assert await count(node, OutboxTarget) == 1  # the Accept waits for delivery

    await block(node, "127.0.0.1")

    assert await count(node, Follow) == 0
    assert await count(node, Note, Note.author_uri == bob.uri) == 0
    assert await count(node, RemoteActor) == 0
    async with node.app[runtime_key].sessions() as session:
        cursor = (await session.scalars(select(DeliveryCursor))).one()
        last = await session.scalar(select(OutboxTarget.id))
    assert cursor.last_target_id == last  # the Accept is skipped, not kept for later
    await remove_block(node.app[runtime_key], "127.0.0.1")
    assert await node.app[delivery_worker_key].run_once() == 0
    assert remote.received == []


async def test_the_configured_blocked_domains_are_adopted_as_suspensions(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node = await make_node(aiohttp_client, make_config, blocked_domains=["spam.example"])
    blocks = await list_blocks(node.app[runtime_key].sessions)
    assert [(b.domain, b.severity, b.source) for b in blocks] == [
        ("spam.example", "suspend", "config")
    ]
    with pytest.raises(BlockError, match="configuration"):
        await remove_block(node.app[runtime_key], "spam.example")
    with pytest.raises(BlockError):
        await save_block(node.app[runtime_key], block_request("saint-x.example", "suspend"))


MASTODON_EXPORT = (
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    "spam.example,suspend,true,true,Spam en masse,false\n"
    "loud.example,silence,false,false,,true\n"
    'pics.example,noop,true,false,"Images, souvent choquantes",false\n'
)


async def test_a_mastodon_block_list_goes_in_and_comes_out_the_same(node: TestClient) -> None:
    runtime = node.app[runtime_key]
    bad_lines = (
        "not a domain,suspend,false,false,,false\n"
        "worse.example,obliterate,false,false,,false\n"
        "spam.example,silence,false,false,,false\n"
        "odd.example,suspend,maybe,false,,false\n"
        "\n"
    )
    summary = await import_block_list(runtime, (MASTODON_EXPORT + bad_lines).encode())
    assert summary.added == ["spam.example", "loud.example", "pics.example"]
    assert [(e.line, e.problem) for e in summary.errors] == [
        (5, "domain"),
        (6, "severity"),
        (7, "duplicate"),
        (8, "flag"),
    ]
    exported = write_block_list(await list_blocks(runtime.sessions))
    assert exported.splitlines()[0] == ",".join(BLOCK_LIST_HEADER)
    assert sorted(exported.splitlines()[1:]) == sorted(MASTODON_EXPORT.splitlines()[1:])

    # importing again changes nothing: blocks in place are kept as they are
    again = await import_block_list(runtime, exported.encode())
    assert again.added == [] and len(again.already_blocked) == 3
    async with runtime.sessions() as session:
        spam = await session.get(DomainBlock, "spam.example")
    assert spam is not None and spam.reject_reports and spam.public_comment == "Spam en masse"


def test_a_file_without_the_header_is_refused_as_a_whole() -> None:
    wanted, errors = read_block_list(b"spam.example,suspend\n")
    assert wanted == [] and [(e.line, e.problem) for e in errors] == [(1, "header")]
    assert read_block_list(b"\xff\xfe")[1][0].problem == "encoding"


def test_the_cli_imports_and_exports_block_lists(tmp_path: Path) -> None:
    data = tmp_path / "node"
    init = run_maillage("init", "--data", str(data), "--base-url", "http://127.0.0.1:8555")
    assert init.returncode == 0, init.stderr
    listed = tmp_path / "list.csv"
    listed.write_text(MASTODON_EXPORT + "bad domain,suspend,,,,\n", encoding="utf-8")

    imported = run_maillage("blocks", "import", str(listed), "--data", str(data))
    assert imported.returncode == 1, imported.stderr  # one line refused
    assert "added: 3" in imported.stdout and "line 5: not a domain" in imported.stdout

    out = tmp_path / "out.csv"
    exported = run_maillage("blocks", "export", "--out", str(out), "--data", str(data))
    assert exported.returncode == 0 and "3 blocks" in exported.stdout
    assert sorted(out.read_text().splitlines()) == sorted(MASTODON_EXPORT.splitlines())

    removed = run_maillage("blocks", "remove", "loud.example", "--data", str(data))
    assert removed.returncode == 0 and "unblocked loud.example" in removed.stdout
    again = run_maillage("blocks", "remove", "loud.example", "--data", str(data))
    assert again.returncode == 2 and "not blocked" in again.stderr


async def test_the_delivery_worker_skips_a_suspended_host_without_sending(
    node: TestClient, remote: FakeRemote
) -> None:
    bob = remote.add_actor("bob")
    follow = {"@context": AS, "id": f"{bob.uri}/follows/1", "type": "Follow", "actor": bob.uri}
    assert (await post(node, bob, follow | {"object": TERRITORY}))[0] == 202
    await node.app[inbox_worker_key].run_once()  # the Accept waits for delivery
    runtime = node.app[runtime_key]
    host = remote.base.removeprefix("http://")
    # a worker with its own client that knows no block: only the worker's check stands
    async with FederationClient(
        BASE_URL, "test", policy=lambda address: True, allow_http=True
    ) as client:
        worker = DeliveryWorker(
            SqlDeliveryStore(runtime.sessions),
            client,
            runtime.signers,
            utcnow,
            domains=DomainRules([DomainRule(host, DomainSeverity.SUSPEND)]),
        )
        assert await worker.run_once() == 1
    assert remote.received == []
    async with runtime.sessions() as session:
        cursor = (await session.scalars(select(DeliveryCursor))).one()
    assert (cursor.host, cursor.given_up, cursor.delivered) == (host, 1, 0)
