"""Discovery: WebFinger (RFC 7033), host-meta (RFC 6415) and NodeInfo 2.0/2.1."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from aiohttp import web

from instance_config import InstanceConfig
from node import __version__
from node.convert.urls import actor_id, actor_page_url, handle_of, icon_url
from node.services.instance.directory import find_local_actor, node_usage
from node.storage.models import LocalActor
from node.web.keys import config_key, sessions_key
from node.web.negotiation import CORS_HEADERS, JRD_JSON, cors, json_body
from node.web.read_cache import DOCUMENT_CACHE_CONTROL, DOCUMENT_MAX_AGE, cached

routes = web.RouteTableDef()

NODEINFO_PROFILE = "http://nodeinfo.diaspora.software/ns/schema/{version}"
MAX_RESOURCE_LENGTH = 2048


class MalformedResource(ValueError):
    """A WebFinger `resource` that is not a usable URI."""


@routes.get("/.well-known/webfinger")
async def webfinger_get(request: web.Request) -> web.StreamResponse:
    """Resolve acct:handle@domain or an actor URL to the actor's JRD (kept until the
    database changes, with an ETag); 404 for anything else."""
    config = request.app[config_key]
    try:
        username = _username_from_resource(request.query.get("resource", ""), config)
    except MalformedResource as exc:
        raise web.HTTPBadRequest(text=str(exc), headers=CORS_HEADERS) from None
    if not username:
        raise web.HTTPNotFound(text="no such account on this node", headers=CORS_HEADERS)
    return await cached(
        request,
        ("webfinger", username),
        lambda: _webfinger_answer(request, username),
        max_age=DOCUMENT_MAX_AGE,
        cache_control=DOCUMENT_CACHE_CONTROL,
    )


async def _webfinger_answer(request: web.Request, username: str) -> web.StreamResponse:
    actor = await find_local_actor(request.app[sessions_key], username)
    if actor is None:
        raise web.HTTPNotFound(text="no such account on this node", headers=CORS_HEADERS)
    if actor.deleted_at is not None:  # Mastodon reads 410 as Webfinger::GoneError
        raise web.HTTPGone(text="this account was deleted", headers=CORS_HEADERS)
    return cors(
        web.Response(
            body=json_body(_jrd(request, actor)),
            headers={"Content-Type": f"{JRD_JSON}; charset=utf-8"},
        )
    )


def _username_from_resource(resource: str, config: InstanceConfig) -> str | None:
    """The local username a resource names, None when it names nothing here.

    Accepts acct:user@domain, user@domain and @user@domain (Mastodon accepts all three), and
    http(s) URLs of actors; other schemes are simply unknown here.
    """
    node = config.node
    resource = resource.strip()
    if not resource:
        raise MalformedResource(
            "the resource parameter is required, e.g. acct:territoire@" + node.domain
        )
    if len(resource) > MAX_RESOURCE_LENGTH or any(c.isspace() or ord(c) < 32 for c in resource):
        raise MalformedResource("the resource parameter is not a valid URI")
    scheme = resource.split(":", 1)[0].lower() if ":" in resource else ""
    if scheme in ("http", "https"):
        return _username_from_url(resource, config)
    if scheme == "acct" or not scheme or "@" in resource.split(":", 1)[0]:
        account = resource[5:] if scheme == "acct" else resource
        account = unquote(account).lstrip("@")
        user, at, domain = account.rpartition("@")
        if not at or not user or not domain:
            raise MalformedResource("an acct: resource must look like acct:name@domain")
        return user if domain.lower() == node.domain else None
    return None


def _username_from_url(url: str, config: InstanceConfig) -> str | None:
    """The username in one of our actor URLs (/actors/NAME, /@NAME, /actor, / for the
    territory, whose page is the home page), or None."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc.lower()}" != config.node.base_url:
        return None
    path = parts.path.rstrip("/")
    if not path:
        return config.territory.handle
    for prefix in ("/actors/", "/@"):
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            return path[len(prefix) :] or None
    if path == "/actor":
        return config.node.host
    return None


def _jrd(request: web.Request, actor: LocalActor) -> dict[str, object]:
    """The JRD Mastodon validates: subject, aliases, a self link with the AP media type."""
    config = request.app[config_key]
    actor_url = actor_id(config, actor)
    page = actor_page_url(config, actor)
    return {
        "subject": f"acct:{handle_of(config, actor)}",
        "aliases": list(dict.fromkeys([actor_url, page])),
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": actor_url},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": page},
            {
                "rel": "http://webfinger.net/rel/avatar",
                "type": "image/png",
                "href": icon_url(config, actor),
            },
        ],
    }


@routes.get("/.well-known/host-meta")
async def host_meta_get(request: web.Request) -> web.StreamResponse:
    """XRD pointing at WebFinger; Mastodon falls back to it when WebFinger answers 404."""
    base = request.app[config_key].node.base_url
    xrd = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{base}/.well-known/webfinger?resource={{uri}}"/>\n'
        "</XRD>\n"
    )
    return cors(web.Response(text=xrd, content_type="application/xrd+xml"))


@routes.get("/.well-known/nodeinfo")
async def nodeinfo_links_get(request: web.Request) -> web.StreamResponse:
    """NodeInfo discovery, plus the instance actor as FEP-2677 asks."""
    base = request.app[config_key].node.base_url
    links = [
        {"rel": NODEINFO_PROFILE.format(version=version), "href": f"{base}/nodeinfo/{version}"}
        for version in ("2.0", "2.1")
    ]
    links.append(
        {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": f"{base}/actor"}
    )
    return cors(web.json_response({"links": links}))


@routes.get(r"/nodeinfo/{version:2\.[01]}")
async def nodeinfo_get(request: web.Request) -> web.StreamResponse:
    """The NodeInfo document, with the territory's name, role and languages in metadata."""
    config = request.app[config_key]
    version = request.match_info["version"]
    usage = await node_usage(request.app[sessions_key])
    software: dict[str, str] = {"name": "maillage", "version": __version__}
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {
            "users": {
                "total": usage.users,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {
            "nodeName": config.territory.name,
            "nodeDescription": config.territory.description,
            "territory": {
                "name": config.territory.name,
                "handle": f"{config.territory.handle}@{config.node.domain}",
                "role": config.node.role.value,
                "languages": list(config.territory.languages),
                "level": config.territory.level.value,
            },
        },
    }
    profile = NODEINFO_PROFILE.format(version=version) + "#"
    return cors(
        web.Response(
            body=json_body(document),
            headers={"Content-Type": f'application/json; profile="{profile}"'},
        )
    )
