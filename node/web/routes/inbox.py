"""Inboxes: the shared one and each local actor's. Authenticate, store, answer 202."""

from __future__ import annotations

import logging

from aiohttp import web

from federation.inbox.receive import (
    MAX_ACTIVITY_BYTES,
    InboxBusy,
    InboxDropped,
    InboxRefused,
    InboxRequest,
    InboxSkipped,
    InboxUnavailable,
    RateLimited,
    receive,
)
from node.domain.actors import ActorKind
from node.services.instance.directory import find_local_actor
from node.storage.base import utcnow
from node.web.keys import config_key, inbox_store_key, inbox_worker_key, runtime_key, sessions_key
from node.web.negotiation import json_body

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


@routes.post("/inbox")
@routes.post("/actor/inbox")
@routes.post("/actors/{name}/inbox")
async def inbox_post(request: web.Request) -> web.StreamResponse:
    """Receive an activity: 202 once it is authenticated and stored, 4xx with a reason else."""
    name = request.match_info.get("name")
    if name is not None:
        actor = await find_local_actor(request.app[sessions_key], name)
        if actor is None or actor.kind == ActorKind.INSTANCE:
            raise web.HTTPNotFound(text="no such inbox on this node")
        if actor.deleted_at is not None:
            raise web.HTTPGone(text="this actor was deleted")
    if request.content_length is not None and request.content_length > MAX_ACTIVITY_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_ACTIVITY_BYTES, request.content_length)
    config = request.app[config_key]
    inbox_request = InboxRequest(
        method=request.method,
        # The URL as the sender signed it: our public address, whatever proxy is in front.
        url=config.node.base_url + request.path_qs,
        headers=dict(request.headers),
        body=await request.read(),
    )
    runtime = request.app[runtime_key]
    try:
        receipt = await receive(
            inbox_request,
            policy=config.federation,
            keys=runtime.remote,
            store=request.app[inbox_store_key],
            now=utcnow(),
            domains=runtime.moderation,
            limits=runtime.inbox_limits,
        )
    except InboxDropped as dropped:
        log.info("inbox dropped", extra={"reason": dropped.reason})
        return web.Response(
            status=202, body=json_body({"dropped": dropped.reason}), content_type="application/json"
        )
    except InboxSkipped as skipped:
        return web.Response(
            status=202, body=json_body({"ignored": skipped.reason}), content_type="application/json"
        )
    except RateLimited as limited:
        runtime.refusals.note(f"inbox_{limited.scope}", limited.key)
        return web.Response(
            status=429,
            body=json_body({"error": limited.reason}),
            content_type="application/json",
            headers={"Retry-After": str(limited.retry_after)},
        )
    except (InboxBusy, InboxUnavailable) as busy:  # not logged one by one: they come in bursts
        return web.Response(
            status=503,
            body=json_body({"error": busy.reason}),
            content_type="application/json",
            headers={"Retry-After": str(busy.retry_after)},
        )
    except InboxRefused as refused:
        log.info(
            "inbox refused",
            extra={
                "status": refused.status,
                "reason": refused.reason,
                "agent": request.headers.get("User-Agent", ""),
            },
        )
        return web.Response(
            status=refused.status,
            body=json_body({"error": refused.reason}),
            content_type="application/json",
        )
    if receipt.new:
        request.app[inbox_worker_key].wakeup.set()
    return web.Response(
        status=202,
        body=json_body({"accepted": receipt.activity.activity_id}),
        content_type="application/json",
    )
