"""The headers every response carries so that a browser treats the node's pages safely: a
Content-Security-Policy without script nor inline style, no framing, no MIME sniffing, a
referrer kept on the site, HSTS on https nodes, and a `Server` header that names no version.

They are added when a response is prepared (aiohttp's `on_response_prepare` signal), so
that pages, redirects, error pages, static files and JSON documents all get them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from instance_config import InstanceConfig

SERVER = "Maillage"
#: One year, as Mastodon and the HSTS preload list ask.
HSTS = "max-age=31536000"
#: A source expression we build from outside data (a tile server, an app's redirect URI) must
#: be a plain origin or scheme: nothing that could end the directive or add a keyword.
_ORIGIN = re.compile(r"https?://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


@dataclass(frozen=True, slots=True)
class SecurityHeaders:
    """The node's fixed headers and the parts of its Content-Security-Policy."""

    fixed: dict[str, str]
    images: str

    def policy(self, form_targets: tuple[str, ...] = ()) -> str:
        """The Content-Security-Policy; `form_targets` are sources a form may also go to."""
        return "; ".join(
            (
                "default-src 'self'",
                "script-src 'none'",
                "style-src 'self'",
                f"img-src {self.images}",
                "object-src 'none'",
                "frame-ancestors 'none'",
                "base-uri 'none'",
                " ".join(("form-action 'self'", *form_targets)),
            )
        )


security_headers_key = web.AppKey("security_headers", SecurityHeaders)
form_targets_key: web.RequestKey[tuple[str, ...]] = web.RequestKey("form_targets")


def security_headers(config: InstanceConfig) -> SecurityHeaders:
    """The headers for a node: HSTS only on https, and the map's tile server (when one is
    configured) allowed as an image source, since the map's background tiles load from it."""
    fixed = {
        "Server": SERVER,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    if config.node.base_url.startswith("https://"):
        fixed["Strict-Transport-Security"] = HSTS
    tiles = config.map.tile_url
    tile_origin = origin_source(tiles.replace("{s}", "a")) if tiles else None
    return SecurityHeaders(fixed, " ".join(filter(None, ("'self'", tile_origin))))


def origin_source(url: str) -> str | None:
    """The CSP source expression of a URL's origin (`https://host:port`), or its scheme
    (`tusky:`) for an app's own scheme; None when it cannot be written safely."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        origin = f"{scheme}://{parts.netloc.lower()}"
        return origin if _ORIGIN.fullmatch(origin) else None
    return f"{scheme}:" if _SCHEME.fullmatch(scheme) else None


def allow_form_target(request: web.Request, url: str) -> None:
    """Let the page's forms lead to `url`'s origin: browsers apply form-action to the
    redirect that follows a form (the OAuth consent form redirects to the app)."""
    source = origin_source(url)
    if source is not None:
        request[form_targets_key] = (source,)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the fixed headers and the policy, on every response."""
    headers = request.app[security_headers_key]
    response.headers.update(headers.fixed)
    response.headers["Content-Security-Policy"] = headers.policy(request.get(form_targets_key, ()))
