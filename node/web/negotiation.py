"""Content negotiation and the exact media types fediverse servers require."""

import json
from typing import Any

from aiohttp import web

#: What Mastodon accepts for ActivityPub documents (json_ld_helper#valid_activitypub_content_type?).
ACTIVITY_JSON = "application/activity+json"
JRD_JSON = "application/jrd+json"
_AP_MEDIA_TYPES = ("application/activity+json", "application/ld+json", "application/json")


def wants_activitypub(request: web.Request) -> bool:
    """True when the Accept header names an ActivityPub (or plain JSON) media type before HTML.

    Browsers send text/html first; Mastodon and Fedify send application/activity+json or
    application/ld+json; profile="https://www.w3.org/ns/activitystreams".
    """
    best_ap, best_html = 0.0, 0.0
    for part in request.headers.get("Accept", "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if media in _AP_MEDIA_TYPES:
            best_ap = max(best_ap, quality)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, quality)
    return best_ap > 0 and best_ap >= best_html


def json_body(document: Any) -> bytes:
    """Compact UTF-8 JSON, the bytes sent on the wire."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def activity_response(document: Any, status: int = 200) -> web.Response:
    """An ActivityPub document with exactly the Content-Type Mastodon expects."""
    return web.Response(
        body=json_body(document),
        status=status,
        headers={"Content-Type": ACTIVITY_JSON, "Vary": "Accept"},
    )


CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}


def cors(response: web.StreamResponse) -> web.StreamResponse:
    """Allow browsers on other origins to read a discovery document (WebFinger, NodeInfo)."""
    response.headers.update(CORS_HEADERS)
    return response
