"""Residents use their Mastodon apps: Mastodon.py 2.3.3, a real client, drives real
`maillage serve` nodes and the Fedify peer through the client API.

One scenario, shared by the tests in order: territory A (the demo commune, with an open
decision) and its resident Camille; territory B, following A, and its resident Dominique;
alice on the Fedify peer."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from mastodon import Mastodon, MastodonNotFoundError, MastodonUnauthorizedError
from sqlalchemy import select

from instance_config import load_config
from node.domain.actors import ActorKind
from node.services.accounts.passwords import hash_password
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.models import Account, ExternalAnswer, Follow, LocalActor, Vote
from protocols.keys import generate_actor_keys
from tests.testrig.fedify import FedifyPeer
from tests.testrig.nodes import MaillageNode, eventually

OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow"]


def add_resident(node: MaillageNode, username: str) -> str:
    """A resident account with its Person actor, written in the node's database; returns the
    password (as an admin's invitation would end, without the pages)."""
    password = f"{username}-mot-de-passe"

    async def write() -> None:
        engine = make_engine(load_config(node.data, {}).database.url)
        keys = generate_actor_keys()
        try:
            async with make_sessionmaker(engine).begin() as session:
                actor = LocalActor(
                    kind=ActorKind.PERSON.value,
                    username=username,
                    display_name=username.title(),
                    rsa_private_pem=keys.rsa_private_pem,
                    ed25519_private_pem=keys.ed25519_private_pem,
                )
                session.add(actor)
                await session.flush()
                session.add(
                    Account(
                        username=username,
                        password_hash=hash_password(password),
                        role="resident",
                        actor_id=actor.id,
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(write())
    return password


def query(node: MaillageNode, statement: Any) -> list[Any]:
    """Rows of a query on the node's database."""

    async def run() -> list[Any]:
        engine = make_engine(load_config(node.data, {}).database.url)
        try:
            async with make_sessionmaker(engine)() as session:
                return list((await session.execute(statement)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


@dataclass
class World:
    a: MaillageNode
    b: MaillageNode
    peer: FedifyPeer
    camille: str
    dominique: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, fedify_peer_dir: Path) -> Iterator[World]:
    root = tmp_path_factory.mktemp("apps")
    a = MaillageNode(root, "Saint-Aubin-sur-Loire")
    a.cli("demo")
    b = MaillageNode(root, "Bréhan")
    camille, dominique = add_resident(a, "camille"), add_resident(b, "dominique")
    peer = FedifyPeer(fedify_peer_dir).start()
    a.start()
    b.start()
    try:
        b.cli("follow", a.territory)
        eventually(
            lambda: query(b, select(Follow.id).where(Follow.state == "accepted")), "A accepts B"
        )
        b.cli("backfill")  # what A published before B followed it, its open decision among it
        yield World(a, b, peer, camille, dominique)
    finally:
        peer.stop()
        a.stop()
        b.stop()


def register(node: MaillageNode, redirect: str = OOB) -> tuple[str, str]:
    """Register an app with Mastodon.py, as a client's first step."""
    return Mastodon.create_app(
        "Test app", scopes=SCOPES, redirect_uris=redirect, api_base_url=node.base
    )


def password_client(node: MaillageNode, username: str, password: str) -> Mastodon:
    """Mastodon.py logged in with the password grant (scripts)."""
    client_id, secret = register(node)
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=node.base)
    api.log_in(username, password, scopes=SCOPES, allow_http=True)
    return api


@pytest.fixture(scope="module")
def camille(world: World) -> Mastodon:
    return password_client(world.a, "camille", world.camille)


def test_the_app_logs_in_with_a_password_and_knows_who_it_is(
    world: World, camille: Mastodon
) -> None:
    me = camille.account_verify_credentials()
    assert me["username"] == "camille" and me["acct"] == "camille"
    assert me["source"]["language"] == "fr" and me["avatar"].startswith("http")
    assert camille.retrieve_mastodon_version() == "4.3.0"
    instance = camille.instance_v2()
    assert instance["api_versions"]["mastodon"] >= 2
    assert "Maillage" in instance["version"]


def test_code_flow_with_pkce_logs_in_through_the_nodes_own_page(world: World) -> None:
    node = world.a
    redirect = "fr.example.app:/oauth-callback"
    client_id, secret = register(node, redirect)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=node.base)
    url = api.auth_request_url(redirect_uris=redirect, scopes=SCOPES, state="xyz", allow_http=True)
    url += f"&code_challenge={challenge.decode()}&code_challenge_method=S256"
    browser = requests.Session()
    login = browser.get(url, headers={"Accept": "text/html"})
    assert "/login" in login.url
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
    target = re.search(r'name="next" value="([^"]+)"', login.text)
    assert csrf and target
    consent = browser.post(
        node.base + "/login",
        data={
            "csrf": csrf.group(1),
            "next": target.group(1).replace("&amp;", "&"),
            "username": "camille",
            "password": world.camille,
        },
        headers={"Accept": "text/html"},
    )
    assert "Test app" in consent.text and "Autoriser" in consent.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', consent.text))
    answer = browser.post(
        node.base + "/oauth/authorize",
        data={**{k: v.replace("&amp;", "&") for k, v in fields.items()}, "decision": "allow"},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert location.scheme == "fr.example.app"
    code = parse_qs(location.query)["code"][0]
    assert parse_qs(location.query)["state"] == ["xyz"]
    # the verifier is required once a challenge was given
    refused = requests.post(
        node.base + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": redirect,
            "code_verifier": "wrong",
        },
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    token = requests.post(
        node.base + "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "Bearer" and isinstance(token.json()["created_at"], int)
    app = Mastodon(access_token=token.json()["access_token"], api_base_url=node.base)
    assert app.me()["username"] == "camille"
    # a code is used once
    again = requests.post(
        node.base + "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
    )
    assert again.status_code == 400


def test_local_timeline_pages_backwards_with_link_headers(camille: Mastodon) -> None:
    first = camille.timeline_local(limit=5)
    assert len(first) == 5
    ids = [s["id"] for s in first]
    assert ids == sorted(ids, reverse=True) and len({len(i) for i in ids}) == 1
    older = camille.fetch_next(first)
    assert older and all(s["id"] < ids[-1] for s in older)
    assert all(s["account"]["acct"] for s in first + older)
    kinds = {s["card"]["url"].split("/")[3] for s in first + older if s["card"]}
    assert kinds, "the territory's objects carry a link card to their page"
    home = camille.timeline_home(limit=10)
    assert home and home[0]["id"] >= first[0]["id"]


def test_search_resolves_and_follows_an_account_on_the_fedify_peer(
    world: World, camille: Mastodon
) -> None:
    handle = world.peer.acct.removeprefix("acct:")
    found = camille.search_v2(handle, resolve=True, result_type="accounts")
    assert [a["acct"] for a in found["accounts"]] == [handle]
    alice = found["accounts"][0]
    relation = camille.account_follow(alice["id"])
    assert relation["following"] or relation["requested"]
    eventually(lambda: camille.account_relationships(alice["id"])[0]["following"], "alice accepts")
    world.peer.note(content="<p>Bonjour de Fedify</p>", to=["as:Public"], cc=["followers"])
    eventually(
        lambda: any("Bonjour de Fedify" in s["content"] for s in camille.timeline_home()),
        "alice's post reaches Camille's home timeline",
    )


def test_a_reply_favourite_and_boost_reach_the_peer(world: World, camille: Mastodon) -> None:
    post = next(s for s in camille.timeline_home() if "Bonjour de Fedify" in s["content"])
    reply = camille.status_post("Bonjour Alice, depuis Saint-Aubin !", in_reply_to_id=post["id"])
    assert reply["in_reply_to_id"] == post["id"]
    assert reply["account"]["username"] == "camille"
    camille.status_favourite(post["id"])
    camille.status_reblog(post["id"])
    seen = camille.status(post["id"])
    assert seen["favourited"] and seen["reblogged"]
    received = world.peer.received(type="Create", wait=20)
    assert any("depuis Saint-Aubin" in str(r) for r in received)
    assert world.peer.received(type="Like", wait=20)
    assert world.peer.received(type="Announce", wait=20)
    context = camille.status_context(reply["id"])
    assert [s["id"] for s in context["ancestors"]] == [post["id"]]


def test_a_resident_votes_in_their_territorys_decision_from_the_poll(
    world: World, camille: Mastodon
) -> None:
    polls = [s for s in camille.timeline_local(limit=40) if s["poll"] and not s["poll"]["expired"]]
    assert polls, "the demo's open decision is a poll"
    poll = polls[0]["poll"]
    answered = camille.poll_vote(poll["id"], [0])
    assert answered["voted"] and answered["own_votes"] == [0]
    camilles = select(Vote.choice).join(Account, Account.id == Vote.account_id)
    votes = query(world.a, camilles.where(Account.username == "camille"))
    assert len(votes) == 1


def test_a_neighbour_answers_in_the_separate_tally(world: World) -> None:
    dominique = password_client(world.b, "dominique", world.dominique)

    def open_poll() -> dict[str, Any] | None:
        for status in dominique.timeline_public(limit=40):
            if status["poll"] and not status["poll"]["expired"]:
                return status
        return None

    eventually(lambda: open_poll() is not None, "A's open decision reached B")
    status = open_poll()
    assert status is not None
    binding_before = query(world.a, select(Vote.id))
    dominique.poll_vote(status["poll"]["id"], [0])
    eventually(lambda: query(world.a, select(ExternalAnswer.id)), "A counts B's answer")
    assert query(world.a, select(Vote.id)) == binding_before, "a neighbour's answer never binds"
    assert dominique.poll(status["poll"]["id"])["own_votes"] == [0]


def test_notifications_say_who_followed_and_favourited(world: World, camille: Mastodon) -> None:
    me = camille.me()
    world.peer.follow(me["url"] if me["url"].startswith("http") else me["uri"])
    mine = camille.account_statuses(me["id"])
    assert mine
    world.peer.like(mine[0]["uri"])
    eventually(
        lambda: {"follow", "favourite"} <= {n["type"] for n in camille.notifications()},
        "alice's follow and like become notifications",
    )
    latest = camille.notifications()[0]
    assert camille.notifications(id=latest["id"])["type"] == latest["type"]
    assert latest["account"]["acct"] == world.peer.acct.removeprefix("acct:")


def test_a_revoked_token_is_refused(world: World) -> None:
    api = password_client(world.a, "camille", world.camille)
    assert api.me()["username"] == "camille"
    api.revoke_access_token(allow_http=True)
    with pytest.raises(MastodonUnauthorizedError):
        api.account_verify_credentials()
    with pytest.raises(MastodonNotFoundError):
        Mastodon(access_token=None, api_base_url=world.a.base).status("0" * 40)
