"""Invitations and password resets: single-use links.

Residents join only by invitation: an admin or a facilitator issues a link valid 14 days (only
its token's sha256 is stored; the full link is shown once, to its issuer); the invitee picks a
handle, a display name and a password, which creates their account and their `Person` actor
and logs them in. An admin issues password-reset links, valid 2 days, for an account.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.domain.actors import ActorKind, Role
from node.domain.forms import Form, FormInvalid
from node.services.accounts.members import (
    HANDLE_MAX_LENGTH,
    ROLE_LABELS,
    MemberRefused,
    handle_problem,
    handle_taken,
    require_manager,
)
from node.services.accounts.passwords import hash_password
from node.services.accounts.sessions import MIN_PASSWORD_LENGTH, open_session_for
from node.storage.actors import get_account_by_username
from node.storage.base import utcnow
from node.storage.models import AccessLink, Account, LocalActor, WebSession
from protocols.keys import generate_actor_keys

INVITE_LIFETIME = timedelta(days=14)
RESET_LIFETIME = timedelta(days=2)

ADMINS_ONLY_INVITE = "Seul un administrateur peut inviter un facilitateur ou un administrateur."
ADMINS_ONLY_RESET = "Seul un administrateur peut émettre un lien de réinitialisation."
TOO_SHORT = "Le mot de passe doit compter au moins 10 caractères."


class LinkInvalid(LookupError):
    """An invitation or reset link that cannot be used: unknown (404), used or expired (410)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A link just issued: the only moment its full URL exists."""

    url: str
    kind: str
    role: str
    note: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PendingInvite:
    """An invitation not used yet and not expired."""

    id: str
    role: str
    note: str
    expires_at: datetime
    issuer: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_invite(
    sessions: async_sessionmaker[AsyncSession],
    config: InstanceConfig,
    issuer: Account,
    data: Mapping[str, Any],
) -> IssuedLink:
    """Issue a single-use invitation valid 14 days; facilitators invite residents only."""
    require_manager(issuer)
    form = Form(data)
    role = form.choice("role", tuple(ROLE_LABELS), required=False) or Role.RESIDENT
    note = form.text("note", max_length=200)
    form.raise_if_invalid()
    if role != Role.RESIDENT and issuer.role != Role.ADMIN:
        raise MemberRefused(ADMINS_ONLY_INVITE)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + INVITE_LIFETIME
    async with sessions.begin() as session:
        session.add(
            AccessLink(
                token_hash=_hash(token),
                kind="invite",
                role=role,
                note=note,
                created_by=issuer.id,
                expires_at=expires,
            )
        )
    return IssuedLink(f"{config.node.base_url}/join/{token}", "invite", role, note, expires)


async def _usable_link(session: AsyncSession, token: str, kind: str) -> AccessLink:
    """The link of a token, if it can still be used; LinkInvalid says why not."""
    link = None
    if 0 < len(token) <= 100:
        link = await session.scalar(
            select(AccessLink).where(AccessLink.token_hash == _hash(token), AccessLink.kind == kind)
        )
    if link is None:
        raise LinkInvalid("Ce lien n'existe pas. Vérifiez qu'il a été copié en entier.", 404)
    if link.used_at is not None:
        raise LinkInvalid("Ce lien a déjà servi : chaque lien ne sert qu'une fois.", 410)
    if link.expires_at <= utcnow():
        raise LinkInvalid("Ce lien a expiré. Demandez-en un nouveau.", 410)
    return link


async def _spend(session: AsyncSession, link: AccessLink) -> None:
    """Mark a link used, at most once even when two requests race."""
    spent = await session.execute(
        update(AccessLink)
        .where(AccessLink.id == link.id, AccessLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if getattr(spent, "rowcount", 1) != 1:
        raise LinkInvalid("Ce lien a déjà servi : chaque lien ne sert qu'une fois.", 410)


async def check_link(sessions: async_sessionmaker[AsyncSession], token: str, kind: str) -> str:
    """The note or account a usable link is for (shown on its form); LinkInvalid else."""
    async with sessions() as session:
        link = await _usable_link(session, token, kind)
        if link.account_id is not None:
            account = await session.get(Account, link.account_id)
            return account.username if account is not None else ""
        return link.note


def _password(form: Form) -> str:
    """The new password and its repetition, checked."""
    password = str(form.data.get("password", ""))
    form.check(len(password) >= MIN_PASSWORD_LENGTH, "password", TOO_SHORT)
    form.check(
        password == str(form.data.get("repeat", "")),
        "repeat",
        "Les deux mots de passe diffèrent.",
    )
    return password


async def join(
    sessions: async_sessionmaker[AsyncSession], token: str, data: Mapping[str, Any]
) -> tuple[str, Account]:
    """Accept an invitation: create the account and its Person actor, spend the link, and
    open a session; returns the session cookie token and the account."""
    async with sessions() as session:
        await _usable_link(session, token, "invite")
    form = Form(data)
    username = form.text("username", max_length=HANDLE_MAX_LENGTH).lower()
    display_name = form.text("display_name", max_length=100)
    password = _password(form)
    problem = handle_problem(username) if username else None
    if problem:
        form.check(False, "username", problem)
    form.raise_if_invalid()
    # RSA generation and argon2: off the event loop, each takes a good part of a second
    keys = await asyncio.to_thread(generate_actor_keys)
    password_hash = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        link = await _usable_link(session, token, "invite")
        if await handle_taken(session, username):
            raise FormInvalid({"username": "Ce nom est déjà pris ; choisissez-en un autre."})
        actor = LocalActor(
            kind=ActorKind.PERSON.value,
            username=username,
            display_name=display_name,
            rsa_private_pem=keys.rsa_private_pem,
            ed25519_private_pem=keys.ed25519_private_pem,
            discoverable=False,
            indexable=False,
        )
        session.add(actor)
        await session.flush()
        account = Account(
            username=username, password_hash=password_hash, role=link.role, actor_id=actor.id
        )
        session.add(account)
        await _spend(session, link)
        await session.flush()
    return await open_session_for(sessions, account.id)


async def issue_reset(
    sessions: async_sessionmaker[AsyncSession],
    config: InstanceConfig,
    issuer: Account,
    username: str,
) -> IssuedLink:
    """Issue a password-reset link for an account, valid 2 days; admins only. Earlier unused
    reset links of that account stop working."""
    if issuer.role != Role.ADMIN:
        raise MemberRefused(ADMINS_ONLY_RESET)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + RESET_LIFETIME
    async with sessions.begin() as session:
        account = await get_account_by_username(session, username)
        if account is None:
            raise FormInvalid({"username": "Ce membre n'existe pas."})
        await session.execute(
            delete(AccessLink).where(
                AccessLink.kind == "reset",
                AccessLink.account_id == account.id,
                AccessLink.used_at.is_(None),
            )
        )
        session.add(
            AccessLink(
                token_hash=_hash(token),
                kind="reset",
                account_id=account.id,
                note=account.username,
                created_by=issuer.id,
                expires_at=expires,
            )
        )
    return IssuedLink(
        f"{config.node.base_url}/reset/{token}", "reset", account.role, account.username, expires
    )


async def reset_password(
    sessions: async_sessionmaker[AsyncSession], token: str, data: Mapping[str, Any]
) -> tuple[str, Account]:
    """Set a new password through a reset link: every other session of the account ends, the
    link is spent, and a new session opens; returns its cookie token and the account."""
    async with sessions() as session:
        await _usable_link(session, token, "reset")
    form = Form(data)
    password = _password(form)
    form.raise_if_invalid()
    password_hash = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        link = await _usable_link(session, token, "reset")
        account = await session.get(Account, link.account_id) if link.account_id else None
        if account is None:
            raise LinkInvalid("Ce lien n'existe pas. Vérifiez qu'il a été copié en entier.", 404)
        account.password_hash = password_hash
        account.must_change_password = False
        await session.execute(delete(WebSession).where(WebSession.account_id == account.id))
        await _spend(session, link)
    return await open_session_for(sessions, account.id)


async def pending_invites(sessions: async_sessionmaker[AsyncSession]) -> list[PendingInvite]:
    """Invitations still waiting for their invitee, soonest to expire first."""
    async with sessions() as session:
        rows = await session.execute(
            select(AccessLink, Account.username)
            .outerjoin(Account, Account.id == AccessLink.created_by)
            .where(
                AccessLink.kind == "invite",
                AccessLink.used_at.is_(None),
                AccessLink.expires_at > utcnow(),
            )
            .order_by(AccessLink.expires_at)
        )
        return [
            PendingInvite(link.id, link.role, link.note, link.expires_at, issuer or "")
            for link, issuer in rows
        ]


async def revoke_invite(
    sessions: async_sessionmaker[AsyncSession], issuer: Account, link_id: str
) -> None:
    """Withdraw an unused invitation: admins may withdraw any, facilitators their own."""
    require_manager(issuer)
    async with sessions.begin() as session:
        link = await session.get(AccessLink, link_id)
        if link is None or link.kind != "invite" or link.used_at is not None:
            return  # already gone: nothing to do
        if issuer.role != Role.ADMIN and link.created_by != issuer.id:
            raise MemberRefused("Vous ne pouvez retirer que vos propres invitations.")
        await session.delete(link)
