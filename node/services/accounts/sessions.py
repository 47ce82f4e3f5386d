"""Logging in and out, sessions, and password changes."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.services.accounts.passwords import hash_password, password_matches, verify_password
from node.services.limits.logins import LoginLimiter
from node.services.moderation.visibility import active_suspension
from node.storage.actors import get_account_by_username
from node.storage.base import utcnow
from node.storage.models import Account, WebSession

SESSION_LIFETIME = timedelta(days=30)
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A login or password change refused; the message is shown to the person."""


class WrongCredentials(AccountError):
    """An unknown login name or a wrong password: one answer for both."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The account behind a browser session, and the session's CSRF token."""

    account: Account
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def log_in(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    password: str,
    *,
    replacing: str | None = None,
    limiter: LoginLimiter | None = None,
    address: str = "",
) -> tuple[str, Account]:
    """Check the credentials and open a session; returns the cookie token and the account.

    The session is always new (a token planted in the browser beforehand is never the one
    signed in: no session fixation), and the browser's previous session, `replacing`, ends.
    The limiter may refuse before any check (LoginThrottled); failures are counted for the
    login name and the client `address`, a success clears the login name's. Without a
    limiter: only for a password its owner has just chosen (joining, a reset link)."""
    if limiter is None:
        return await _open_session(sessions, username, password, replacing)
    await limiter.check(username, address)
    try:
        opened = await _open_session(sessions, username, password, replacing)
    except WrongCredentials:
        await limiter.failed(username, address)
        raise
    await limiter.succeeded(username)
    return opened


async def _open_session(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    password: str,
    replacing: str | None,
) -> tuple[str, Account]:
    """Check the credentials and open a session; an unknown login name costs the same
    password check as a known one and gets the same answer. The check runs in a thread:
    argon2 takes a good part of a second on small hardware, the server goes on meanwhile."""
    async with sessions() as session:
        account = await get_account_by_username(session, username.strip())
    matches = await asyncio.to_thread(
        password_matches, account.password_hash if account else None, password
    )
    if not matches or account is None:
        raise WrongCredentials("Identifiant ou mot de passe incorrect.")
    return await open_session_for(sessions, account.id, replacing=replacing)


async def open_session_for(
    sessions: async_sessionmaker[AsyncSession], account_id: str, *, replacing: str | None = None
) -> tuple[str, Account]:
    """Open a session for an account whose owner has just proved who they are (their
    password, or a link they chose a new one through); a suspended account is refused as at
    login. The browser's previous session, `replacing`, ends."""
    async with sessions.begin() as session:
        account = await session.get(Account, account_id)
        if account is None:
            raise WrongCredentials("Identifiant ou mot de passe incorrect.")
        suspension = await active_suspension(session, account.id)
        if suspension is not None:
            raise AccountError(f"Votre compte est suspendu par la modération : {suspension.reason}")
        if replacing:
            await session.execute(
                delete(WebSession).where(WebSession.token_hash == _hash(replacing))
            )
        token = open_session(session, account.id)
        account.last_seen_at = utcnow()
    return token, account


def open_session(session: AsyncSession, account_id: str) -> str:
    """Add a new browser session for an account, with its own CSRF token; returns the cookie
    token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_hash(token),
            account_id=account_id,
            csrf_token=secrets.token_urlsafe(24),
            expires_at=utcnow() + SESSION_LIFETIME,
        )
    )
    return token


async def signed_in(sessions: async_sessionmaker[AsyncSession], token: str) -> SignedIn | None:
    """The account of a session cookie, or None when unknown or expired."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(WebSession, Account)
                .join(Account, Account.id == WebSession.account_id)
                .where(WebSession.token_hash == _hash(token), WebSession.expires_at > utcnow())
            )
        ).first()
    if row is None:
        return None
    web_session, account = row
    return SignedIn(account=account, csrf_token=web_session.csrf_token)


async def log_out(sessions: async_sessionmaker[AsyncSession], token: str) -> None:
    """Close a session."""
    async with sessions.begin() as session:
        await session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


async def end_all_sessions(session: AsyncSession, account_id: str) -> None:
    """Close every browser session of an account, in the caller's transaction (an account
    being deleted must be logged out everywhere at once)."""
    await session.execute(delete(WebSession).where(WebSession.account_id == account_id))


async def change_password(
    sessions: async_sessionmaker[AsyncSession],
    account_id: str,
    current: str,
    new: str,
    repeat: str,
    *,
    limiter: LoginLimiter | None = None,
    address: str = "",
) -> str:
    """Replace the password after checking the current one and the new one's strength.

    Every browser session of the account ends (one opened with the old password, elsewhere,
    is logged out) and a new one opens for the browser making the change: its cookie token
    is returned. The apps' OAuth tokens are kept, as Mastodon keeps them; the resident
    revokes them on /account/apps. The current password's check goes through the login
    limits, as a login from `address` would: a stolen session must not make it a way to
    guess the password (LoginThrottled)."""
    if new != repeat:
        raise AccountError("Les deux nouveaux mots de passe diffèrent.")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError("Le nouveau mot de passe doit compter au moins 10 caractères.")
    async with sessions() as session:
        account = await session.get(Account, account_id)
    username = account.username if account is not None else ""
    if limiter is not None:
        await limiter.check(username, address)
    # argon2 in threads: the server goes on meanwhile
    if account is None or not await asyncio.to_thread(
        verify_password, account.password_hash, current
    ):
        if limiter is not None:
            await limiter.failed(username, address)
        raise AccountError("Le mot de passe actuel est incorrect.")
    if new == current:
        raise AccountError("Le nouveau mot de passe doit différer de l'actuel.")
    new_hash = await asyncio.to_thread(hash_password, new)
    async with sessions.begin() as session:
        account = await session.get(Account, account_id)
        if account is None:
            raise AccountError("Le mot de passe actuel est incorrect.")
        account.password_hash = new_hash
        account.must_change_password = False
        await end_all_sessions(session, account_id)
        return open_session(session, account_id)
