"""Client applications: registration (POST /api/v1/apps), and the apps a resident authorised,
which their account page lists and revokes."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.domain.scopes import DEFAULT_SCOPES, parse_scopes, unknown_scopes
from node.services.client_api.errors import ApiError, unprocessable
from node.storage.base import utcnow
from node.storage.models import Account, OAuthApp, OAuthToken

#: The out-of-band redirect: the code is shown to the person, who pastes it in the app.
OOB = "urn:ietf:wg:oauth:2.0:oob"
MAX_NAME = 200
MAX_URI = 2048
MAX_REDIRECT_URIS = 10
#: Schemes that would run code in the browser: never a redirect target.
FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob"})


def secret_hash(secret: str) -> str:
    """What is stored of a client secret, token or code: its sha256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def redirect_uri_problem(uri: str) -> str | None:
    """Why a redirect URI is refused, or None: absolute, no script scheme, no fragment.

    Custom schemes (Ivory's `com.tapbots.Ivory.10217:/request_token`) are allowed.

    >>> redirect_uri_problem("com.tapbots.Ivory.10217:/request_token") is None
    True
    >>> redirect_uri_problem("javascript:alert(1)")
    'javascript: URIs are not allowed'
    """
    if uri == OOB:
        return None
    if len(uri) > MAX_URI:
        return "redirect URI too long"
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme:
        return "redirect URI must be absolute"
    if scheme in FORBIDDEN_SCHEMES:
        return f"{scheme}: URIs are not allowed"
    if scheme in ("http", "https") and not parts.netloc:
        return "redirect URI has no host"
    if parts.fragment:
        return "redirect URI must not have a fragment"
    if any(ch.isspace() for ch in uri):
        return "redirect URI contains spaces"
    return None


def split_redirect_uris(value: str | list[str]) -> list[str]:
    """Redirect URIs given as one string (space or newline separated) or as a list."""
    items = value if isinstance(value, list) else [value]
    return list(dict.fromkeys(part for item in items for part in str(item).split() if part))


@dataclass(frozen=True, slots=True)
class RegisteredApp:
    """An app just registered, with its secret (shown this once)."""

    app: OAuthApp
    client_secret: str


async def register_app(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    redirect_uris: str | list[str],
    scopes: str,
    website: str | None,
) -> RegisteredApp:
    """Register a client application; returns it with its new client id and secret."""
    name = name.strip()
    if not name:
        raise unprocessable("Name can't be blank")
    if len(name) > MAX_NAME:
        raise unprocessable(f"Name is too long (maximum is {MAX_NAME} characters)")
    uris = split_redirect_uris(redirect_uris)
    if not uris:
        raise unprocessable("Redirect URI can't be blank")
    if len(uris) > MAX_REDIRECT_URIS:
        raise unprocessable(f"at most {MAX_REDIRECT_URIS} redirect URIs")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise unprocessable(f"Redirect URI {problem}")
    wanted = parse_scopes(scopes) or list(DEFAULT_SCOPES)
    unknown = unknown_scopes(wanted)
    if unknown:
        raise ApiError(400, f"unknown scope: {' '.join(unknown)}", code="invalid_scope")
    website = (website or "").strip() or None
    if website is not None and (
        len(website) > MAX_URI or urlsplit(website).scheme not in ("http", "https")
    ):
        raise unprocessable("Website must be an http(s) URL")
    secret = secrets.token_urlsafe(32)
    app = OAuthApp(
        client_id=secrets.token_urlsafe(32),
        client_secret_hash=secret_hash(secret),
        name=name,
        website=website,
        redirect_uris=json.dumps(uris),
        scopes=" ".join(wanted),
    )
    async with sessions.begin() as session:
        session.add(app)
    return RegisteredApp(app, secret)


def app_redirect_uris(app: OAuthApp) -> list[str]:
    """The redirect URIs an app registered."""
    return list(json.loads(app.redirect_uris))


async def authenticated_app(
    session: AsyncSession, client_id: str, client_secret: str | None
) -> OAuthApp:
    """The app a client id names, its secret checked when one is required (401 otherwise)."""
    app = (await session.scalars(select(OAuthApp).where(OAuthApp.client_id == client_id))).first()
    if app is None:
        raise ApiError(401, "Client authentication failed: unknown client", code="invalid_client")
    if client_secret is None or not secrets.compare_digest(
        app.client_secret_hash, secret_hash(client_secret)
    ):
        raise ApiError(401, "Client authentication failed", code="invalid_client")
    return app


@dataclass(frozen=True, slots=True)
class AuthorisedApp:
    """An app holding live tokens of the account, as its account page lists it."""

    app_id: str
    name: str
    website: str | None
    scopes: str
    since: datetime
    last_used: datetime | None


async def authorised_apps(
    sessions: async_sessionmaker[AsyncSession], account: Account
) -> list[AuthorisedApp]:
    """The apps with live tokens of the account, most recently authorised first."""
    async with sessions() as session:
        rows = await session.execute(
            select(
                OAuthApp.id,
                OAuthApp.name,
                OAuthApp.website,
                func.min(OAuthToken.scopes),
                func.min(OAuthToken.created_at),
                func.max(OAuthToken.last_used_at),
            )
            .join(OAuthToken, OAuthToken.app_id == OAuthApp.id)
            .where(OAuthToken.account_id == account.id, OAuthToken.revoked_at.is_(None))
            .group_by(OAuthApp.id, OAuthApp.name, OAuthApp.website)
            .order_by(func.min(OAuthToken.created_at).desc())
        )
        return [AuthorisedApp(*row) for row in rows]


async def revoke_app(
    sessions: async_sessionmaker[AsyncSession], account: Account, app_id: str
) -> int:
    """Revoke every token the account gave an app; returns how many were live."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(OAuthToken)
            .where(
                OAuthToken.app_id == app_id,
                OAuthToken.account_id == account.id,
                OAuthToken.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
    return int(result.rowcount)  # type: ignore[attr-defined]
