"""Signed bundles: the node's activities carried on a USB stick to a node with no link.

Export writes what the node has published (public activities, and those addressed to one
territory when the bundle is made for it), each signed with its author's Ed25519 key
(eddsa-jcs-2022), with the actor documents that carry those keys. Import checks every entry
on its own proof, skips what is already here, and hands the rest to the inbox pipeline the
HTTP inbox uses, so an activity carried by hand has the same effects as one delivered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from federation.bundles.archive import (
    ACTIVITIES,
    ACTORS,
    BundleReader,
    BundleUnreadable,
    BundleWriter,
)
from federation.bundles.entries import (
    BundleKeys,
    EntryRefused,
    check_activity,
    check_actor,
    parse_line,
)
from federation.ports import ReceivedActivity
from node.convert.actors import actor_to_as
from node.convert.circles import circle_actor_to_as
from node.convert.remote_actors import InvalidActor
from node.convert.urls import actor_id
from node.domain.actors import ActorKind
from node.services.coordination.bundles import aggregated
from node.services.coordination.index import is_coordinator
from node.services.offline.drain import apply_stored
from node.services.participation.circles import circle_of_actor
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.inbox import SqlInbox
from node.storage.models import InboxItem, LocalActor
from node.storage.outbox import entries_to_carry
from protocols.activitystreams import origin_of
from protocols.integrity import sign_document

#: Outbox entries read per query while exporting.
EXPORT_BATCH = 500
#: Verified activities stored together while importing.
STORE_BATCH = 200

#: Called with (done, total) as entries are written or read; total may be 0 when unknown.
Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    """Default progress report: none."""


@dataclass
class ExportSummary:
    """What an export wrote."""

    path: Path
    activities: int
    actors: int


@dataclass
class ImportSummary:
    """What an import did, entry by entry: applied, already known, refused with a reason."""

    actors: int = 0
    applied: int = 0
    already_known: int = 0
    #: (where in the bundle, why) for each entry that was not applied
    refused: list[tuple[str, str]] = field(default_factory=list)
    #: activities accepted but that the inbox did not act on (not followed, unknown type...)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    #: waiting for an activity they depend on (an Undo before its Follow)
    held: int = 0
    #: the bundle stopped early or is damaged: what came after was not read
    damaged: str = ""


async def export_bundle(
    runtime: Runtime,
    path: Path,
    *,
    since: datetime | None = None,
    for_host: str | None = None,
    progress: Progress = _no_progress,
) -> ExportSummary:
    """Write the node's public activities (and those for `for_host`) as a signed bundle; on a
    coordinator, also the activities of the territories it aggregates."""
    created = _timestamp(utcnow())
    writer = BundleWriter(path)
    authors: dict[str, LocalActor] = {}
    try:
        after, written = 0, 0
        while True:
            async with runtime.sessions() as session:
                entries = await entries_to_carry(
                    session, since=since, host=for_host, after_seq=after, limit=EXPORT_BATCH
                )
                for entry in entries:
                    if entry.actor_id not in authors:
                        author = await session.get(LocalActor, entry.actor_id)
                        if author is None:
                            continue
                        authors[entry.actor_id] = author
            if not entries:
                break
            for entry in entries:
                author = authors.get(entry.actor_id)
                if author is None:
                    continue
                writer.add_activity(_signed(runtime, json.loads(entry.body), author, created))
                written += 1
            after = entries[-1].seq
            progress(written, 0)
        for author in authors.values():
            document = await _actor_document(runtime, author)
            writer.add_actor(_signed(runtime, document, author, created))
        if is_coordinator(runtime.config):  # and what it aggregates, with their own proofs
            async with runtime.sessions() as session:
                activities, actors = await aggregated(session, since)
            for activity in activities:
                writer.add_activity(activity)
                written += 1
            for actor in actors:
                writer.add_actor(actor)
            progress(written, 0)
        writer.finish(
            {
                "origin": runtime.config.node.base_url,
                "created": created,
                "since": _timestamp(since) if since else None,
                "for": for_host,
            }
        )
    except BaseException:
        writer.close()
        raise
    return ExportSummary(path, writer.counts[ACTIVITIES], writer.counts[ACTORS])


async def import_bundle(
    runtime: Runtime, path: Path, *, progress: Progress = _no_progress
) -> ImportSummary:
    """Verify and apply a bundle; raises BundleUnreadable when nothing of it can be read."""
    reader = BundleReader(path)
    keys = BundleKeys(runtime.remote)
    inbox = SqlInbox(runtime.sessions)
    policy = runtime.config.federation
    own = origin_of(runtime.config.node.base_url)
    summary = ImportSummary()
    new: list[str] = []
    waiting: list[ReceivedActivity] = []

    async def store_waiting() -> None:
        """Store the verified activities together: group commit shares their transactions."""
        stored = await asyncio.gather(*(inbox.add_if_new(activity) for activity in waiting))
        for activity, is_new in zip(waiting, stored, strict=True):
            if is_new:
                new.append(activity.activity_id)
            else:
                summary.already_known += 1
        waiting.clear()

    done = 0
    try:
        for line in reader.lines():
            done += 1
            try:
                if line.member == ACTORS:
                    await _import_actor(runtime, parse_line(line), keys, own, summary)
                else:
                    activity = await check_activity(line, keys, policy, runtime.moderation)
                    if runtime.moderation.is_cut_off(activity.actor):
                        raise EntryRefused(f"{activity.actor} is suspended by this node")
                    if origin_of(activity.actor) == own:
                        summary.already_known += 1
                    else:
                        waiting.append(activity)
            except EntryRefused as refused:
                summary.refused.append((line.where, str(refused)))
            if len(waiting) >= STORE_BATCH:
                await store_waiting()
            progress(done, _announced(reader.manifest))
    except BundleUnreadable as damaged:
        if done == 0:
            raise
        summary.damaged = str(damaged)
    await store_waiting()
    await apply_stored(runtime, inbox, len(new))
    await _record_outcomes(runtime, new, summary)
    return summary


async def _import_actor(
    runtime: Runtime,
    document: dict[str, Any],
    keys: BundleKeys,
    own: str,
    summary: ImportSummary,
) -> None:
    """Keep a bundle's actor document once its own proof holds (this node's own: skipped)."""
    if isinstance(document.get("id"), str) and origin_of(document["id"]) == own:
        summary.already_known += 1
        return
    actor = await check_actor(document, keys, runtime.config.federation, runtime.moderation)
    try:
        await runtime.remote.store_document(actor.document)
    except InvalidActor as invalid:
        raise EntryRefused(f"the actor document cannot be used: {invalid}") from None
    if actor.already_known:
        summary.already_known += 1
    else:
        summary.actors += 1


async def _record_outcomes(runtime: Runtime, new: list[str], summary: ImportSummary) -> None:
    """Sort the stored activities by what the inbox made of them."""
    for start in range(0, len(new), 500):
        async with runtime.sessions() as session:
            rows = await session.execute(
                select(InboxItem.activity_id, InboxItem.state, InboxItem.note).where(
                    InboxItem.activity_id.in_(new[start : start + 500])
                )
            )
        for activity, state, note in rows:
            if state == "applied":
                summary.applied += 1
            elif state in ("held", "pending"):
                summary.held += 1
            else:
                summary.ignored.append((activity, note or state))


def _announced(manifest: dict[str, Any]) -> int:
    """How many entries the manifest says the bundle holds (0 when it does not say)."""
    counts = [manifest.get(name) for name in ("actors", "activities")]
    return sum(count for count in counts if isinstance(count, int) and count >= 0)


async def _actor_document(runtime: Runtime, actor: LocalActor) -> dict[str, Any]:
    """The actor's document as its own URL serves it."""
    keys = runtime.keyring.keys_for(actor)
    if actor.kind == ActorKind.CIRCLE:
        circle = await circle_of_actor(runtime.sessions, actor.id)
        if circle is not None:
            return circle_actor_to_as(runtime.config, actor, circle, keys)
    return actor_to_as(runtime.config, actor, keys)


def _signed(
    runtime: Runtime, document: dict[str, Any], author: LocalActor, created: str
) -> dict[str, Any]:
    """The document with its author's eddsa-jcs-2022 proof."""
    method = f"{actor_id(runtime.config, author)}#ed25519-key"
    key = runtime.keyring.keys_for(author).ed25519_private
    return sign_document(document, key, method, created)


def _timestamp(moment: datetime) -> str:
    """An XML Schema dateTime in UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
