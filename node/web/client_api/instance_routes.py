"""The instance entities clients read first (v2, then v1), and the small endpoints every
client calls at start-up: preferences, custom emojis, filters, lists, announcements, markers."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from node import __version__
from node.convert.mastodon import (
    InstanceFacts,
    account_entity,
    instance_v1,
    instance_v2,
    version_string,
)
from node.services.client_api.instance import instance_counts
from node.services.client_api.markers import read_markers, save_marker
from node.storage.base import utcnow
from node.web.client_api.base import ApiRoutes, api_json, user_of
from node.web.client_api.params import read_params
from node.web.keys import config_key, runtime_key

routes = ApiRoutes()


async def _facts(request: web.Request) -> InstanceFacts:
    config = request.app[config_key]
    runtime = request.app[runtime_key]
    counts = await instance_counts(runtime, utcnow() - timedelta(days=30))
    return InstanceFacts(
        version=version_string(config, __version__),
        title=config.territory.name,
        description_html=config.territory.description,
        thumbnail=f"{config.node.base_url}/static/territory.png",
        language=config.territory.default_language,
        users=counts.users,
        active_month=counts.active,
        statuses=counts.statuses,
        domains=counts.domains,
        contact=account_entity(counts.territory) if counts.territory else None,
    )


@routes.both("GET", "/api/v2/instance")
async def instance_2(request: web.Request) -> web.StreamResponse:
    """GET /api/v2/instance."""
    return api_json(instance_v2(request.app[config_key], await _facts(request)))


@routes.both("GET", "/api/v1/instance")
async def instance_1(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/instance."""
    return api_json(instance_v1(request.app[config_key], await _facts(request)))


@routes.both("GET", "/api/v1/preferences")
async def preferences(request: web.Request) -> web.StreamResponse:
    """The resident's posting and reading preferences (the node's defaults)."""
    user_of(request, "read:accounts")
    return api_json(
        {
            "posting:default:visibility": "public",
            "posting:default:sensitive": False,
            "posting:default:language": request.app[config_key].territory.default_language,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
        }
    )


async def _empty(request: web.Request) -> web.StreamResponse:
    return api_json([])


for _path in (
    "/api/v1/custom_emojis",
    "/api/v1/filters",
    "/api/v2/filters",
    "/api/v1/lists",
    "/api/v1/announcements",
    "/api/v1/trends/tags",
    "/api/v1/trends/statuses",
    "/api/v1/followed_tags",
    "/api/v1/blocks",
    "/api/v1/mutes",
    "/api/v1/bookmarks",
    "/api/v1/follow_requests",
    "/api/v1/instance/rules",
    "/api/v1/instance/peers",
):
    routes.both("GET", _path)(_empty)


@routes.both("GET", "/api/v1/markers")
async def markers(request: web.Request) -> web.StreamResponse:
    """Where the resident stopped reading (home, notifications)."""
    account = user_of(request, "read:statuses")
    params = await read_params(request)
    wanted = params.many("timeline") or ["home", "notifications"]
    return api_json(await read_markers(request.app[runtime_key], account, wanted))


@routes.both("POST", "/api/v1/markers")
async def set_markers(request: web.Request) -> web.StreamResponse:
    """Remember where the resident stopped reading."""
    account = user_of(request, "write:statuses")
    params = await read_params(request)
    for timeline in ("home", "notifications"):
        last = params.text(f"{timeline}[last_read_id]")
        if last:
            await save_marker(request.app[runtime_key], account, timeline, last)
    return api_json(
        await read_markers(request.app[runtime_key], account, ["home", "notifications"])
    )
