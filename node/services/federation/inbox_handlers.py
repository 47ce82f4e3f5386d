"""What each received activity does to the node (the inbox worker's dispatch table).

Handlers fetch what they need first, then apply their effects in one transaction; they
answer with an Outcome so the worker can record, ignore or hold the activity.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.inbox.worker import BatchHandler, Handler, Outcome
from node.convert.notes import POST_TYPES, note_from_as
from node.convert.urls import actor_id
from node.domain.actors import ActorKind
from node.services.coordination.index import index_object, unindex
from node.services.federation.following import send_follow_answer
from node.services.federation.remote_actors import LookupFailed
from node.services.federation.remote_objects import (
    maillage_kind,
    mark_remote_object_deleted,
    store_remote_object,
)
from node.services.moderation.inbox_guard import moderated, moderated_batches
from node.services.participation.decisions import may_answer_a_decision, record_external_answer
from node.services.participation.replication import on_add, on_remote_evaluation
from node.services.runtime import Runtime
from node.storage.actors import get_actor_by_username
from node.storage.base import utcnow
from node.storage.models import Follow, LocalActor, Note, Reaction, RemoteObject
from protocols.activitystreams import ACTOR_TYPES, id_of, ids_of, type_of

log = logging.getLogger(__name__)


def inbox_handlers(runtime: Runtime) -> dict[str, Handler]:
    """The dispatch table: activity type -> handler (Flag: moderation's); other types are
    stored and ignored; nothing from a suspended account or domain is applied."""
    handlers = InboxHandlers(runtime)
    return moderated(
        runtime,
        {
            "Follow": handlers.on_follow,
            "Accept": handlers.on_accept,
            "Reject": handlers.on_reject,
            "Undo": handlers.on_undo,
            "Create": handlers.on_create,
            "Update": handlers.on_update,
            "Delete": handlers.on_delete,
            "Like": handlers.on_like,
            "Announce": handlers.on_announce,
            "Add": handlers.on_add,
        },
    )


def inbox_batch_handlers(runtime: Runtime) -> dict[str, BatchHandler]:
    """The types applied a run at a time: a stream of posts is what a node receives most."""
    return moderated_batches(runtime, {"Create": InboxHandlers(runtime).on_create_many})


class InboxHandlers:
    """One method per activity type."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.config = runtime.config
        self.base = runtime.config.node.base_url

    async def _local_actor(self, session: AsyncSession, uri: str | None) -> LocalActor | None:
        """The local actor an URI names (/actors/<name>), or None."""
        prefix = f"{self.base}/actors/"
        if uri is None or not uri.startswith(prefix):
            return None
        return await get_actor_by_username(session, uri[len(prefix) :])

    async def on_follow(self, activity: dict[str, Any]) -> Outcome:
        """A remote actor follows a local one: accepted at once unless approval is manual."""
        follower = activity["actor"]
        try:
            await self.runtime.remote.get_actor(follower)  # its inbox, before the transaction
        except LookupFailed as exc:
            return Outcome.ignored(str(exc))
        async with self.runtime.sessions.begin() as session:
            local = await self._local_actor(session, id_of(activity.get("object")))
            if local is None or local.kind == ActorKind.INSTANCE:
                return Outcome.ignored("Follow of no followable local actor")
            local_uri = actor_id(self.config, local)
            existing = (
                await session.scalars(
                    select(Follow).where(
                        Follow.follower_uri == follower, Follow.followed_uri == local_uri
                    )
                )
            ).first()
            if existing is None:
                existing = Follow(
                    follower_uri=follower, followed_uri=local_uri, activity_uri=activity["id"]
                )
                session.add(existing)
                await session.flush()
            else:  # a repeated Follow (e.g. after a key change): answer again, idempotently
                existing.activity_uri = activity["id"]
            if self.config.federation.manual_approval and existing.state != "accepted":
                existing.state = "pending"
                outcome = Outcome.applied("waiting for an admin's approval")
            else:
                await send_follow_answer(self.runtime, session, local, existing, accept=True)
                outcome = Outcome.applied("accepted")
        self.runtime.wake_delivery()
        return outcome

    async def _our_follow(self, session: AsyncSession, activity: dict[str, Any]) -> Follow | None:
        """Our Follow that an Accept or Reject answers: by id, or by the follow's pair."""
        embedded = activity.get("object")
        follow_id = id_of(embedded)
        query = select(Follow).where(Follow.followed_uri == activity["actor"])
        if follow_id:
            query = query.where(
                or_(Follow.activity_uri == follow_id, Follow.follower_uri == _follower_of(embedded))
            )
        follow = (await session.scalars(query)).first()
        if follow is None or not follow.follower_uri.startswith(self.base + "/"):
            return None
        return follow

    async def on_accept(self, activity: dict[str, Any]) -> Outcome:
        """The remote actor accepted our Follow."""
        async with self.runtime.sessions.begin() as session:
            follow = await self._our_follow(session, activity)
            if follow is None:
                return Outcome.ignored("Accept of no Follow of ours")
            follow.state, follow.accepted_at = "accepted", utcnow()
        return Outcome.applied("follow accepted")

    async def on_reject(self, activity: dict[str, Any]) -> Outcome:
        """The remote actor refused our Follow (or removed us as a follower)."""
        async with self.runtime.sessions.begin() as session:
            follow = await self._our_follow(session, activity)
            if follow is None:
                return Outcome.ignored("Reject of no Follow of ours")
            follow.state = "rejected"
        return Outcome.applied("follow rejected")

    async def on_undo(self, activity: dict[str, Any]) -> Outcome:
        """Undo of a Follow, Like or Announce by the same actor; held if it came first."""
        embedded = activity.get("object")
        target = id_of(embedded)
        kind = type_of(embedded) if isinstance(embedded, dict) else None
        actor = activity["actor"]
        async with self.runtime.sessions.begin() as session:
            if kind == "Follow" or (kind is None and target):
                removed = await session.execute(
                    delete(Follow).where(
                        Follow.follower_uri == actor,
                        or_(
                            Follow.activity_uri == target,
                            Follow.followed_uri == id_of(_get(embedded, "object")),
                        ),
                    )
                )
                if removed.rowcount:  # type: ignore[attr-defined]
                    return Outcome.applied("unfollowed")
            removed = await session.execute(
                delete(Reaction).where(Reaction.activity_uri == target, Reaction.actor_uri == actor)
            )
            if removed.rowcount:  # type: ignore[attr-defined]
                return Outcome.applied(f"{kind or 'reaction'} undone")
        return Outcome.held(f"nothing to undo yet for {target}")

    async def on_create(self, activity: dict[str, Any]) -> Outcome:
        """A Maillage object (stored as what it is), a poll answer to one of our decisions
        (non-binding tally), or a post kept when it replies to us, mentions us, or comes from
        someone we follow."""
        document = activity.get("object")
        if not isinstance(document, dict) or type_of(document) not in POST_TYPES:
            return Outcome.ignored("Create of something that is not a post")
        answer = await record_external_answer(self.runtime, activity, document)
        if answer is not None:
            return answer
        if maillage_kind(document) is not None:
            return await self._keep_maillage_object(activity, document)
        async with self.runtime.sessions.begin() as session:
            if not await self._is_relevant(session, activity["actor"], document):
                return Outcome.ignored("post neither for us nor from anyone we follow")
            if await session.scalar(select(Note.id).where(Note.uri == document["id"])):
                return Outcome.ignored("post already known")
            session.add(note_from_as(document, _published(document)))
        return Outcome.applied("post stored")

    async def on_create_many(self, activities: list[dict[str, Any]]) -> list[Outcome]:
        """`on_create` for a run of Creates in one transaction: plain posts are kept or
        ignored here, up to the first poll answer, Maillage object or odd post (left to
        `on_create`: a later post may reply to it)."""
        outcomes: list[Outcome | None] = []
        posts: dict[int, dict[str, Any]] = {}
        for activity in activities:
            document = activity.get("object")
            if not isinstance(document, dict) or type_of(document) not in POST_TYPES:
                outcomes.append(Outcome.ignored("Create of something that is not a post"))
            elif (
                isinstance(document.get("id"), str)
                and not may_answer_a_decision(self.runtime, document)
                and maillage_kind(document) is None
            ):
                posts[len(outcomes)] = document
                outcomes.append(None)
            else:
                break
        if posts:
            async with self.runtime.sessions.begin() as session:
                uris = {document["id"] for document in posts.values()}
                known = set(await session.scalars(select(Note.uri).where(Note.uri.in_(uris))))
                for index, document in posts.items():
                    if not await self._is_relevant(session, activities[index]["actor"], document):
                        outcomes[index] = Outcome.ignored(
                            "post neither for us nor from anyone we follow"
                        )
                    elif document["id"] in known:
                        outcomes[index] = Outcome.ignored("post already known")
                    else:
                        known.add(document["id"])
                        session.add(note_from_as(document, _published(document)))
                        outcomes[index] = Outcome.applied("post stored")
        return [outcome for outcome in outcomes if outcome is not None]  # all decided now

    async def _is_relevant(
        self, session: AsyncSession, author: str, document: dict[str, Any]
    ) -> bool:
        reply_to = id_of(document.get("inReplyTo"))
        if reply_to and (
            reply_to.startswith(self.base + "/")
            or await session.scalar(select(Note.id).where(Note.uri == reply_to))
            # a comment on another territory's need, proposal or offer kept here
            or await session.scalar(select(RemoteObject.id).where(RemoteObject.uri == reply_to))
        ):
            return True
        tagged = (
            [id_of(tag) for tag in document.get("tag", []) if isinstance(tag, dict)]
            if isinstance(document.get("tag"), list)
            else []
        )
        addressed = (
            ids_of(document.get("to")) + ids_of(document.get("cc")) + [t for t in tagged if t]
        )
        if any(uri.startswith(f"{self.base}/actors/") for uri in addressed):
            return True
        followed = await session.scalar(
            select(Follow.id).where(
                Follow.followed_uri == author,
                Follow.follower_uri.startswith(self.base + "/"),
                Follow.state == "accepted",
            )
        )
        return followed is not None

    async def on_update(self, activity: dict[str, Any]) -> Outcome:
        """An actor's new profile or keys, or an edited post."""
        document = activity.get("object")
        if not isinstance(document, dict):
            return Outcome.ignored("Update without an embedded object")
        if type_of(document) in ACTOR_TYPES and document.get("id") == activity["actor"]:
            await self.runtime.remote.store_document(document)
            return Outcome.applied("actor refreshed")
        if type_of(document) not in POST_TYPES:
            return Outcome.ignored("Update of an unsupported object")
        if maillage_kind(document) is not None:
            return await self._keep_maillage_object(activity, document)
        async with self.runtime.sessions.begin() as session:
            note = (await session.scalars(select(Note).where(Note.uri == document["id"]))).first()
            if note is None:
                return Outcome.held("Update of a post not received yet")
            if note.author_uri != activity["actor"]:
                return Outcome.ignored("Update by someone else than the author")
            fresh = note_from_as(document, note.published)
            note.content, note.summary, note.updated = fresh.content, fresh.summary, utcnow()
        return Outcome.applied("post updated")

    async def on_delete(self, activity: dict[str, Any]) -> Outcome:
        """A deleted post (its content is dropped) or a deleted actor: its follows go, its
        posts are dropped and its cached document and keys forgotten (as Mastodon does)."""
        target = id_of(activity.get("object"))
        actor = activity["actor"]
        async with self.runtime.sessions.begin() as session:
            if target == actor:
                await session.execute(
                    delete(Follow).where(
                        or_(Follow.follower_uri == actor, Follow.followed_uri == actor)
                    )
                )
                await session.execute(_emptied(Note.author_uri == actor))
            else:
                result = await session.execute(
                    _emptied(Note.uri == target, Note.author_uri == actor)
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    return Outcome.applied("post deleted")
                if target and await mark_remote_object_deleted(session, target, actor):
                    await unindex(self.runtime, session, target)
                    return Outcome.applied("object deleted")
                already = await session.scalar(
                    select(Note.id).where(Note.uri == target, Note.author_uri == actor)
                )
                if already is not None:  # with its actor, or by an earlier copy of this Delete
                    return Outcome.ignored("post already deleted")
        if target == actor:
            await self.runtime.remote.forget(actor)
            return Outcome.applied("actor deleted")
        return Outcome.held(f"Delete of {target}, not received yet")

    async def _keep_maillage_object(
        self, activity: dict[str, Any], document: dict[str, Any]
    ) -> Outcome:
        """Store another node's experiment, proposal, offer... when it concerns us."""
        async with self.runtime.sessions.begin() as session:
            if not await self._is_relevant(session, activity["actor"], document):
                return Outcome.ignored("object neither for us nor from anyone we follow")
            stored = await store_remote_object(session, document)
            if stored.kind == "tc:Evaluation":
                await on_remote_evaluation(session, document)
            await index_object(self.runtime, session, stored)  # on a coordinator only
        return Outcome.applied(f"{stored.kind} stored")

    async def on_add(self, activity: dict[str, Any]) -> Outcome:
        """Another territory adds its experiment to one of our experiments' replications."""
        return await on_add(self.runtime, activity)

    async def on_like(self, activity: dict[str, Any]) -> Outcome:
        """A Like of one of our objects."""
        return await self._react(activity, "like")

    async def on_announce(self, activity: dict[str, Any]) -> Outcome:
        """A boost of one of our objects."""
        return await self._react(activity, "announce")

    async def _react(self, activity: dict[str, Any], kind: str) -> Outcome:
        target = id_of(activity.get("object"))
        if target is None or not target.startswith(self.base + "/"):
            return Outcome.ignored(f"{kind} of an object that is not ours")
        async with self.runtime.sessions.begin() as session:
            if await session.scalar(
                select(Reaction.id).where(Reaction.activity_uri == activity["id"])
            ):
                return Outcome.ignored("already counted")
            session.add(
                Reaction(
                    activity_uri=activity["id"],
                    kind=kind,
                    actor_uri=activity["actor"],
                    object_uri=target,
                )
            )
        return Outcome.applied(f"{kind} counted")


def _emptied(*where: Any) -> Any:
    """The statement that marks the posts matching `where` deleted and drops their text."""
    return (
        update(Note)
        .where(*where, Note.deleted_at.is_(None))
        .values(deleted_at=utcnow(), content="", summary="")
    )


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _follower_of(embedded: Any) -> str | None:
    return id_of(_get(embedded, "actor"))


def _published(document: dict[str, Any]) -> datetime:
    """The post's publication time, or now when absent or unreadable."""
    value = document.get("published")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                return moment
        except ValueError:
            pass
    return utcnow()
