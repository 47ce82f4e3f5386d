"""Search as apps use it: accounts by name or handle among those the node knows, and with
`resolve` a handle or URL fetched through the node's signed, guarded client (a remote actor,
or a post, which is then kept)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from federation.http import FetchError
from node.convert.mastodon import account_entity
from node.convert.notes import note_from_as
from node.domain.actors import ActorKind
from node.services.client_api.accounts import local_facts, remote_facts, resolve_remote
from node.services.client_api.errors import ApiError
from node.services.client_api.statuses import render, status_by_uri
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Account, LocalActor, Note, RemoteActor
from protocols.activitystreams import ACTOR_TYPES, type_of
from protocols.links import is_web_url

POST_TYPES = frozenset({"Note", "Question", "Article", "Page"})


def _looks_like_handle(query: str) -> bool:
    name, _, domain = query.lstrip("@").partition("@")
    return bool(name) and bool(domain) and " " not in query


async def _resolve_url(runtime: Runtime, url: str) -> tuple[RemoteActor | None, str | None]:
    """A remote actor, or the id of a post now kept, that a URL names."""
    try:
        document = await runtime.client.fetch_document(url, await runtime.signers.instance_signer())
    except FetchError as exc:
        raise ApiError(404, f"cannot fetch {url}: {exc}") from None
    kind = type_of(document)
    if kind in ACTOR_TYPES:
        return await resolve_remote(runtime, document["id"]), None
    if kind in POST_TYPES:
        async with runtime.sessions.begin() as session:
            known = await session.scalar(select(Note.id).where(Note.uri == document["id"]))
            if known is None:
                session.add(note_from_as(document, utcnow()))
        return None, document["id"]
    return None, None


async def search(
    runtime: Runtime,
    query: str,
    viewer: Account | None,
    *,
    kinds: set[str],
    resolve: bool,
    limit: int,
) -> dict[str, list[dict[str, Any]]]:
    """Mastodon's Search result: accounts, statuses and (never any) hashtags."""
    query = query.strip()[:500]
    found: dict[str, list[dict[str, Any]]] = {"accounts": [], "statuses": [], "hashtags": []}
    resolved_actor: RemoteActor | None = None
    resolved_post: str | None = None
    if resolve and is_web_url(query):
        resolved_actor, resolved_post = await _resolve_url(runtime, query)
    elif resolve and "accounts" in kinds and _looks_like_handle(query):
        resolved_actor = await resolve_remote(runtime, query)
    async with runtime.sessions() as session:
        if "accounts" in kinds:
            if resolved_actor is not None:
                found["accounts"].append(
                    account_entity(await remote_facts(runtime, session, resolved_actor))
                )
            else:
                pattern = f"%{query.lstrip('@').split('@')[0].lower()}%"
                for local in await session.scalars(
                    select(LocalActor)
                    .where(
                        LocalActor.kind != ActorKind.INSTANCE,
                        or_(
                            func.lower(LocalActor.username).like(pattern),
                            func.lower(LocalActor.display_name).like(pattern),
                        ),
                    )
                    .limit(limit)
                ):
                    found["accounts"].append(
                        account_entity(await local_facts(runtime, session, local))
                    )
                for remote in await session.scalars(
                    select(RemoteActor)
                    .where(
                        or_(
                            func.lower(RemoteActor.username).like(pattern),
                            func.lower(RemoteActor.name).like(pattern),
                        )
                    )
                    .limit(limit)
                ):
                    found["accounts"].append(
                        account_entity(await remote_facts(runtime, session, remote))
                    )
                found["accounts"] = found["accounts"][:limit]
        if "statuses" in kinds and resolved_post is not None:
            row = await status_by_uri(runtime, session, resolved_post)
            if row is not None:
                found["statuses"] = await render(runtime, session, [row], viewer)
    return found
