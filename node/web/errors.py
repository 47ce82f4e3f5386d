"""One middleware turns every failure into a clear answer: an HTML page for people, JSON for
machines, never a traceback; unexpected errors are logged with context and become a plain 500."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from node.domain.texts import FilledText
from node.services.limits.posting import PostingLimited
from node.web.negotiation import json_body, wants_activitypub
from node.web.render import render

log = logging.getLogger(__name__)

_MACHINE_PREFIXES = ("/.well-known/", "/nodeinfo/", "/inbox", "/healthz")
_TITLES = {400: "Requête incorrecte", 404: "Page introuvable", 429: "Trop de demandes"}


def _for_machines(request: web.Request) -> bool:
    """Discovery and ActivityPub clients get JSON errors; browsers get pages."""
    # A browser's form post accepts text/html too: it gets a page, like its GETs.
    return (
        request.path.startswith(_MACHINE_PREFIXES)
        or wants_activitypub(request)
        or "text/html" not in request.headers.get("Accept", "")
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render HTTP errors for their audience and contain unexpected exceptions."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error_response(request, exc.status, exc.text or exc.reason, exc.headers)
    except PostingLimited as exc:  # a form without a place for it: the error page says when
        return _error_response(request, 429, exc.message, {"Retry-After": str(exc.retry_after)})
    except Exception:
        log.exception("unhandled error", extra={"method": request.method, "path": request.path})
        return _error_response(
            request, 500, "internal error; the node administrator can read the logs", {}
        )


def _error_response(
    request: web.Request, status: int, reason: str, headers: object
) -> web.StreamResponse:
    if not isinstance(reason, FilledText):  # str methods would lose its template
        reason = reason.removeprefix(f"{status}: ")
    if _for_machines(request):
        response = web.Response(
            status=status, body=json_body({"error": reason}), content_type="application/json"
        )
    else:
        title = _TITLES.get(status, "Erreur")
        response = render(request, "error.html", {"title": title, "reason": reason}, status=status)
    for name, value in dict(headers).items():  # type: ignore[call-overload]
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response
