"""How much one resident may post in an hour (needs, comments, offers), counted from the
tables themselves by author and creation time: nothing to keep in step, and every process
on one database counts the same rows. A post from an app is a comment here."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.domain.local_time import local_text
from node.domain.texts import FilledText
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Account, Need, Note, Offer

HOUR = timedelta(hours=1)
TOO_MANY = {
    "need": "Vous avez exprimé %(limit)s besoins dans l'heure : vous pourrez en exprimer un autre à %(time)s (dans %(minutes)s min).",  # noqa: E501
    "comment": "Vous avez publié %(limit)s commentaires dans l'heure : vous pourrez en publier un autre à %(time)s (dans %(minutes)s min).",  # noqa: E501
    "offer": "Vous avez publié %(limit)s offres ou demandes dans l'heure : vous pourrez en publier une autre à %(time)s (dans %(minutes)s min).",  # noqa: E501
}


class PostingLimited(Exception):
    """A post refused because its author reached the hourly limit; `message` (French, with
    when to post again) for the pages, `retry_after` in seconds, `english` for the apps."""

    def __init__(self, message: FilledText, retry_after: int, english: str) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.english = english


async def check_posting(
    runtime: Runtime,
    session: AsyncSession,
    kind: str,
    account: Account,
    author_uri: str | None = None,
) -> None:
    """Raise PostingLimited when `account` already posted its hourly count of `kind` (need,
    comment, offer); comments are counted by their author's actor URI (`author_uri`)."""
    limits = runtime.config.limits
    limit = {
        "need": limits.needs_per_hour,
        "comment": limits.comments_per_hour,
        "offer": limits.offers_per_hour,
    }[kind]
    now = utcnow()
    count, oldest = await _posted_since(session, kind, account, author_uri, now - HOUR)
    if count < limit or oldest is None:
        return
    runtime.refusals.note(f"posting_{kind}", account.username)
    free_at = oldest + HOUR
    seconds = max(1, math.ceil((free_at - now).total_seconds()))
    minutes = max(1, math.ceil(seconds / 60))
    message = FilledText(
        TOO_MANY[kind],
        limit=limit,
        time=local_text(free_at, runtime.config.territory.zone, "%H:%M"),
        minutes=minutes,
    )
    english = f"You reached the limit of {limit} an hour; try again in {minutes} minutes"
    raise PostingLimited(message, seconds, english)


async def _posted_since(
    session: AsyncSession, kind: str, account: Account, author_uri: str | None, since: datetime
) -> tuple[int, datetime | None]:
    """How many of `kind` the account posted since `since`, and the oldest one's time."""
    if kind == "comment":
        moment = Note.published
        where = [Note.local.is_(True), Note.author_uri == (author_uri or ""), moment > since]
    else:
        model = Need if kind == "need" else Offer
        moment = model.created_at
        where = [model.author_id == account.id, moment > since]
    row = (await session.execute(select(func.count(), func.min(moment)).where(*where))).one()
    return int(row[0]), row[1]
