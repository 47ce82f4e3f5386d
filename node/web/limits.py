"""What the pages share about the abuse limits: the client address they count, and the
Retry-After of their refusals."""

from __future__ import annotations

from aiohttp import web

from node.web.keys import config_key


def client_address(request: web.Request) -> str:
    """The TCP peer, or, when the peer is one of limits.trusted_proxies, the last hop of
    X-Forwarded-For (the address that proxy saw; earlier hops are the client's own word)."""
    peer = request.remote or ""
    if not request.app[config_key].limits.is_trusted_proxy(peer):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    return hops[-1][:64] if hops[-1] else peer


def retry_after(response: web.StreamResponse, seconds: int) -> web.StreamResponse:
    """A limit's answer (a 429 page or form saying when to retry), with Retry-After."""
    response.headers["Retry-After"] = str(seconds)
    return response
