"""Accounts and logged-in browsers for page tests of an in-process node."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from node.domain.actors import ActorKind
from node.services.accounts.passwords import hash_password
from node.storage.models import Account, LocalActor
from node.web.keys import sessions_key
from protocols.keys import generate_actor_keys

HTML = {"Accept": "text/html"}
#: Session cookies are Secure on https nodes and the test client speaks http: page tests use
#: make_config(node=HTTP_NODE).
HTTP_NODE = {"base_url": "http://saint-x.example"}


async def add_account(client: TestClient, username: str, role: str = "resident") -> str:
    """Create an account (with its Person actor) directly; returns its password."""
    password = f"{username}-password-1"
    keys = generate_actor_keys()
    async with client.app[sessions_key].begin() as session:
        actor = LocalActor(
            kind=ActorKind.PERSON.value,
            username=username,
            display_name=username.title(),
            rsa_private_pem=keys.rsa_private_pem,
            ed25519_private_pem=keys.ed25519_private_pem,
            discoverable=False,
            indexable=False,
        )
        session.add(actor)
        await session.flush()
        session.add(
            Account(
                username=username,
                password_hash=hash_password(password),
                role=role,
                actor_id=actor.id,
            )
        )
    return password


def csrf_of(page: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def submit(client: TestClient, page_path: str, action: str, **fields: Any) -> Any:
    """Load a page as a browser does, then post a form to `action` with the page's token."""
    page = await (await client.get(page_path, headers=HTML)).text()
    return await client.post(action, data={"csrf": csrf_of(page), **fields}, allow_redirects=False)


async def log_in(client: TestClient, username: str, password: str) -> None:
    """Log the client in (its cookie jar then carries the session)."""
    response = await submit(client, "/login", "/login", username=username, password=password)
    assert response.status == 302, await response.text()


async def as_person(client: TestClient, username: str, role: str = "resident") -> None:
    """Create an account and log the client in with it."""
    await log_in(client, username, await add_account(client, username, role))
