"""Circles: working, activity, triage and coordination circles, their Group actors, members
and roles; and who may act as a facilitator for a circle."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.convert.circles import KIND_LABELS, circle_actor_to_as, circle_status_line
from node.convert.urls import actor_id
from node.domain.actors import ActorKind, Role
from node.domain.forms import Form, FormInvalid
from node.services.accounts.members import (
    HANDLE_MAX_LENGTH,
    handle_problem,
    handle_taken,
    publish_actor_update,
    signature_of,
)
from node.services.participation.history import history_of, record_change
from node.services.runtime import Runtime
from node.storage.actors import get_account_by_username
from node.storage.models import (
    Account,
    Circle,
    CircleMember,
    LocalActor,
    Need,
    Proposal,
    StateChange,
)
from protocols.keys import generate_actor_keys

#: the circle role that lets a member run its circle
CIRCLE_FACILITATOR = "facilitator"
#: roles within a circle, with their French names (the pages translate them)
CIRCLE_ROLES: dict[str, str] = {
    CIRCLE_FACILITATOR: "Facilitateur",
    "secretary": "Secrétaire",
    "member": "Membre",
}
#: the history steps of a circle's creation and of someone leaving it
CREATED = "created"
REMOVED = "removed"

CREATE_REFUSED = "Seuls les administrateurs et les facilitateurs peuvent créer un cercle."
MANAGE_REFUSED = (
    "Seuls les administrateurs et les facilitateurs (du nœud ou du cercle) gèrent ce cercle."
)


class CircleRefused(PermissionError):
    """A circle action the account may not take; the message is shown (403)."""


class CircleNotFound(LookupError):
    """No circle has this slug (404)."""


@dataclass(frozen=True, slots=True)
class CircleMemberView:
    """One member of a circle as its page shows it."""

    username: str
    display_name: str
    role: str
    since: datetime


@dataclass(frozen=True, slots=True)
class CircleSummary:
    """A circle in the list of circles."""

    circle: Circle
    members: int


@dataclass(frozen=True, slots=True)
class CirclePage:
    """Everything a circle's page shows."""

    circle: Circle
    actor: LocalActor
    members: list[CircleMemberView]
    history: list[StateChange]
    proposals: list[Proposal]
    needs: list[Need]


async def can_facilitate(session: AsyncSession, account: Account, circle_id: str | None) -> bool:
    """Whether the account may act as a facilitator, for a given circle or (None) in general.

    True for admins and account-role facilitators everywhere, and for a circle's own
    facilitators within that circle; the other helpers guard their facilitator actions with it.
    """
    if account.role in (Role.ADMIN, Role.FACILITATOR):
        return True
    if circle_id is None:
        return False
    role = await session.scalar(
        select(CircleMember.role).where(
            CircleMember.circle_id == circle_id, CircleMember.account_id == account.id
        )
    )
    return role == CIRCLE_FACILITATOR


def _circle_form(data: Mapping[str, Any]) -> tuple[Form, str, str, str]:
    """The name, kind and mandate fields shared by creation and editing."""
    form = Form(data)
    name = form.text("name", max_length=200)
    kind = form.choice("kind", tuple(KIND_LABELS))
    mandate = form.text("mandate", max_length=5000)
    return form, name, kind, mandate


async def create_circle(runtime: Runtime, creator: Account, data: Mapping[str, Any]) -> Circle:
    """Create a circle and its Group actor (followable as @slug@domain); admins and
    facilitators only. The creation opens the circle's history."""
    if not await can_manage_circle(runtime.sessions, creator, None):
        raise CircleRefused(CREATE_REFUSED)
    form, name, kind, mandate = _circle_form(data)
    slug = form.text("slug", max_length=HANDLE_MAX_LENGTH).lower()
    problem = handle_problem(slug) if slug else None
    if problem:
        form.check(False, "slug", problem)
    form.raise_if_invalid()
    keys = await asyncio.to_thread(generate_actor_keys)  # RSA generation: off the event loop
    language = runtime.config.territory.default_language
    async with runtime.sessions.begin() as session:
        if await handle_taken(session, slug):
            raise FormInvalid({"slug": "Ce nom est déjà pris ; choisissez-en un autre."})
        actor = LocalActor(
            kind=ActorKind.CIRCLE.value,
            username=slug,
            display_name=name,
            summary=circle_status_line(kind, mandate, language),
            rsa_private_pem=keys.rsa_private_pem,
            ed25519_private_pem=keys.ed25519_private_pem,
        )
        session.add(actor)
        await session.flush()
        circle = Circle(actor_id=actor.id, slug=slug, name=name, kind=kind, mandate=mandate)
        session.add(circle)
        signed = await signature_of(session, creator)
        record_change(session, actor_id(runtime.config, actor), None, CREATED, signed)
    return circle


async def update_circle(
    runtime: Runtime, editor: Account, slug: str, data: Mapping[str, Any]
) -> Circle:
    """Change a circle's name, kind or mandate; its followers receive Update(Group)."""
    form, name, kind, mandate = _circle_form(data)
    async with runtime.sessions.begin() as session:
        circle, actor = await _circle_and_actor(session, slug)
        if not await can_facilitate(session, editor, circle.id):
            raise CircleRefused(MANAGE_REFUSED)
        form.raise_if_invalid()
        if (circle.name, circle.kind, circle.mandate) == (name, kind, mandate):
            return circle
        if circle.kind != kind:
            signed = await signature_of(session, editor)
            record_change(session, actor_id(runtime.config, actor), circle.kind, kind, signed)
        circle.name, circle.kind, circle.mandate = name, kind, mandate
        actor.display_name = name
        actor.summary = circle_status_line(kind, mandate, runtime.config.territory.default_language)
        await session.flush()
        document = circle_actor_to_as(
            runtime.config, actor, circle, runtime.keyring.keys_for(actor)
        )
        await publish_actor_update(runtime, session, actor, document)
    runtime.wake_delivery()
    return circle


async def set_member(runtime: Runtime, editor: Account, slug: str, data: Mapping[str, Any]) -> None:
    """Add a member to a circle or change their role there (facilitator, secretary, member);
    each step is kept in the circle's history."""
    form = Form(data)
    username = form.text("username", max_length=64)
    role = form.choice("role", tuple(CIRCLE_ROLES))
    async with runtime.sessions.begin() as session:
        circle, actor = await _circle_and_actor(session, slug)
        if not await can_facilitate(session, editor, circle.id):
            raise CircleRefused(MANAGE_REFUSED)
        form.raise_if_invalid()
        account = await get_account_by_username(session, username)
        if account is None:
            raise FormInvalid({"username": "Ce membre n'existe pas."})
        membership = await _membership(session, circle.id, account.id)
        before = membership.role if membership is not None else None
        if before == role:
            return
        if membership is None:
            session.add(CircleMember(circle_id=circle.id, account_id=account.id, role=role))
        else:
            membership.role = role
        signed = await signature_of(session, editor)
        note = await _name_of(session, account)
        record_change(session, actor_id(runtime.config, actor), before, role, signed, note)


async def remove_member(runtime: Runtime, editor: Account, slug: str, username: str) -> None:
    """Take someone out of a circle; kept in the circle's history."""
    async with runtime.sessions.begin() as session:
        circle, actor = await _circle_and_actor(session, slug)
        if not await can_facilitate(session, editor, circle.id):
            raise CircleRefused(MANAGE_REFUSED)
        account = await get_account_by_username(session, username)
        membership = await _membership(session, circle.id, account.id) if account else None
        if account is None or membership is None:
            return  # not a member: nothing to do
        signed = await signature_of(session, editor)
        note = await _name_of(session, account)
        record_change(
            session, actor_id(runtime.config, actor), membership.role, REMOVED, signed, note
        )
        await session.delete(membership)


async def list_circles(sessions: async_sessionmaker[AsyncSession]) -> list[CircleSummary]:
    """Every circle with its number of members, by name."""
    async with sessions() as session:
        counts = (
            select(CircleMember.circle_id, func.count().label("members"))
            .group_by(CircleMember.circle_id)
            .subquery()
        )
        rows = await session.execute(
            select(Circle, func.coalesce(counts.c.members, 0))
            .outerjoin(counts, counts.c.circle_id == Circle.id)
            .order_by(func.lower(Circle.name))
        )
        return [CircleSummary(circle, int(members)) for circle, members in rows]


async def circle_page(runtime: Runtime, slug: str) -> CirclePage:
    """A circle with its members, history, proposals and the needs entrusted to it."""
    async with runtime.sessions() as session:
        circle, actor = await _circle_and_actor(session, slug)
        rows = await session.execute(
            select(CircleMember, Account, LocalActor)
            .join(Account, Account.id == CircleMember.account_id)
            .outerjoin(LocalActor, LocalActor.id == Account.actor_id)
            .where(CircleMember.circle_id == circle.id)
            .order_by(CircleMember.since)
        )
        members = [
            CircleMemberView(
                account.username,
                person.display_name if person is not None else account.username,
                membership.role,
                membership.since,
            )
            for membership, account, person in rows
        ]
        members.sort(key=lambda m: (m.role != CIRCLE_FACILITATOR, m.display_name.lower()))
        proposals = await session.scalars(
            select(Proposal)
            .where(Proposal.circle_id == circle.id)
            .order_by(Proposal.created_at.desc())
        )
        needs = await session.scalars(
            select(Need).where(Need.circle_id == circle.id).order_by(Need.created_at.desc())
        )
        history = await history_of(session, actor_id(runtime.config, actor))
        return CirclePage(circle, actor, members, history, list(proposals), list(needs))


async def can_manage_circle(
    sessions: async_sessionmaker[AsyncSession], account: Account | None, circle_id: str | None
) -> bool:
    """Whether this visitor may manage the circle (None: create circles), in a session of
    its own; the pages use it to offer their management forms."""
    if account is None:
        return False
    async with sessions() as session:
        return await can_facilitate(session, account, circle_id)


async def accounts_for_selection(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[str, str]]:
    """(username, display name) of every account, for the "add a member" list."""
    async with sessions() as session:
        rows = await session.execute(
            select(Account.username, LocalActor.display_name)
            .outerjoin(LocalActor, LocalActor.id == Account.actor_id)
            .order_by(func.lower(func.coalesce(LocalActor.display_name, Account.username)))
        )
        return [(username, name or username) for username, name in rows]


async def circle_of_actor(
    sessions: async_sessionmaker[AsyncSession], local_actor_id: str
) -> Circle | None:
    """The circle a Group actor speaks for (to serve its full actor document)."""
    async with sessions() as session:
        return await session.scalar(select(Circle).where(Circle.actor_id == local_actor_id))


async def _circle_and_actor(session: AsyncSession, slug: str) -> tuple[Circle, LocalActor]:
    """The circle of a slug and its actor; CircleNotFound else."""
    row = (
        await session.execute(
            select(Circle, LocalActor)
            .join(LocalActor, LocalActor.id == Circle.actor_id)
            .where(Circle.slug == slug.lower())
        )
    ).first()
    if row is None:
        raise CircleNotFound("Ce cercle n'existe pas.")
    return row[0], row[1]


async def _membership(
    session: AsyncSession, circle_id: str, account_id: str
) -> CircleMember | None:
    return await session.scalar(
        select(CircleMember).where(
            CircleMember.circle_id == circle_id, CircleMember.account_id == account_id
        )
    )


async def _name_of(session: AsyncSession, account: Account) -> str:
    """An account's display name, for history notes."""
    actor = await session.get(LocalActor, account.actor_id) if account.actor_id else None
    return actor.display_name if actor is not None else account.username
