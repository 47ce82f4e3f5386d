"""What the pages share about the abuse limits: the client address they count, and the page
that says when to retry."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.web.keys import config_key
from node.web.render import render


def client_address(request: web.Request) -> str:
    """The TCP peer, or, when the peer is one of limits.trusted_proxies, the last hop of
    X-Forwarded-For (the address that proxy saw; earlier hops are the client's own word)."""
    peer = request.remote or ""
    if not request.app[config_key].limits.is_trusted_proxy(peer):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    return hops[-1][:64] if hops[-1] else peer


def retry_later_page(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    message: str,
    retry_after: int,
) -> web.Response:
    """The form's page again with `message` (when to retry) as its error: 429, and
    Retry-After for machines."""
    response = render(request, template, {**context, "error": message}, status=429)
    response.headers["Retry-After"] = str(retry_after)
    return response
