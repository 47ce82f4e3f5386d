"""What every client API endpoint shares: Mastodon's error shape, CORS for web clients, the
bearer token and its scopes, JSON answers, `Link` pagination, and trailing slashes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler

from node.domain.scopes import allows
from node.services.client_api.errors import ApiError
from node.services.client_api.oauth import Bearer, bearer
from node.storage.models import Account
from node.web.client_api.rate_limits import ApiRateLimits
from node.web.keys import config_key, sessions_key
from node.web.limits import client_address
from node.web.negotiation import json_body

API_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/oauth/userinfo")
bearer_key = web.RequestKey("bearer", Bearer)
api_limits_key = web.AppKey("api_limits", ApiRateLimits)
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
    "Access-Control-Expose-Headers": (
        "Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
    ),
    "Access-Control-Max-Age": "86400",
}


def is_api(request: web.Request) -> bool:
    """Whether a request is for the client API (bearer tokens, JSON, CORS; no cookies)."""
    return (
        request.path.startswith(API_PREFIXES)
        or request.path == "/.well-known/oauth-authorization-server"
    )


def api_json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer."""
    return web.Response(
        status=status, body=json_body(value), content_type="application/json", headers=headers
    )


def api_error(error: ApiError) -> web.Response:
    """Mastodon's error body: {"error": ...}; OAuth errors add their code (RFC 6749 5.2)."""
    if error.code:
        body = {"error": error.code, "error_description": error.message}
    else:
        body = {"error": error.message}
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if error.status == 401 else {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return api_json(body, error.status, headers)


@web.middleware
async def client_api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CORS, preflights, bearer tokens and Mastodon's errors on the client API's paths."""
    if not is_api(request):
        return await handler(request)
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=_CORS)
    try:
        header = request.headers.get("Authorization", "")
        sent = header[7:].strip() if header[:7].lower() == "bearer " else None
        found = await bearer(request.app[sessions_key], sent) if sent else None
        # per token, or per address for requests without a valid one (guessing included)
        caller = f"token:{found.token.id}" if found else f"address:{client_address(request)}"
        allowance = request.app[api_limits_key].charge(caller)
        if not allowance.allowed:
            response = api_json({"error": "Too many requests"}, 429, allowance.headers())
            response.headers["Retry-After"] = str(max(1, int(allowance.resets_at - time.time())))
        else:
            if sent and found is None:
                raise ApiError(401, "The access token is invalid")
            if found is not None:
                request[bearer_key] = found
            response = await handler(request)
            response.headers.update(allowance.headers())
    except ApiError as error:
        response = api_error(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = api_json(
            {"error": exc.reason if exc.status == 404 else exc.text or exc.reason}, exc.status
        )
    response.headers.update(_CORS)
    return response


def token_of(request: web.Request, scope: str | None = None) -> Bearer:
    """The request's token, which must grant `scope` (401 without a token, 403 without it)."""
    found = request.get(bearer_key)
    if found is None:
        raise ApiError(401, "The access token is invalid")
    if scope and not allows(found.scopes, scope):
        raise ApiError(403, "This action is outside the authorized scopes")
    return found


def user_of(request: web.Request, scope: str) -> Account:
    """The resident a user token speaks for (422 for an app token, as Mastodon answers)."""
    found = token_of(request, scope)
    if found.account is None:
        raise ApiError(422, "This method requires an authenticated user")
    return found.account


def viewer_of(request: web.Request) -> Account | None:
    """The resident reading, if a user token came with the request (public reads allow none)."""
    found = request.get(bearer_key)
    return found.account if found is not None else None


def page_links(request: web.Request, newest: str | None, oldest: str | None) -> dict[str, str]:
    """Mastodon's `Link` header: next = older (max_id), prev = newer (min_id)."""
    if newest is None or oldest is None:
        return {}
    base = request.app[config_key].node.base_url + request.path
    kept = [(k, v) for k, v in request.query.items() if k not in ("max_id", "min_id", "since_id")]
    older = f"{base}?{urlencode([*kept, ('max_id', oldest)])}"
    newer = f"{base}?{urlencode([*kept, ('min_id', newest)])}"
    return {"Link": f'<{older}>; rel="next", <{newer}>; rel="prev"'}


Endpoint = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiRoutes(web.RouteTableDef):
    """A route table whose paths also answer with a trailing slash (clients add one)."""

    def both(self, method: str, path: str) -> Callable[[Endpoint], Endpoint]:
        """Register the handler for `path` and `path/`."""

        def register(handler: Endpoint) -> Endpoint:
            self.route(method, path)(handler)
            self.route(method, path + "/")(handler)
            return handler

        return register
