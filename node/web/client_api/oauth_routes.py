"""OAuth 2 endpoints as Mastodon offers them: app registration, the authorization page (the
node's own login, then consent), the token endpoint, revocation and RFC 8414 metadata."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import web

from node.domain.scopes import GRANULAR, TOP_LEVEL, parse_scopes
from node.services.client_api.apps import OOB, app_redirect_uris, register_app
from node.services.client_api.errors import ApiError
from node.services.client_api.oauth import (
    IssuedToken,
    app_for_authorization,
    client_credentials,
    exchange_code,
    issue_code,
    password_grant,
    revoke_token,
)
from node.web.auth import current_account
from node.web.client_api.base import ApiRoutes, api_error, api_json, token_of
from node.web.client_api.params import read_params
from node.web.keys import config_key, runtime_key, sessions_key
from node.web.limits import client_address
from node.web.render import render
from node.web.security_headers import allow_form_target

routes = ApiRoutes()


def app_entity(app: object, secret: str | None = None) -> dict[str, object]:
    """Mastodon's Application (CredentialApplication when the secret is given)."""
    uris = app_redirect_uris(app)  # type: ignore[arg-type]
    entity: dict[str, object] = {
        "id": app.id,  # type: ignore[attr-defined]
        "name": app.name,  # type: ignore[attr-defined]
        "website": app.website,  # type: ignore[attr-defined]
        "scopes": parse_scopes(app.scopes),  # type: ignore[attr-defined]
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": "",
    }
    if secret is not None:
        entity |= {
            "client_id": app.client_id,  # type: ignore[attr-defined]
            "client_secret": secret,
            "client_secret_expires_at": 0,
        }
    return entity


@routes.both("POST", "/api/v1/apps")
async def create_app(request: web.Request) -> web.StreamResponse:
    """Register a client application."""
    params = await read_params(request)
    redirect = params.many("redirect_uris") or [params.text("redirect_uris", "") or ""]
    registered = await register_app(
        request.app[sessions_key],
        params.text("client_name", "") or "",
        redirect if len(redirect) > 1 else redirect[0],
        params.text("scopes", "read") or "read",
        params.text("website"),
    )
    return api_json(app_entity(registered.app, registered.client_secret))


@routes.both("GET", "/api/v1/apps/verify_credentials")
async def verify_app(request: web.Request) -> web.StreamResponse:
    """The app a token belongs to."""
    return api_json(app_entity(token_of(request).app))


@routes.get("/.well-known/oauth-authorization-server")
async def metadata(request: web.Request) -> web.StreamResponse:
    """RFC 8414 authorization server metadata, with Mastodon's app registration endpoint."""
    base = request.app[config_key].node.base_url
    return api_json(
        {
            "issuer": base + "/",
            "service_documentation": "https://docs.joinmastodon.org/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "scopes_supported": [*TOP_LEVEL, *sorted(GRANULAR)],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "password", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
    )


def _client_auth(
    request: web.Request, client_id: str | None, secret: str | None
) -> tuple[str, str | None]:
    """client_secret_post or client_secret_basic (RFC 6749 2.3.1)."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "Client authentication failed", code="invalid_client") from None
        client_id, _, secret = decoded.partition(":")
    if not client_id:
        raise ApiError(401, "Client authentication failed: no client_id", code="invalid_client")
    return client_id, secret


def _token_entity(issued: IssuedToken) -> dict[str, object]:
    return {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.scopes,
        "created_at": int(issued.created_at.timestamp()),
    }


@routes.both("POST", "/oauth/token")
async def token(request: web.Request) -> web.StreamResponse:
    """Issue a token: authorization code (PKCE), password, or client credentials."""
    params = await read_params(request)
    sessions = request.app[sessions_key]
    client_id, secret = _client_auth(
        request, params.text("client_id"), params.text("client_secret")
    )
    grant = params.text("grant_type", "") or ""
    scope = params.text("scope", "") or params.text("scopes", "") or ""
    try:
        if grant == "authorization_code":
            issued = await exchange_code(
                sessions,
                client_id,
                secret,
                params.required("code"),
                params.text("redirect_uri", OOB) or OOB,
                params.text("code_verifier"),
            )
        elif grant == "password":
            issued = await password_grant(
                sessions,
                client_id,
                secret,
                params.required("username"),
                params.required("password"),
                scope,
                limiter=request.app[runtime_key].login_limits,
                address=client_address(request),
            )
        elif grant == "client_credentials":
            issued = await client_credentials(sessions, client_id, secret, scope)
        else:
            raise ApiError(
                400, "The authorization grant type is not supported", code="unsupported_grant_type"
            )
    except ApiError as error:
        if error.code is None and error.status != 429:  # a missing parameter: OAuth's shape
            error = ApiError(400, error.message, code="invalid_request")
        return api_error(error)
    return api_json(_token_entity(issued))


@routes.both("POST", "/oauth/revoke")
async def revoke(request: web.Request) -> web.StreamResponse:
    """Revoke a token (RFC 7009)."""
    params = await read_params(request)
    client_id, secret = _client_auth(
        request, params.text("client_id"), params.text("client_secret")
    )
    await revoke_token(request.app[sessions_key], client_id, secret, params.required("token"))
    return api_json({})


_AUTH_FIELDS = (
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _redirect_with(uri: str, values: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(filter(None, [parts.query, urlencode(values)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


async def _authorization(request: web.Request, fields: dict[str, str]) -> tuple[object, str]:
    if fields.get("response_type", "code") != "code":
        raise ApiError(
            400, "Only response_type=code is supported", code="unsupported_response_type"
        )
    return await app_for_authorization(
        request.app[sessions_key],
        fields.get("client_id", ""),
        fields.get("redirect_uri", OOB) or OOB,
        fields.get("scope", ""),
    )


@routes.get("/oauth/authorize")
async def authorize_page(request: web.Request) -> web.StreamResponse:
    """Log in on the node's own page, then say which app asks for what."""
    fields = {key: request.query.get(key, "") for key in (*_AUTH_FIELDS, "response_type")}
    try:
        app, scopes = await _authorization(request, fields)
    except ApiError as error:
        return render(
            request,
            "error.html",
            {"title": "Autorisation impossible", "reason": error.message},
            status=400,
        )
    current = current_account(request)
    if current is None or request.query.get("force_login") in ("true", "1"):
        raise web.HTTPFound(f"/login?{urlencode({'next': request.path_qs})}")
    fields["scope"] = scopes
    redirect_uri = fields["redirect_uri"] or OOB
    if redirect_uri != OOB:  # the answer redirects there: allowed by the page's form-action
        allow_form_target(request, redirect_uri)
    return render(
        request,
        "oauth/authorize.html",
        {
            "app": app,
            "scopes": parse_scopes(scopes),
            "fields": fields,
            "who": current.account.username,
        },
    )


@routes.post("/oauth/authorize")
async def authorize_answer(request: web.Request) -> web.StreamResponse:
    """The resident's answer: a code to the app's redirect URI (or shown, out of band)."""
    form = await request.post()
    fields = {key: str(form.get(key, "")) for key in _AUTH_FIELDS}
    current = current_account(request)
    if current is None:
        raise web.HTTPFound("/login")
    try:
        app, scopes = await _authorization(request, fields)
    except ApiError as error:
        return render(
            request,
            "error.html",
            {"title": "Autorisation impossible", "reason": error.message},
            status=400,
        )
    redirect_uri = fields["redirect_uri"] or OOB
    state = {"state": fields["state"]} if fields["state"] else {}
    if form.get("decision") != "allow":
        if redirect_uri == OOB:
            raise web.HTTPFound("/")
        raise web.HTTPFound(_redirect_with(redirect_uri, {"error": "access_denied", **state}))
    code = await issue_code(
        request.app[sessions_key],
        app,
        current.account,
        redirect_uri,
        scopes,  # type: ignore[arg-type]
        fields["code_challenge"] or None,
        fields["code_challenge_method"] or None,
    )
    if redirect_uri == OOB:
        return render(request, "oauth/code.html", {"code": code, "app": app})
    raise web.HTTPFound(_redirect_with(redirect_uri, {"code": code, **state}))
