"""A resident deletes their account, on two real nodes talking HTTP on loopback: territory B
follows territory A, where the resident took part in everything. B receives the Delete of
the resident's actor and the Deletes of their comments and offer, and removes them; it sees
their needs and proposals attributed to a former resident. On A the decision's result does
not change, the old credentials no longer log in, the actor answers 410 with a Tombstone,
and the pages say "un·e ancien·ne résident·e"."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from node.domain.actors import FORMER_RESIDENT
from node.services.federation.following import follow
from node.services.participation.decisions import close_due_decisions
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Decision,
    InboxItem,
    LocalActor,
    NeedSupport,
    Note,
    OutboxEntry,
    OutboxTarget,
    RemoteActor,
    RemoteKey,
    RemoteObject,
    RemoteVote,
    Vote,
    WebSession,
)
from node.web.keys import runtime_key
from protocols.activitystreams import PUBLIC
from tests.node import test_replication
from tests.node.test_inbox import count, post
from tests.node.test_inbox import make_node as make_inbox_node
from tests.node.test_own_data import busy_resident
from tests.node.test_replication import AP, pump
from tests.testrig.people import HTML, add_account, log_in, submit
from tests.testrig.remote import AS, FakeRemote

#: Served in-process nodes on their own loopback ports (the fixture of test_replication).
territory = test_replication.territory


async def _decision(node: Any, path: str) -> Decision:
    return (await node.rows(Decision, Decision.id == path.rsplit("/", 1)[1]))[0]


async def test_a_deleted_account_is_deleted_across_the_federation(territory: Any) -> None:
    a, b = await territory("Saint-A"), await territory("Saint-B")
    await follow(b.client.app[runtime_key], a.actor)
    await pump(a, b)
    resident = await busy_resident(a.client)
    closing = utcnow() + timedelta(days=4)
    assert await close_due_decisions(a.client.app[runtime_key], now=closing) == 1
    result_before = (await _decision(a, resident.decision)).result
    person = f"{a.base}/actors/camille"
    await pump(a, b)
    # B keeps what A published: the need, proposal, amendment and offer, the two comments
    assert len(await b.rows(Note, Note.author_uri == person)) == 2
    assert await b.rows(RemoteObject, RemoteObject.uri == a.base + resident.offer)
    assert await b.rows(RemoteKey, RemoteKey.owner_uri == person)

    camille = (await a.rows(Account, Account.username == "camille"))[0].id
    comment_uri = (await a.rows(Note, Note.author_uri == person))[0].uri
    create = (await a.rows(OutboxEntry, OutboxEntry.object_id == comment_uri))[0].activity_id
    assert (await a.client.get(create.removeprefix(a.base), headers=AP)).status == 200
    page = await (await a.client.get("/account/delete", headers=HTML)).text()
    assert "Supprimer définitivement mon compte" in page and 'type="password"' in page
    response = await submit(a.client, "/account/delete", "/account/delete", password="nope")
    assert response.status == 400 and "Mot de passe incorrect" in await response.text()
    response = await submit(
        a.client, "/account/delete", "/account/delete", password=resident.password
    )
    assert response.status == 302 and response.headers["Location"] == "/account/deleted"
    assert not await a.rows(WebSession, WebSession.account_id == camille)  # all closed
    await pump(a, b)

    # A: the Delete of the actor, Mastodon's shape, went to B
    deletes = [
        (entry, json.loads(entry.body))
        for entry in await a.rows(OutboxEntry, OutboxEntry.type == "Delete")
    ]
    actor_delete = [(e, d) for e, d in deletes if d["object"] == person]
    assert len(actor_delete) == 1
    entry, document = actor_delete[0]
    assert (document["actor"], document["to"]) == (person, [PUBLIC])
    inboxes = {t.inbox for t in await a.rows(OutboxTarget, OutboxTarget.seq == entry.seq)}
    assert f"{b.base}/inbox" in inboxes
    # A: the outbox log no longer serves what the person sent, nor the offer
    assert (await a.client.get(create.removeprefix(a.base), headers=AP)).status == 404
    public = [e.body for e in await a.rows(OutboxEntry, OutboxEntry.public)]
    assert not [body for body in public if "Le train de 8 h." in body or "Broyeur" in body]
    # B: the comments are gone, the offer too, and the actor is forgotten
    notes = await b.rows(Note, Note.author_uri == person)
    assert len(notes) == 2 and all(n.deleted_at is not None and not n.content for n in notes)
    offer = (await b.rows(RemoteObject, RemoteObject.uri == a.base + resident.offer))[0]
    assert offer.deleted
    assert not await b.rows(RemoteActor, RemoteActor.uri == person)
    assert not await b.rows(RemoteKey, RemoteKey.owner_uri == person)
    # B: the need, the proposal and the amendment stay, by a former resident
    for path in (resident.need, resident.proposal, resident.amendment):
        kept = (await b.rows(RemoteObject, RemoteObject.uri == a.base + path))[0]
        assert not kept.deleted and FORMER_RESIDENT in kept.content, path

    # A: the decision's result is unchanged, the vote and the support are still counted
    assert (await _decision(a, resident.decision)).result == result_before
    assert len(await a.rows(Vote)) == 1 and len(await a.rows(NeedSupport)) == 1
    assert not await a.rows(RemoteVote)
    account = (await a.rows(Account, Account.role == "deleted"))[0]
    assert account.username.startswith("ancien-") and account.deleted_at is not None
    actor = (await a.rows(LocalActor, LocalActor.username == "camille"))[0]
    assert actor.display_name == FORMER_RESIDENT and actor.summary == ""
    # A: the old credentials fail, the actor, its handle, the comments and the offer are gone
    a.client.session.cookie_jar.clear()
    response = await submit(
        a.client, "/login", "/login", username="camille", password=resident.password
    )
    assert response.status == 400
    gone = await a.client.get("/actors/camille", headers=AP)
    assert gone.status == 410
    tombstone = await gone.json(content_type=None)
    assert (tombstone["type"], tombstone["id"], tombstone["formerType"]) == (
        "Tombstone",
        person,
        "Person",
    )
    assert (await a.client.get("/actors/camille", headers=HTML)).status == 410
    handle = f"camille@{a.base.removeprefix('http://')}"
    finger = await a.client.get(f"/.well-known/webfinger?resource=acct:{handle}")
    assert finger.status == 410
    comments = await a.rows(Note, Note.author_uri == person)
    assert len(comments) == 2 and all(n.deleted_at is not None for n in comments)
    for comment in comments:
        assert (await a.client.get(comment.uri.removeprefix(a.base), headers=AP)).status == 410
    assert (await a.client.get(resident.offer, headers=AP)).status == 410
    assert (await a.client.get(resident.offer, headers=HTML)).status == 410
    # A: the pages name a former resident, in French and in English
    for path in (resident.need, resident.proposal, resident.amendment):
        html = await (await a.client.get(path, headers=HTML)).text()
        assert "un·e ancien·ne résident·e" in html and "Camille" not in html, path
    english = await (await a.client.get(f"{resident.need}?lang=en", headers=HTML)).text()
    assert "a former resident" in english
    # A: the members page shows the deleted account as such
    await log_in(a.client, *resident.facilitator)
    members = await (await a.client.get("/members?lang=fr", headers=HTML)).text()
    assert "Compte supprimé le" in members and account.username in members


async def test_the_last_admin_cannot_delete_their_account(territory: Any) -> None:
    a = await territory("Saint-A")
    a.client.session.cookie_jar.clear()
    async with a.client.app[runtime_key].sessions.begin() as session:
        for account in await session.scalars(select(Account).where(Account.role == "admin")):
            await session.delete(account)
    password = await add_account(a.client, "maire", "admin")
    await log_in(a.client, "maire", password)
    page = await (await a.client.get("/account/delete", headers=HTML)).text()
    assert "dernier administrateur" in page and 'type="password"' not in page
    response = await submit(a.client, "/account", "/account/delete", password=password)
    assert response.status == 403 and "dernier administrateur" in await response.text()
    assert (await a.rows(Account, Account.username == "maire"))[0].deleted_at is None

    # with a second admin, the first one can go
    await add_account(a.client, "adjointe", "admin")
    response = await submit(a.client, "/account", "/account/delete", password=password)
    assert response.status == 302


async def test_the_delete_of_an_actor_this_node_cannot_know_is_acknowledged(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node = await make_inbox_node(aiohttp_client, make_config)
    gone = remote.add_actor("partie")
    del remote.actors[gone.uri]  # its server no longer serves it, nor its key
    deletion = {
        "@context": AS,
        "id": f"{gone.uri}#delete",
        "type": "Delete",
        "actor": gone.uri,
        "to": [PUBLIC],
        "object": gone.uri,
    }
    status, answer = await post(node, gone, deletion)
    assert status == 202 and "ignored" in answer
    assert await count(node, InboxItem) == 0
    # anything else signed by a key that cannot be had is still refused
    post_deletion = {**deletion, "id": f"{gone.uri}/delete-1", "object": f"{gone.uri}/notes/1"}
    status, answer = await post(node, gone, post_deletion)
    assert status == 401 and "signing key" in answer["error"]
