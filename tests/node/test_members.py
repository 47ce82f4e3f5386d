"""Members: invitations, joining, password resets, roles and profiles, through the real pages."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from node.convert.circles import KIND_LABELS
from node.services.accounts.members import ROLE_LABELS
from node.services.accounts.passwords import verify_password
from node.services.participation.circles import CIRCLE_ROLES
from node.storage.base import utcnow
from node.storage.models import AccessLink, Account, LocalActor, OutboxEntry, StateChange
from node.web.app import create_app
from node.web.i18n import english
from node.web.keys import sessions_key
from tests.conftest import initialise
from tests.testrig.people import HTML, HTTP_NODE, add_account, as_person, log_in, submit

TEMPLATES = Path(__file__).resolve().parents[2] / "node" / "web" / "templates"
LITERAL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")
BASE = HTTP_NODE["base_url"]


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    config = make_config(node=HTTP_NODE)
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


@pytest.fixture
async def browser(aiohttp_client: Any, node: TestClient) -> Any:
    """Another browser (its own cookie jar) on the same node."""

    async def open_browser() -> TestClient:
        return await aiohttp_client(node.server)

    return open_browser


def link_in(page: str, kind: str) -> str:
    match = re.search(rf'value="({re.escape(BASE)}/{kind}/[^"]+)"', page)
    assert match, f"no {kind} link shown"
    return match.group(1).removeprefix(BASE)


def field_error(page: str, field: str) -> str:
    """The reason shown next to a field (role=alert, linked to the input)."""
    match = re.search(
        rf'<p class="error field-error" id="{field}-error" role="alert">([^<]+)</p>', page
    )
    assert match, f"no error shown for {field}"
    assert f'aria-describedby="{field}-hint {field}-error"' in page or (
        f'aria-describedby="{field}-error"' in page
    )
    return html.unescape(match.group(1))


async def invite(client: TestClient, **fields: str) -> tuple[int, str]:
    response = await submit(client, "/members", "/members/invite", **fields)
    return response.status, await response.text()


async def test_a_resident_joins_by_a_single_use_invitation(node: TestClient, browser: Any) -> None:
    await as_person(node, "camille", "admin")
    status, page = await invite(node, note="famille Martin, 3 rue des Lilas")
    assert status == 201 and "famille Martin" in page
    path = link_in(page, "join")
    token = path.rsplit("/", 1)[1]
    async with node.app[sessions_key]() as session:
        link = (await session.scalars(select(AccessLink))).one()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert link.kind == "invite" and link.role == "resident" and link.used_at is None
    assert timedelta(days=13) < link.expires_at - utcnow() <= timedelta(days=14)
    # the link is shown once: the member page no longer carries it
    assert token not in await (await node.get("/members", headers=HTML)).text()

    guest = await browser()
    form = await guest.get(path, headers=HTML)
    assert form.status == 200
    page = await form.text()
    assert '<label for="username">' in page and 'id="username"' in page

    # bad input: every field says what is wrong, next to it
    response = await submit(
        guest, path, path, username="Bad Name!", display_name="", password="court", repeat="x"
    )
    assert response.status == 400
    page = await response.text()
    assert "minuscules" in field_error(page, "username")
    assert field_error(page, "display_name") == "Ce champ est obligatoire."
    assert "10 caractères" in field_error(page, "password")
    assert field_error(page, "repeat") == "Les deux mots de passe diffèrent."
    # a handle already used by an account or a local actor (the territory) is refused
    for taken in ("camille", "territoire"):
        response = await submit(
            guest, path, path, username=taken, display_name="X", password="a" * 12, repeat="a" * 12
        )
        assert "déjà pris" in field_error(await response.text(), "username")

    response = await submit(
        guest,
        path,
        path,
        username="Lea-martin",
        display_name="Léa Martin",
        password="un mot de passe solide",
        repeat="un mot de passe solide",
    )
    assert response.status == 302
    profile = await guest.get("/account/profile", headers=HTML)
    assert profile.status == 200 and "@lea-martin@" in await profile.text()
    async with node.app[sessions_key]() as session:
        account = (
            await session.scalars(select(Account).where(Account.username == "lea-martin"))
        ).one()
        actor = await session.get(LocalActor, account.actor_id)
        link = (await session.scalars(select(AccessLink))).one()
    assert account.role == "resident" and verify_password(
        account.password_hash, "un mot de passe solide"
    )
    assert actor is not None and actor.kind == "person" and actor.display_name == "Léa Martin"
    assert link.used_at is not None
    person = await guest.get("/actors/lea-martin", headers={"Accept": "application/activity+json"})
    assert (await person.json(content_type=None))["type"] == "Person"

    # single use: a second visit is told clearly, never a 500
    again = await (await browser()).get(path, headers=HTML)
    assert again.status == 410 and "déjà servi" in await again.text()
    unknown = await node.get("/join/not-a-real-token", headers=HTML)
    assert unknown.status == 404 and "existe pas" in await unknown.text()


async def test_expired_invitation_gives_a_clear_page(node: TestClient, browser: Any) -> None:
    await as_person(node, "camille", "admin")
    path = link_in((await invite(node, note="voisin"))[1], "join")
    async with node.app[sessions_key].begin() as session:
        await session.execute(update(AccessLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    guest = await browser()
    response = await guest.get(path, headers=HTML)
    assert response.status == 410 and "expiré" in await response.text()
    form = await (await guest.get("/login", headers=HTML)).text()
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token
    response = await guest.post(
        path,
        data={
            "csrf": token.group(1),
            "username": "zoe",
            "display_name": "Zoé",
            "password": "a" * 12,
            "repeat": "a" * 12,
        },
        allow_redirects=False,
    )
    assert response.status == 410
    async with node.app[sessions_key]() as session:
        assert await session.scalar(select(Account).where(Account.username == "zoe")) is None


async def test_facilitators_invite_residents_only_and_residents_are_refused(
    node: TestClient, browser: Any
) -> None:
    await as_person(node, "fanny", "facilitator")
    status, page = await invite(node, note="nouveaux voisins")
    assert status == 201 and 'name="role"' not in page  # no role choice for facilitators
    assert link_in(page, "join")
    status, page = await invite(node, note="un admin ?", role="admin")
    assert status == 403
    assert "Seul un administrateur peut inviter un facilitateur" in page
    # a missing note is reported next to its field
    status, page = await invite(node, note="")
    assert status == 400 and field_error(page, "note") == "Ce champ est obligatoire."

    resident = await browser()
    await as_person(resident, "remi")
    response = await resident.get("/members", headers=HTML)
    assert response.status == 403
    assert "Seuls les administrateurs et les facilitateurs peuvent gérer les membres." in (
        await response.text()
    )
    page = await (await resident.get("/", headers=HTML)).text()
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    response = await resident.post(
        "/members/invite", data={"csrf": token.group(1), "note": "x"}, allow_redirects=False
    )
    assert response.status == 403 and "Action refusée" in await response.text()
    async with node.app[sessions_key]() as session:
        links = list(await session.scalars(select(AccessLink)))
    assert len(links) == 1 and links[0].role == "resident"

    # the facilitator withdraws the invitation: the link stops working
    page = await (await node.get("/members", headers=HTML)).text()
    assert "nouveaux voisins · Résident" in page
    response = await submit(node, "/members", "/members/invites/revoke", link=links[0].id)
    assert response.status == 302
    page = await (await node.get("/members", headers=HTML)).text()
    assert "Aucune invitation en attente." in page


async def test_admin_invites_a_facilitator(node: TestClient, browser: Any) -> None:
    await as_person(node, "camille", "admin")
    status, page = await invite(node, note="Dominique", role="facilitator")
    assert status == 201
    guest = await browser()
    path = link_in(page, "join")
    response = await submit(
        guest,
        path,
        path,
        username="dominique",
        display_name="Dominique",
        password="b" * 12,
        repeat="b" * 12,
    )
    assert response.status == 302
    async with node.app[sessions_key]() as session:
        role = await session.scalar(select(Account.role).where(Account.username == "dominique"))
    assert role == "facilitator"


async def test_admin_changes_roles_but_never_removes_the_last_admin(
    node: TestClient, browser: Any
) -> None:
    await as_person(node, "camille", "admin")
    await add_account(node, "remi")
    response = await submit(node, "/members", "/members/role", username="remi", role="facilitator")
    assert response.status == 302
    response = await submit(node, "/members", "/members/role", username="remi", role="chief")
    assert response.status == 400
    assert field_error(await response.text(), "role") == "Choisissez une des valeurs proposées."
    # the initial admin steps down; camille is then the last admin and cannot
    response = await submit(node, "/members", "/members/role", username="admin", role="resident")
    assert response.status == 302
    response = await submit(node, "/members", "/members/role", username="camille", role="resident")
    assert response.status == 403
    assert "Le nœud doit garder au moins un administrateur." in await response.text()
    async with node.app[sessions_key]() as session:
        roles = {u: r for u, r in await session.execute(select(Account.username, Account.role))}
        history = list(await session.scalars(select(StateChange).order_by(StateChange.at)))
    assert roles == {"admin": "resident", "camille": "admin", "remi": "facilitator"}
    assert [(h.object_uri, h.from_state, h.to_state) for h in history] == [
        (f"{BASE}/actors/remi", "resident", "facilitator"),
        (f"{BASE}/actors/admin", "admin", "resident"),
    ]
    assert history[0].by == "Camille (Administrateur)"

    # a facilitator may not change roles
    facilitator = await browser()
    await log_in(facilitator, "remi", "remi-password-1")
    response = await submit(facilitator, "/members", "/members/role", username="remi", role="admin")
    assert response.status == 403
    assert "Seul un administrateur peut changer le rôle" in await response.text()


async def test_password_reset_by_an_admin_issued_link(node: TestClient, browser: Any) -> None:
    await as_person(node, "camille", "admin")
    remi = await browser()
    await as_person(remi, "remi")
    response = await submit(node, "/members", "/members/reset", username="remi")
    assert response.status == 201
    path = link_in(await response.text(), "reset")
    async with node.app[sessions_key]() as session:
        link = (await session.scalars(select(AccessLink).where(AccessLink.kind == "reset"))).one()
    assert timedelta(days=1) < link.expires_at - utcnow() <= timedelta(days=2)

    owner = await browser()
    page = await (await owner.get(path, headers=HTML)).text()
    assert "<code>remi</code>" in page
    response = await submit(owner, path, path, password="court", repeat="court")
    assert response.status == 400 and "10 caractères" in field_error(
        await response.text(), "password"
    )
    response = await submit(
        owner, path, path, password="nouveau mot de passe", repeat="nouveau mot de passe"
    )
    assert response.status == 302
    assert (await owner.get("/account/profile", headers=HTML)).status == 200
    # the old sessions are closed, the old password no longer works, the new one does
    response = await remi.get("/account/profile", headers=HTML, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")
    response = await submit(
        await browser(), "/login", "/login", username="remi", password="remi-password-1"
    )
    assert response.status == 400
    await log_in(await browser(), "remi", "nouveau mot de passe")
    # single use
    response = await (await browser()).get(path, headers=HTML)
    assert response.status == 410

    # only admins issue reset links
    await log_in(remi, "remi", "nouveau mot de passe")
    response = await submit(remi, "/", "/members/reset", username="camille")
    assert response.status == 403
    assert (
        "Seul un administrateur peut émettre un lien de réinitialisation." in await response.text()
    )


async def test_profile_edit_updates_the_person_actor(node: TestClient) -> None:
    await as_person(node, "remi")
    response = await submit(
        node, "/account/profile", "/account/profile", display_name="", summary=""
    )
    assert response.status == 400
    assert field_error(await response.text(), "display_name") == "Ce champ est obligatoire."
    response = await submit(
        node, "/account/profile", "/account/profile", display_name="Rémi B.", summary="Jardinier."
    )
    assert response.status == 302
    actor = await (
        await node.get("/actors/remi", headers={"Accept": "application/activity+json"})
    ).json(content_type=None)
    assert actor["name"] == "Rémi B." and "Jardinier." in actor["summary"]
    async with node.app[sessions_key]() as session:
        entry = (await session.scalars(select(OutboxEntry))).one()
    assert entry.type == "Update" and entry.object_id == f"{BASE}/actors/remi"


async def test_pages_need_a_login(node: TestClient) -> None:
    for path in ("/members", "/account/profile"):
        response = await node.get(path, headers=HTML, allow_redirects=False)
        assert response.status == 302 and response.headers["Location"] == f"/login?next={path}"


def test_member_and_circle_pages_are_translated() -> None:
    texts = {
        m.group(2)
        for folder in ("members", "circles")
        for path in (TEMPLATES / folder).glob("*.html")
        for m in LITERAL.finditer(path.read_text())
    }
    texts |= set(KIND_LABELS.values()) | set(CIRCLE_ROLES.values()) | set(ROLE_LABELS.values())
    assert texts and sorted(texts - set(english())) == []
