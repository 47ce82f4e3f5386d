"""Accounts as the client API shows them: the node's local actors (the territory, its circles,
its residents) and the remote actors it knows; lookups, relationships, and follows made by a
resident's own Person actor."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.mastodon import AccountFacts, RelationshipFacts, account_entity
from node.convert.urls import actor_id, actor_page_url, icon_url
from node.domain.actors import ActorKind
from node.services.client_api.errors import ApiError, not_found, unprocessable
from node.services.federation.following import send_follow, send_unfollow
from node.services.federation.remote_actors import LookupFailed
from node.services.runtime import Runtime
from node.storage.models import Account, Follow, LocalActor, OutboxEntry, RemoteActor
from protocols.html import text_to_html

_KIND_TYPES = {
    ActorKind.PERSON: "Person",
    ActorKind.TERRITORY: "Group",
    ActorKind.CIRCLE: "Group",
    ActorKind.INSTANCE: "Application",
}


def local_uri_prefix(runtime: Runtime) -> str:
    """Every local actor's id starts with this."""
    return f"{runtime.config.node.base_url}/actors/"


async def person_of(session: AsyncSession, account: Account) -> LocalActor:
    """The resident's own Person actor (every resident has one once their profile exists)."""
    person = await session.get(LocalActor, account.actor_id) if account.actor_id else None
    if person is None:
        raise unprocessable("This account has no profile yet: open the node's web page first")
    return person


async def _counts(session: AsyncSession, uri: str) -> tuple[int, int]:
    followers = await session.scalar(
        select(func.count()).where(Follow.followed_uri == uri, Follow.state == "accepted")
    )
    following = await session.scalar(
        select(func.count()).where(Follow.follower_uri == uri, Follow.state == "accepted")
    )
    return int(followers or 0), int(following or 0)


async def local_facts(runtime: Runtime, session: AsyncSession, actor: LocalActor) -> AccountFacts:
    """What the Account entity of a local actor says."""
    config = runtime.config
    uri = actor_id(config, actor)
    followers, following = await _counts(session, uri)
    statuses = await session.scalar(
        select(func.count()).where(
            OutboxEntry.actor_id == actor.id, OutboxEntry.type == "Create", OutboxEntry.public
        )
    )
    last = await session.scalar(
        select(func.max(OutboxEntry.created_at)).where(
            OutboxEntry.actor_id == actor.id, OutboxEntry.type == "Create"
        )
    )
    return AccountFacts(
        id=actor.id,
        username=actor.username,
        acct=actor.username,
        uri=uri,
        url=actor_page_url(config, actor),
        display_name=actor.display_name,
        note_html=text_to_html(actor.summary) if actor.summary else "",
        avatar=icon_url(config, actor),
        header=f"{config.node.base_url}/static/territory.png",
        kind=_KIND_TYPES.get(ActorKind(actor.kind), "Person"),
        locked=False,
        created_at=actor.created_at,
        statuses_count=int(statuses or 0),
        followers_count=followers,
        following_count=following,
        last_status_at=last,
        discoverable=actor.discoverable,
        indexable=actor.indexable,
    )


async def remote_facts(runtime: Runtime, session: AsyncSession, actor: RemoteActor) -> AccountFacts:
    """What the Account entity of a remote actor says, from its last known document."""
    config = runtime.config
    followers, following = await _counts(session, actor.uri)
    default_avatar = f"{config.node.base_url}/static/person.png"
    return AccountFacts(
        id=actor.id,
        username=actor.username,
        acct=f"{actor.username}@{actor.domain}",
        uri=actor.uri,
        url=actor.url or actor.uri,
        display_name=actor.name or actor.username,
        note_html=actor.summary,
        avatar=_shown_avatar(runtime, actor) or default_avatar,
        header=f"{config.node.base_url}/static/territory.png",
        kind=actor.type,
        locked=actor.manually_approves_followers,
        created_at=actor.fetched_at,
        followers_count=followers,
        following_count=following,
    )


def _shown_avatar(runtime: Runtime, actor: RemoteActor) -> str | None:
    """The actor's image, unless moderation rejects its domain's media (Mastodon then shows
    the default avatar too)."""
    return None if runtime.moderation.rejects_media(actor.domain) else actor.icon_url


async def account_by_id(runtime: Runtime, session: AsyncSession, account_id: str) -> AccountFacts:
    """The account an API id names (a local or a remote actor); 404 else."""
    local = await session.get(LocalActor, account_id)
    if local is not None and local.kind != ActorKind.INSTANCE:
        return await local_facts(runtime, session, local)
    remote = await session.get(RemoteActor, account_id)
    if remote is not None:
        return await remote_facts(runtime, session, remote)
    raise not_found()


async def accounts_by_uri(
    runtime: Runtime, session: AsyncSession, uris: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Account entities of the actors these ids name, when the node knows them."""
    wanted = set(uris)
    found: dict[str, dict[str, Any]] = {}
    prefix = local_uri_prefix(runtime)
    names = {uri.removeprefix(prefix): uri for uri in wanted if uri.startswith(prefix)}
    if names:
        for actor in await session.scalars(
            select(LocalActor).where(LocalActor.username.in_(names))
        ):
            found[names[actor.username]] = account_entity(
                await local_facts(runtime, session, actor)
            )
    remote = wanted - set(found)
    if remote:
        for row in await session.scalars(select(RemoteActor).where(RemoteActor.uri.in_(remote))):
            found[row.uri] = account_entity(await remote_facts(runtime, session, row))
    return found


def unknown_account(uri: str) -> dict[str, Any]:
    """An Account for an author the node has not fetched (never shown empty-handed)."""
    parts = urlsplit(uri)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc
    return account_entity(
        AccountFacts(
            id="0",
            username=name,
            acct=f"{name}@{parts.netloc}",
            uri=uri,
            url=uri,
            display_name=name,
            note_html="",
            avatar="",
            header="",
            kind="Person",
            locked=False,
            created_at=None,
        )
    )


async def lookup(runtime: Runtime, session: AsyncSession, acct: str) -> AccountFacts:
    """An account by `name` (local) or `name@domain`, among the actors the node knows."""
    name, _, domain = acct.strip().lstrip("@").partition("@")
    if not domain or domain == runtime.config.node.domain:
        local = (
            await session.scalars(select(LocalActor).where(LocalActor.username == name))
        ).first()
        if local is not None and local.kind != ActorKind.INSTANCE:
            return await local_facts(runtime, session, local)
        raise not_found()
    remote = (
        await session.scalars(
            select(RemoteActor).where(
                func.lower(RemoteActor.username) == name.lower(),
                func.lower(RemoteActor.domain) == domain.lower(),
            )
        )
    ).first()
    if remote is None:
        raise not_found()
    return await remote_facts(runtime, session, remote)


async def resolve_remote(runtime: Runtime, target: str) -> RemoteActor:
    """Fetch a remote actor by handle or URL through the node's signed, guarded client."""
    try:
        return await runtime.remote.resolve(target)
    except LookupFailed as exc:
        raise not_found(str(exc)) from None


async def actor_uri_of(runtime: Runtime, session: AsyncSession, account_id: str) -> str:
    """The ActivityPub id of the actor an API account id names."""
    local = await session.get(LocalActor, account_id)
    if local is not None:
        return actor_id(runtime.config, local)
    remote = await session.get(RemoteActor, account_id)
    if remote is None:
        raise not_found()
    return remote.uri


async def relationships(
    runtime: Runtime, session: AsyncSession, viewer: Account, account_ids: list[str]
) -> list[RelationshipFacts]:
    """The viewer's follow relations with each account (unknown ids are left out)."""
    me = actor_id(runtime.config, await person_of(session, viewer))
    found = []
    for account_id in account_ids:
        try:
            uri = await actor_uri_of(runtime, session, account_id)
        except ApiError:
            continue
        rows = (
            await session.scalars(
                select(Follow).where(
                    or_(
                        (Follow.follower_uri == me) & (Follow.followed_uri == uri),
                        (Follow.follower_uri == uri) & (Follow.followed_uri == me),
                    )
                )
            )
        ).all()
        mine = next((f for f in rows if f.follower_uri == me), None)
        theirs = next((f for f in rows if f.follower_uri == uri), None)
        found.append(
            RelationshipFacts(
                id=account_id,
                following=mine is not None and mine.state == "accepted",
                requested=mine is not None and mine.state == "pending",
                followed_by=theirs is not None and theirs.state == "accepted",
            )
        )
    return found


async def follow_account(runtime: Runtime, viewer: Account, account_id: str) -> RelationshipFacts:
    """The resident's Person follows a remote actor (a Follow from their own actor)."""
    async with runtime.sessions() as session:
        uri = await actor_uri_of(runtime, session, account_id)
    if uri.startswith(local_uri_prefix(runtime)):
        raise unprocessable("Following accounts of this node is not offered: they are all here")
    remote = await resolve_remote(runtime, uri)  # fetched before any transaction opens
    async with runtime.sessions.begin() as session:
        await send_follow(runtime, session, await person_of(session, viewer), remote.uri)
    runtime.wake_delivery()
    async with runtime.sessions() as session:
        return (await relationships(runtime, session, viewer, [account_id]))[0]


async def unfollow_account(runtime: Runtime, viewer: Account, account_id: str) -> RelationshipFacts:
    """The resident's Person stops following an actor: its Follow is undone."""
    async with runtime.sessions.begin() as session:
        uri = await actor_uri_of(runtime, session, account_id)
        await send_unfollow(runtime, session, await person_of(session, viewer), uri)
    runtime.wake_delivery()
    async with runtime.sessions() as session:
        return (await relationships(runtime, session, viewer, [account_id]))[0]


async def follow_list(
    runtime: Runtime, session: AsyncSession, account_id: str, *, followers: bool, limit: int
) -> list[dict[str, Any]]:
    """Who follows an account, or whom it follows (accepted follows, newest first)."""
    uri = await actor_uri_of(runtime, session, account_id)
    column, other = (
        (Follow.followed_uri, Follow.follower_uri)
        if followers
        else (Follow.follower_uri, Follow.followed_uri)
    )
    uris = list(
        await session.scalars(
            select(other)
            .where(column == uri, Follow.state == "accepted")
            .order_by(Follow.created_at.desc())
            .limit(limit)
        )
    )
    found = await accounts_by_uri(runtime, session, uris)
    return [found[u] for u in uris if u in found]
