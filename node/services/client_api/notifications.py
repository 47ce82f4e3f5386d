"""A resident's notifications, derived from what the node holds (nothing extra is stored but
dismissals): new followers of their actor, mentions and replies, favourites and boosts of
their posts, and the results of decisions they voted in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.mastodon import notification_entity
from node.convert.urls import actor_id
from node.domain.client_ids import millis, status_id
from node.services.client_api.accounts import accounts_by_uri, person_of, unknown_account
from node.services.client_api.statuses import Page, render, status_by_uri
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Decision,
    DismissedNotification,
    Follow,
    Note,
    Reaction,
    Vote,
)

#: how far back each kind is read for one page (notifications are derived, not stored)
RECENT = 200
KINDS = ("follow", "mention", "favourite", "reblog", "poll")


@dataclass(frozen=True, slots=True)
class Found:
    """One notification before rendering."""

    id: str
    kind: str
    at: datetime
    actor: str
    status_uri: str | None


async def _gather(runtime: Runtime, session: AsyncSession, account: Account) -> list[Found]:
    me = actor_id(runtime.config, await person_of(session, account))
    found: list[Found] = []
    for follow in await session.scalars(
        select(Follow)
        .where(Follow.followed_uri == me, Follow.state == "accepted")
        .order_by(Follow.created_at.desc())
        .limit(RECENT)
    ):
        at = follow.accepted_at or follow.created_at
        found.append(
            Found(status_id(millis(at), "f", follow.id), "follow", at, follow.follower_uri, None)
        )
    mine = list(
        await session.scalars(
            select(Note.uri)
            .where(Note.author_uri == me)
            .order_by(Note.published.desc())
            .limit(RECENT)
        )
    )
    for note in await session.scalars(
        select(Note)
        .where(
            Note.author_uri != me,
            Note.deleted_at.is_(None),
            or_(Note.in_reply_to.in_(mine), Note.mentions.contains(me)),
        )
        .order_by(Note.published.desc())
        .limit(RECENT)
    ):
        found.append(
            Found(
                status_id(millis(note.published), "m", note.id),
                "mention",
                note.published,
                note.author_uri,
                note.uri,
            )
        )
    for reaction in await session.scalars(
        select(Reaction)
        .where(Reaction.object_uri.in_(mine), Reaction.actor_uri != me)
        .order_by(Reaction.created_at.desc())
        .limit(RECENT)
    ):
        kind = "favourite" if reaction.kind == "like" else "reblog"
        found.append(
            Found(
                status_id(millis(reaction.created_at), "x", reaction.id),
                kind,
                reaction.created_at,
                reaction.actor_uri,
                reaction.object_uri,
            )
        )
    now = utcnow()
    for decision in await session.scalars(
        select(Decision)
        .join(Vote, Vote.decision_id == Decision.id)
        .where(Vote.account_id == account.id, Decision.closes_at <= now)
        .order_by(Decision.closes_at.desc())
        .limit(RECENT)
    ):
        found.append(
            Found(
                status_id(millis(decision.closes_at), "d", decision.id),
                "poll",
                decision.closes_at,
                "",
                decision.uri,
            )
        )
    return found


async def notifications(
    runtime: Runtime, account: Account, page: Page, types: list[str], exclude: list[str]
) -> list[dict[str, Any]]:
    """One page of the resident's notifications, newest first (Mastodon's Notification)."""
    async with runtime.sessions() as session:
        found = await _gather(runtime, session, account)
        dismissed = set(
            await session.scalars(
                select(DismissedNotification.notification_id).where(
                    DismissedNotification.account_id == account.id
                )
            )
        )
        cleared = max((d for d in dismissed if d.startswith("cleared:")), default="cleared:")[8:]
        kept = [
            f
            for f in found
            if f.id not in dismissed
            and f.id > cleared
            and (not types or f.kind in types)
            and f.kind not in exclude
            and (page.max_id is None or f.id < page.max_id)
            and (page.since_id is None or f.id > page.since_id)
            and (page.min_id is None or f.id > page.min_id)
        ]
        kept.sort(key=lambda f: f.id, reverse=page.min_id is None)
        kept = sorted(kept[: max(1, min(page.limit, 40))], key=lambda f: f.id, reverse=True)
        accounts = await accounts_by_uri(runtime, session, {f.actor for f in kept if f.actor})
        rendered = []
        for item in kept:
            status = None
            if item.status_uri:
                row = await status_by_uri(runtime, session, item.status_uri)
                status = (await render(runtime, session, [row], account))[0] if row else None
                if item.kind == "poll" and status is not None:
                    item = Found(
                        item.id, item.kind, item.at, row.author if row else "", item.status_uri
                    )
            actor = item.actor or (status["account"]["uri"] if status else "")
            account_entity = accounts.get(actor) or (
                status["account"] if status and not item.actor else unknown_account(actor)
            )
            rendered.append(
                notification_entity(item.id, item.kind, item.at, account_entity, status)
            )
        return rendered


async def dismiss(runtime: Runtime, account: Account, notification_id: str) -> None:
    """Dismiss one notification, or all until now with `clear`."""
    async with runtime.sessions.begin() as session:
        session.add(
            DismissedNotification(account_id=account.id, notification_id=notification_id[:64])
        )


async def clear(runtime: Runtime, account: Account) -> None:
    """Dismiss every notification so far."""
    await dismiss(runtime, account, f"cleared:{status_id(millis(utcnow()), 'f', '7' + 'z' * 25)}")
