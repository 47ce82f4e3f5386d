"""OAuth 2 as Mastodon does it: authorization codes (with PKCE S256), the password grant for
scripts, client credentials for an app's own token, revocation, and the bearer lookup every
API call starts with. Only sha256 hashes of codes and tokens are stored."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.domain.scopes import parse_scopes, within
from node.services.accounts.passwords import password_matches
from node.services.client_api.apps import (
    app_redirect_uris,
    authenticated_app,
    secret_hash,
)
from node.services.client_api.errors import ApiError, too_many
from node.services.limits.logins import LoginLimiter, LoginThrottled
from node.services.moderation.visibility import active_suspension
from node.storage.actors import get_account_by_username
from node.storage.base import utcnow
from node.storage.models import Account, OAuthApp, OAuthCode, OAuthToken

CODE_LIFETIME = timedelta(minutes=10)
#: last_used_at is written at most this often per token (a read must not always write)
TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new access token (shown this once) and what it grants."""

    access_token: str
    scopes: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Bearer:
    """Who a bearer token speaks for: an account (user token) or only an app."""

    token: OAuthToken
    app: OAuthApp
    account: Account | None

    @property
    def scopes(self) -> list[str]:
        """The scopes the token was granted."""
        return parse_scopes(self.token.scopes)


def granted_scopes(requested: str, app: OAuthApp) -> str:
    """The scopes a grant asks for (the app's own when none), within what the app registered."""
    wanted = parse_scopes(requested) or parse_scopes(app.scopes)
    if not within(wanted, parse_scopes(app.scopes)):
        raise ApiError(
            400,
            "The requested scope is invalid, unknown, or malformed.",
            code="invalid_scope",
        )
    return " ".join(wanted)


def check_redirect_uri(app: OAuthApp, redirect_uri: str) -> None:
    """The redirect URI must be one the app registered (RFC 6749 3.1.2.3)."""
    if redirect_uri not in app_redirect_uris(app):
        raise ApiError(
            400,
            "The redirect uri included is not valid.",
            code="invalid_grant",
        )


async def app_for_authorization(
    sessions: async_sessionmaker[AsyncSession], client_id: str, redirect_uri: str, scope: str
) -> tuple[OAuthApp, str]:
    """The app an /oauth/authorize request names, with the scopes it may be granted."""
    async with sessions() as session:
        app = (
            await session.scalars(select(OAuthApp).where(OAuthApp.client_id == client_id))
        ).first()
    if app is None:
        raise ApiError(400, "Client authentication failed: unknown client", code="invalid_client")
    check_redirect_uri(app, redirect_uri)
    return app, granted_scopes(scope, app)


async def issue_code(
    sessions: async_sessionmaker[AsyncSession],
    app: OAuthApp,
    account: Account,
    redirect_uri: str,
    scopes: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    """An authorization code for the account's consent, exchanged once within ten minutes."""
    if code_challenge and (code_challenge_method or "plain") != "S256":
        raise ApiError(
            400, "Only the S256 code challenge method is supported", code="invalid_request"
        )
    code = secrets.token_urlsafe(32)
    async with sessions.begin() as session:
        session.add(
            OAuthCode(
                code_hash=secret_hash(code),
                app_id=app.id,
                account_id=account.id,
                redirect_uri=redirect_uri,
                scopes=scopes,
                code_challenge=code_challenge or None,
                expires_at=utcnow() + CODE_LIFETIME,
            )
        )
    return code


def pkce_matches(challenge: str, verifier: str) -> bool:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding equals the challenge."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(computed, challenge)


def _new_token(
    session: AsyncSession, app: OAuthApp, account_id: str | None, scopes: str
) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    row = OAuthToken(
        token_hash=secret_hash(token),
        app_id=app.id,
        account_id=account_id,
        scopes=scopes,
        created_at=utcnow(),
    )
    session.add(row)
    return IssuedToken(token, scopes, row.created_at)


_BAD_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)


async def exchange_code(
    sessions: async_sessionmaker[AsyncSession],
    client_id: str,
    client_secret: str | None,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
) -> IssuedToken:
    """Trade an authorization code for a user token: once, in time, from the same app and
    redirect URI, with the PKCE verifier when a challenge was given. A client proving PKCE
    may omit its secret (a public client)."""
    async with sessions.begin() as session:
        row = await session.get(OAuthCode, secret_hash(code))
        app = (
            await session.scalars(select(OAuthApp).where(OAuthApp.client_id == client_id))
        ).first()
        if row is None or app is None or row.app_id != app.id:
            raise ApiError(400, _BAD_GRANT, code="invalid_grant")
        if (
            row.used_at is not None
            or row.expires_at <= utcnow()
            or row.redirect_uri != redirect_uri
        ):
            raise ApiError(400, _BAD_GRANT, code="invalid_grant")
        if row.code_challenge:
            if not code_verifier or not pkce_matches(row.code_challenge, code_verifier):
                raise ApiError(400, "The PKCE code verifier does not match", code="invalid_grant")
        if client_secret is not None or not row.code_challenge:
            await authenticated_app(session, client_id, client_secret)
        row.used_at = utcnow()
        return _new_token(session, app, row.account_id, row.scopes)


async def password_grant(
    sessions: async_sessionmaker[AsyncSession],
    client_id: str,
    client_secret: str | None,
    username: str,
    password: str,
    scope: str,
    *,
    limiter: LoginLimiter,
    address: str,
) -> IssuedToken:
    """A user token for a script that knows the resident's password; the login limits
    apply (429 with when to retry), and an unknown login name costs what a known one does."""
    try:
        await limiter.check(username, address)
    except LoginThrottled as throttled:
        wait = throttled.retry_after
        raise too_many(f"Too many failed logins: try again in {wait} seconds", wait) from None
    try:
        issued = await _password_token(
            sessions, client_id, client_secret, username, password, scope
        )
    except _WrongCredentials:
        await limiter.failed(username, address)
        raise
    await limiter.succeeded(username)
    return issued


class _WrongCredentials(ApiError):
    """An unknown login name or a wrong password: one answer for both."""


async def _password_token(
    sessions: async_sessionmaker[AsyncSession],
    client_id: str,
    client_secret: str | None,
    username: str,
    password: str,
    scope: str,
) -> IssuedToken:
    async with sessions.begin() as session:
        app = await authenticated_app(session, client_id, client_secret)
        scopes = granted_scopes(scope, app)
        account = await get_account_by_username(session, username.strip())
        stored = account.password_hash if account else None
        if not await asyncio.to_thread(password_matches, stored, password):  # argon2: off the loop
            raise _WrongCredentials(400, "Invalid username or password", code="invalid_grant")
        assert account is not None
        suspension = await active_suspension(session, account.id)
        if suspension is not None:
            raise ApiError(
                400,
                f"This account is suspended by the moderation: {suspension.reason}",
                code="invalid_grant",
            )
        if account.must_change_password:
            raise ApiError(
                400,
                "Choose a new password on the node's web page first (first login)",
                code="invalid_grant",
            )
        return _new_token(session, app, account.id, scopes)


async def client_credentials(
    sessions: async_sessionmaker[AsyncSession],
    client_id: str,
    client_secret: str | None,
    scope: str,
) -> IssuedToken:
    """An app's own token, speaking for no account (read public data, verify the app)."""
    async with sessions.begin() as session:
        app = await authenticated_app(session, client_id, client_secret)
        return _new_token(session, app, None, granted_scopes(scope, app))


async def revoke_token(
    sessions: async_sessionmaker[AsyncSession],
    client_id: str,
    client_secret: str | None,
    token: str,
) -> None:
    """Revoke a token the app holds (RFC 7009: unknown tokens are not an error)."""
    async with sessions.begin() as session:
        app = await authenticated_app(session, client_id, client_secret)
        await session.execute(
            update(OAuthToken)
            .where(
                OAuthToken.token_hash == secret_hash(token),
                OAuthToken.app_id == app.id,
                OAuthToken.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )


async def bearer(sessions: async_sessionmaker[AsyncSession], token: str) -> Bearer | None:
    """The live token a bearer names, with its app and account; None when unknown or revoked."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(OAuthToken, OAuthApp)
                .join(OAuthApp, OAuthApp.id == OAuthToken.app_id)
                .where(OAuthToken.token_hash == secret_hash(token), OAuthToken.revoked_at.is_(None))
            )
        ).first()
        if row is None:
            return None
        found, app = row
        account = await session.get(Account, found.account_id) if found.account_id else None
        if account is not None and (
            account.deleted_at is not None or await active_suspension(session, account.id)
        ):
            return None  # a deleted or suspended resident's apps are logged out at once
    if found.account_id and account is None:
        return None
    now = utcnow()
    if found.last_used_at is None or now - found.last_used_at > TOUCH_EVERY:
        async with sessions.begin() as session:
            await session.execute(
                update(OAuthToken).where(OAuthToken.id == found.id).values(last_used_at=now)
            )
    return Bearer(found, app, account)
