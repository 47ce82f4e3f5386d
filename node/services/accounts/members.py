"""Members: handles, roles, the member list and one's own profile (a `Person` actor).

Admins and facilitators see the member list; only an admin changes roles, and the node always
keeps one admin at least. Joining by invitation and password resets are in
`node.services.accounts.invitations`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.convert.activities import make_activity, public_addressing, strip_context
from node.convert.actors import actor_to_as
from node.convert.urls import actor_id, collection_url
from node.domain.actors import Role
from node.domain.forms import Form, FormInvalid
from node.services.federation.outbox import publish
from node.services.participation.history import record_change
from node.services.runtime import Runtime
from node.storage.actors import get_account_by_username, get_actor_by_username
from node.storage.models import Account, LocalActor

#: Mastodon's limit for a username
HANDLE_MAX_LENGTH = 30
#: lower-case letters, digits and `_`, with single inner hyphens (Mastodon's handle rules)
_HANDLE = re.compile(r"[a-z0-9_]+(?:-[a-z0-9_]+)*")
#: path words a handle may not take (circle pages live at /circles/<slug>)
RESERVED_HANDLES = frozenset({"new", "actor", "actors", "inbox", "admin", "members"})

#: how each account role is shown (French; the templates translate)
ROLE_LABELS: dict[str, str] = {
    Role.RESIDENT: "Résident",
    Role.FACILITATOR: "Facilitateur",
    Role.ADMIN: "Administrateur",
}

MEMBERS_ONLY = "Seuls les administrateurs et les facilitateurs peuvent gérer les membres."
ADMINS_ONLY_ROLES = "Seul un administrateur peut changer le rôle d'un membre."
LAST_ADMIN = "Le nœud doit garder au moins un administrateur."


class MemberRefused(PermissionError):
    """An action the account's role does not allow; the message is shown (403)."""


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One account as the member list shows it."""

    username: str
    display_name: str
    role: str
    joined: datetime
    last_seen: datetime | None
    #: set for an account its owner deleted (shown as such, without any action)
    deleted_at: datetime | None = None


def handle_problem(handle: str) -> str | None:
    """Why a handle is not acceptable (Mastodon's rules, reserved words), or None."""
    if not _HANDLE.fullmatch(handle):
        return "Lettres minuscules sans accent, chiffres, « _ » et tirets à l'intérieur seulement."
    if len(handle) > HANDLE_MAX_LENGTH:
        return "30 caractères au plus."
    if handle in RESERVED_HANDLES:
        return "Ce nom est réservé ; choisissez-en un autre."
    return None


async def handle_taken(session: AsyncSession, handle: str) -> bool:
    """Whether a local actor or an account already uses the handle (case-insensitively)."""
    return (
        await get_actor_by_username(session, handle) is not None
        or await get_account_by_username(session, handle) is not None
    )


async def signature_of(session: AsyncSession, account: Account) -> str:
    """How the account signs a step of a history: "Camille (Facilitateur)"."""
    actor = await session.get(LocalActor, account.actor_id) if account.actor_id else None
    name = actor.display_name if actor is not None else account.username
    return f"{name} ({ROLE_LABELS.get(account.role, account.role)})"


def require_manager(account: Account) -> None:
    """Admins and facilitators manage members; anyone else is refused."""
    if account.role not in (Role.ADMIN, Role.FACILITATOR):
        raise MemberRefused(MEMBERS_ONLY)


async def list_members(sessions: async_sessionmaker[AsyncSession]) -> list[MemberRow]:
    """Every account with its display name and role, by name, deleted ones after the others;
    admins and facilitators only see this list (the caller checks)."""
    async with sessions() as session:
        rows = await session.execute(
            select(Account, LocalActor)
            .outerjoin(LocalActor, LocalActor.id == Account.actor_id)
            .order_by(Account.deleted_at.is_not(None), func.lower(Account.username))
        )
        return [
            MemberRow(
                username=account.username,
                display_name=actor.display_name if actor is not None else account.username,
                role=account.role,
                joined=account.created_at,
                last_seen=account.last_seen_at,
                deleted_at=account.deleted_at,
            )
            for account, actor in rows
        ]


async def change_role(
    sessions: async_sessionmaker[AsyncSession],
    config: InstanceConfig,
    issuer: Account,
    data: Mapping[str, Any],
) -> None:
    """Give an account another role (admins only), never leaving the node without an admin;
    the change is kept in the history of the member's actor."""
    if issuer.role != Role.ADMIN:
        raise MemberRefused(ADMINS_ONLY_ROLES)
    form = Form(data)
    username = form.text("username", max_length=HANDLE_MAX_LENGTH)
    role = form.choice("role", tuple(ROLE_LABELS))
    form.raise_if_invalid()
    async with sessions.begin() as session:
        account = await get_account_by_username(session, username)
        if account is None:
            raise FormInvalid({"username": "Ce membre n'existe pas."})
        if account.role == role:
            return
        if account.role == Role.ADMIN:
            admins = await session.scalar(
                select(func.count()).select_from(Account).where(Account.role == Role.ADMIN)
            )
            if (admins or 0) <= 1:
                raise MemberRefused(LAST_ADMIN)
        actor = await session.get(LocalActor, account.actor_id) if account.actor_id else None
        uri = actor_id(config, actor) if actor else f"{config.node.base_url}/members/{username}"
        signed = await signature_of(session, issuer)
        record_change(session, uri, account.role, role, signed)
        account.role = role


async def profile_of(sessions: async_sessionmaker[AsyncSession], account: Account) -> LocalActor:
    """The account's own Person actor (its public profile)."""
    async with sessions() as session:
        actor = await session.get(LocalActor, account.actor_id) if account.actor_id else None
    if actor is None:
        raise MemberRefused("Ce compte n'a pas de profil public.")
    return actor


async def update_profile(runtime: Runtime, account: Account, data: Mapping[str, Any]) -> None:
    """Change one's display name and presentation; followers receive Update(Person)."""
    form = Form(data)
    display_name = form.text("display_name", max_length=100)
    summary = form.text("summary", required=False, max_length=500)
    form.raise_if_invalid()
    async with runtime.sessions.begin() as session:
        actor = await session.get(LocalActor, account.actor_id) if account.actor_id else None
        if actor is None:
            raise MemberRefused("Ce compte n'a pas de profil public.")
        if (actor.display_name, actor.summary) == (display_name, summary):
            return
        actor.display_name, actor.summary = display_name, summary
        await session.flush()
        document = actor_to_as(runtime.config, actor, runtime.keyring.keys_for(actor))
        await publish_actor_update(runtime, session, actor, document)
    runtime.wake_delivery()


async def publish_actor_update(
    runtime: Runtime, session: AsyncSession, actor: LocalActor, document: dict[str, Any]
) -> None:
    """Log Update(actor) from the actor itself to its followers, in the caller's transaction,
    so that Mastodon and other servers refresh the name and summary they show."""
    config = runtime.config
    uri = actor_id(config, actor)
    to, cc = public_addressing(collection_url(config, actor, "followers"))
    activity = make_activity(config, "Update", uri, strip_context(document), to=to, cc=cc)
    await publish(session, actor.id, uri, activity, to_followers=True)
