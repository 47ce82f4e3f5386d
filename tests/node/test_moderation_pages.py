"""Moderation through the pages of a real node, as residents and moderators use it: reports
from an item's or a comment's page, the queue, hiding (the reason shown in place), warning and
suspending a resident, limiting a remote account, the admin's domain blocks with CSV upload and
download, and the public moderation page."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.storage.models import Note, Report
from node.web.keys import delivery_worker_key, inbox_worker_key, sessions_key
from protocols.activitystreams import PUBLIC
from tests.node.test_moderation_blocks import MASTODON_EXPORT
from tests.node.test_needs import BASE, TERRITORY, make_node, new_need, page, post_signed
from tests.testrig.people import HTML, add_account, as_person, csrf_of, log_in, submit
from tests.testrig.remote import AS, FakeRemote

NOTICE = "Masqué par la modération :"


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    return await make_node(aiohttp_client, make_config)


async def browser(aiohttp_client: Any, node: TestClient, username: str, role: str) -> TestClient:
    """Another browser on the same node, logged in as a new account."""
    other = await aiohttp_client(node.server)
    await as_person(other, username, role)
    return other


async def report(client: TestClient, uri: str, comment: str) -> Any:
    path = f"/moderation/report?target={uri}"
    return await submit(client, path, "/moderation/report", target=uri, comment=comment)


async def reports(node: TestClient) -> list[Report]:
    async with node.app[sessions_key]() as session:
        return list(await session.scalars(select(Report).order_by(Report.created_at)))


async def moderate(client: TestClient, action: str, **fields: str) -> Any:
    return await submit(client, "/moderation", action, **fields)


async def test_a_resident_reports_a_need_and_a_facilitator_hides_it(
    aiohttp_client: Any, node: TestClient
) -> None:
    await as_person(node, "camille")
    need_id = await new_need(node, "Des insultes dans le titre", text="Texte injurieux.")
    need_uri, path = f"{BASE}/needs/{need_id}", f"/needs/{need_id}"
    resident = await browser(aiohttp_client, node, "dominique", "resident")

    # the need's page has a "Signaler" link to the report form
    html = await page(resident, path)
    assert f'href="/moderation/report?target={quote(need_uri, safe="/")}"' in html
    empty = await report(resident, need_uri, "  ")
    assert empty.status == 400 and "ce qui pose problème" in await empty.text()
    sent = await report(resident, need_uri, "Propos injurieux envers un voisin")
    assert sent.status == 200 and "Signalement envoyé" in await sent.text()
    again = await report(resident, need_uri, "encore")
    assert again.status == 400 and "déjà signalé" in await again.text()

    # residents do not see the queue; facilitators do, with the report
    assert (await resident.get("/moderation", headers=HTML)).status == 403
    moderator = await browser(aiohttp_client, node, "modo", "facilitator")
    queue = await page(moderator, "/moderation")
    assert "Propos injurieux envers un voisin" in queue and "Des insultes dans le titre" in queue
    [filed] = await reports(node)
    assert (filed.target_kind, filed.state, filed.origin) == ("need", "open", "local")

    # hiding from the report resolves it and shows the reason in place, to everyone
    refused = await moderate(
        moderator, "/moderation/hide", uri=need_uri, reason="", report=filed.id
    )
    assert refused.status == 400 and "raison" in (await refused.text()).lower()
    done = await moderate(
        moderator, "/moderation/hide", uri=need_uri, reason="Insultes", report=filed.id
    )
    assert done.status == 302
    anonymous = await aiohttp_client(node.server)
    for viewer in (anonymous, resident, node):
        shown = unescape(await page(viewer, path))
        assert f"{NOTICE}</strong> Insultes" in shown
        assert "Des insultes dans le titre" not in shown and "Texte injurieux." not in shown
    assert [r.state for r in await reports(node)] == ["resolved"]

    # shown again
    await moderate(moderator, "/moderation/hide", uri=need_uri, undo="1")
    assert "Texte injurieux." in await page(anonymous, path)


async def test_a_comment_is_reported_from_its_page_and_hidden_in_place(
    aiohttp_client: Any, node: TestClient
) -> None:
    await as_person(node, "camille")
    need_id = await new_need(node)
    path = f"/needs/{need_id}"
    troll = await browser(aiohttp_client, node, "troll", "resident")
    await submit(troll, path, f"{path}/comments", comment="Commentaire blessant")
    async with node.app[sessions_key]() as session:
        comment = (await session.scalars(select(Note).where(Note.local))).one()
    assert "/moderation/report?target=" + quote(comment.uri, safe="/") in (await page(node, path))
    assert (await report(node, comment.uri, "Blessant")).status == 200
    [filed] = await reports(node)
    assert (filed.target_kind, filed.account_uri) == ("comment", f"{BASE}/actors/troll")

    moderator = await browser(aiohttp_client, node, "modo", "facilitator")
    await moderate(
        moderator, "/moderation/hide", uri=comment.uri, reason="Hors charte", report=filed.id
    )
    shown = unescape(await page(node, path))
    assert f"{NOTICE}</strong> Hors charte" in shown and "Commentaire blessant" not in shown
    assert "Navette vers la gare" in shown  # the need itself stays


async def test_a_warned_and_then_suspended_resident_is_told_why(
    aiohttp_client: Any, node: TestClient
) -> None:
    password = await add_account(node, "sacha")
    await log_in(node, "sacha", password)
    moderator = await browser(aiohttp_client, node, "modo", "facilitator")

    warned = await moderate(
        moderator, "/moderation/residents", who="sacha", sanction="warn", reason="Restez courtois"
    )
    assert warned.status == 302
    assert "Restez courtois" in await page(node, "/account/profile")

    await moderate(
        moderator, "/moderation/residents", who="sacha", sanction="suspend", reason="Harcèlement"
    )
    # logged out at once: posting a need now goes to the login page
    response = await node.get("/needs/new", headers=HTML, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")
    login = await submit(node, "/login", "/login", username="sacha", password=password)
    body = unescape(await login.text())
    assert login.status == 400 and "suspendu" in body and "Harcèlement" in body
    assert "sacha" in await page(moderator, "/moderation")

    # facilitators cannot sanction admins, nobody sanctions themselves
    await add_account(node, "chef", "admin")
    refused = await moderate(
        moderator, "/moderation/residents", who="chef", sanction="suspend", reason="x"
    )
    assert refused.status == 400 and "administrateur" in await refused.text()

    await moderate(moderator, "/moderation/residents", who="sacha", sanction="lift")
    await log_in(node, "sacha", password)
    assert (await node.get("/needs/new", headers=HTML)).status == 200


async def test_a_limited_remote_account_is_left_out_of_comments(
    aiohttp_client: Any, node: TestClient, remote: FakeRemote
) -> None:
    await as_person(node, "camille")
    need_id = await new_need(node)
    need_uri, path = f"{BASE}/needs/{need_id}", f"/needs/{need_id}"
    spammer = remote.add_actor("spammer", name="Spammeur")
    reply = {
        "@context": AS,
        "id": f"{spammer.uri}/activities/1",
        "type": "Create",
        "actor": spammer.uri,
        "to": [PUBLIC],
        "cc": [TERRITORY],
        "object": {
            "id": f"{spammer.uri}/notes/1",
            "type": "Note",
            "attributedTo": spammer.uri,
            "to": [PUBLIC],
            "inReplyTo": need_uri,
            "content": "<p>Achetez mes montres</p>",
        },
    }
    await post_signed(node, spammer, f"{BASE}/inbox", reply)
    await node.app[inbox_worker_key].run_once()
    assert "Achetez mes montres" in await page(node, path)

    # a report about the remote post names its author; the moderator limits the account
    assert (await report(node, reply["object"]["id"], "Spam")).status == 200
    [filed] = await reports(node)
    assert (filed.target_kind, filed.account_uri) == ("remote_post", spammer.uri)
    moderator = await browser(aiohttp_client, node, "modo", "facilitator")
    queue = await page(moderator, "/moderation")
    assert "Transférer au serveur du compte" in queue and "Limiter ce compte" in queue
    limited = await moderate(
        moderator, "/moderation/remote", uri=spammer.uri, sanction="silence", report=filed.id
    )
    assert limited.status == 302
    assert "Achetez mes montres" not in await page(node, path)

    # forwarding sends a Flag from the instance actor to the account's server
    forwarded = await moderate(moderator, f"/moderation/reports/{filed.id}/forward")
    assert forwarded.status == 302
    await node.app[delivery_worker_key].run_once()
    [sent] = [r for r in remote.received if r["body"]["type"] == "Flag"]
    assert sent["body"]["actor"] == f"{BASE}/actor" and sent["body"]["content"] == "Spam"
    assert sent["body"]["object"] == [spammer.uri, reply["object"]["id"]]


async def test_the_admin_blocks_domains_and_the_public_page_shows_them(
    aiohttp_client: Any, node: TestClient
) -> None:
    await as_person(node, "chef", "admin")
    assert (await node.get("/admin/domain-blocks", headers=HTML)).status == 200
    added = await submit(
        node,
        "/admin/domain-blocks",
        "/admin/domain-blocks",
        domain="Example.COM",
        severity="suspend",
        public_comment="Harcèlement organisé",
        obfuscate="on",
    )
    assert added.status == 302
    bad = await submit(
        node, "/admin/domain-blocks", "/admin/domain-blocks", domain="pas un domaine"
    )
    assert bad.status == 400 and "n'est pas un nom de domaine" in unescape(await bad.text())

    # a Mastodon CSV list uploaded from the page: a summary and each refused line
    form = FormData()
    form.add_field("csrf", csrf_of(await page(node, "/admin/domain-blocks")))
    form.add_field(
        "file",
        (MASTODON_EXPORT + "bad domain,suspend,false,false,,false\n").encode(),
        filename="blocks.csv",
        content_type="text/csv",
    )
    uploaded = await node.post("/admin/domain-blocks/import", data=form)
    text = unescape(await uploaded.text())
    assert uploaded.status == 400 and "Ajoutés : 3" in text
    assert re.search(r"Ligne 5 : pas un nom de domaine", text)

    exported = await node.get("/admin/domain-blocks/export.csv")
    lines = (await exported.text()).splitlines()
    assert exported.status == 200 and lines[0].startswith("#domain,#severity")
    assert "example.com,suspend,false,false,Harcèlement organisé,true" in lines

    # everyone reads the public page, linked from every page's footer
    anonymous = await aiohttp_client(node.server)
    assert 'href="/about/moderation"' in await page(anonymous, "/")
    public = unescape(await page(anonymous, "/about/moderation"))
    assert "exa****.*om" in public and "example.com" not in public
    assert "Harcèlement organisé" in public and "spam.example" in public
    assert "Spam en masse" in public and "Images, souvent choquantes" in public
    assert "private" not in public
    month = re.search(r"<tr><td>(\d{4}-\d{2})</td>(.*?)</tr>", public, re.S)
    assert month is not None
    cells = re.findall(r"<td>(\d+)</td>", month.group(2))
    assert cells[-1] == "4"  # four domain blocks this month
    english = await anonymous.get("/about/moderation?lang=en", headers=HTML)
    assert "This node's moderation" in unescape(await english.text())
    assert (
        await anonymous.get("/admin/domain-blocks", headers=HTML, allow_redirects=False)
    ).status == 302


async def test_hidden_items_leave_the_lists_and_a_suspended_account_is_cut_off(
    aiohttp_client: Any, node: TestClient, remote: FakeRemote
) -> None:
    await as_person(node, "camille")
    need_id = await new_need(node, "Titre injurieux")
    assert "Titre injurieux" in await page(node, "/")
    moderator = await browser(aiohttp_client, node, "modo", "facilitator")
    await moderate(moderator, "/moderation/hide", uri=f"{BASE}/needs/{need_id}", reason="Insultes")
    listed = await page(node, "/needs")
    assert "Titre injurieux" not in listed and "Contenu masqué" in listed
    assert "Titre injurieux" not in await page(node, "/")
    assert "Titre injurieux" not in await (await node.get("/feed.atom")).text()

    # a suspended remote account: its posts go, what it sends later has no effect
    spammer = remote.add_actor("spammer")
    need_uri = f"{BASE}/needs/{need_id}"

    def reply(number: int) -> dict[str, Any]:
        note = f"{spammer.uri}/notes/{number}"
        return {
            "@context": AS,
            "id": f"{note}/activity",
            "type": "Create",
            "actor": spammer.uri,
            "to": [PUBLIC],
            "object": {
                "id": note,
                "type": "Note",
                "attributedTo": spammer.uri,
                "to": [PUBLIC],
                "inReplyTo": need_uri,
                "content": f"<p>pub {number}</p>",
            },
        }

    await post_signed(node, spammer, f"{BASE}/inbox", reply(1))
    await node.app[inbox_worker_key].run_once()
    suspended = await moderate(
        moderator, "/moderation/remote", uri=spammer.uri, sanction="suspend", reason="Spam"
    )
    assert suspended.status == 302
    await post_signed(node, spammer, f"{BASE}/inbox", reply(2))
    await node.app[inbox_worker_key].run_once()
    async with node.app[sessions_key]() as session:
        kept = list(await session.scalars(select(Note.uri).where(~Note.local)))
    assert kept == []
    assert "@spammer@" in await page(moderator, "/moderation")


async def test_a_silenced_domain_is_left_out_of_comments(
    node: TestClient, remote: FakeRemote
) -> None:
    await as_person(node, "chef", "admin")
    need_id = await new_need(node)
    loud = remote.add_actor("loud")
    note = f"{loud.uri}/notes/1"
    await post_signed(
        node,
        loud,
        f"{BASE}/inbox",
        {
            "@context": AS,
            "id": f"{note}/activity",
            "type": "Create",
            "actor": loud.uri,
            "to": [PUBLIC],
            "object": {
                "id": note,
                "type": "Note",
                "attributedTo": loud.uri,
                "to": [PUBLIC],
                "inReplyTo": f"{BASE}/needs/{need_id}",
                "content": "<p>TRÈS FORT</p>",
            },
        },
    )
    await node.app[inbox_worker_key].run_once()
    assert "TRÈS FORT" in await page(node, f"/needs/{need_id}")
    await submit(
        node, "/admin/domain-blocks", "/admin/domain-blocks", domain="127.0.0.1", severity="silence"
    )
    assert "TRÈS FORT" not in await page(node, f"/needs/{need_id}")


async def test_a_resident_account_is_reported_from_its_profile_page(
    aiohttp_client: Any, node: TestClient
) -> None:
    await add_account(node, "troll")
    await as_person(node, "camille")
    profile = await page(node, "/actors/troll")
    assert f"/moderation/report?target={quote(BASE + '/actors/troll', safe='/')}" in profile
    assert (await report(node, f"{BASE}/actors/troll", "Insulte en message")).status == 200
    [filed] = await reports(node)
    assert (filed.target_kind, filed.account_uri) == ("local_account", f"{BASE}/actors/troll")
    moderator = await browser(aiohttp_client, node, "modo", "facilitator")
    assert "Suspendre son compte" in await page(moderator, "/moderation")
    # nothing to report at an unknown address
    missing = await node.get(f"/moderation/report?target={BASE}/needs/nothing", headers=HTML)
    assert missing.status == 404
