"""Needs: a resident submits one, residents support it (once each) and comment on it, and a
facilitator triages it (merge into another, answer and close, or assign to a circle).

Every state change is kept in the visible history and federated as an Update of the need's
`Page`. Support counts are federated with throttling: an Update goes out on every state
change and whenever the count reaches a multiple of SUPPORT_UPDATE_STEP.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.activities import make_activity, strip_context
from node.convert.needs import THEMES, need_to_as
from node.convert.notes import iso, note_to_as
from node.convert.urls import actor_id
from node.domain.actors import FORMER_RESIDENT
from node.domain.ids import new_id
from node.domain.participation import NeedState, TransitionError, check_transition
from node.services.federation.following import territory_actor
from node.services.federation.outbox import follower_uris, publish
from node.services.federation.publishing import federate
from node.services.limits.posting import check_posting
from node.services.participation.circles import can_facilitate
from node.services.participation.history import record_change
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Account, Circle, LocalActor, Need, NeedSupport, Note
from protocols.activitystreams import PUBLIC
from protocols.html import text_to_html

#: An Update of a need goes out each time its support count reaches a multiple of this.
SUPPORT_UPDATE_STEP = 10
#: Longest text of a need, comment or answer (Mastodon shows up to about 5,000 characters).
MAX_TEXT = 5000
#: States in which a need still takes supports and can be triaged.
OPEN_STATES = (NeedState.SUBMITTED, NeedState.IN_CIRCLE)

FACILITATORS_ONLY = "Cette action est réservée aux facilitateurs et facilitatrices du cercle."
NO_PROFILE = "Votre compte n'a pas de profil de membre : demandez-le à l'administration du nœud."
ALREADY_SUPPORTED = "Vous soutenez déjà ce besoin : un seul soutien par personne."
NOT_SUPPORTED = "Vous ne soutenez pas ce besoin."
CLOSED_NEED = "Ce besoin est clos : il ne reçoit plus de soutiens."
NOT_TRIAGEABLE = "Ce besoin a déjà été traité : cette action n'est plus possible."
MERGE_TARGET = "Choisissez un autre besoin, encore ouvert."
UNKNOWN_THEME = "Choisissez un des thèmes proposés."
UNKNOWN_CIRCLE = "Choisissez un des cercles proposés."


class ParticipationError(ValueError):
    """An action refused for a reason the person can act on; the message is French, and
    `field` names the form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(ParticipationError):
    """An action the account's role does not allow (a 403 on the pages)."""


async def author_name(session: AsyncSession, account_id: str) -> str:
    """How an account is shown in pages and history: its profile's name, else its login;
    "un·e ancien·ne résident·e" once its owner deleted it."""
    row = (
        await session.execute(
            select(Account.username, LocalActor.display_name, Account.deleted_at)
            .outerjoin(LocalActor, LocalActor.id == Account.actor_id)
            .where(Account.id == account_id)
        )
    ).first()
    if row is None:
        return ""
    if row[2] is not None:
        return FORMER_RESIDENT
    return row[1] or row[0]


async def author_left(session: AsyncSession, account_id: str) -> bool:
    """Whether the author of an object deleted their account (its document then says so)."""
    account = await session.get(Account, account_id)
    return account is not None and account.deleted_at is not None


async def require_facilitator(
    session: AsyncSession, account: Account, circle_id: str | None
) -> None:
    """Refuse (NotAllowed) unless the account may facilitate the circle (or in general)."""
    if not await can_facilitate(session, account, circle_id):
        raise NotAllowed(FACILITATORS_ONLY)


def move(current: str, wanted: NeedState) -> None:
    """Check a need's transition; a refused one becomes a message the person can read."""
    try:
        check_transition(NeedState(current), wanted)
    except TransitionError:
        raise ParticipationError(NOT_TRIAGEABLE) from None


async def support_count(session: AsyncSession, need_id: str) -> int:
    """How many residents support the need."""
    query = select(func.count()).select_from(NeedSupport).where(NeedSupport.need_id == need_id)
    return await session.scalar(query) or 0


async def need_document(runtime: Runtime, session: AsyncSession, need: Need) -> dict[str, Any]:
    """The need's current ActivityPub document."""
    config = runtime.config
    circle = await session.get(Circle, need.circle_id) if need.circle_id else None
    circle_actor = await session.get(LocalActor, circle.actor_id) if circle else None
    merged = await session.get(Need, need.merged_into_id) if need.merged_into_id else None
    return need_to_as(
        config,
        need,
        supports=await support_count(session, need.id),
        circle_uri=actor_id(config, circle_actor) if circle_actor else None,
        circle_name=circle.name if circle else None,
        merged_into_uri=merged.uri if merged else None,
        author_left=await author_left(session, need.author_id),
    )


async def federate_need(
    runtime: Runtime, session: AsyncSession, need: Need, verb: str = "Update"
) -> None:
    """Log the need's Create or Update for the territory's followers."""
    await session.flush()
    await federate(runtime, session, await need_document(runtime, session, need), verb=verb)


async def set_need_state(
    runtime: Runtime, session: AsyncSession, need: Need, state: NeedState, by: str, note: str
) -> None:
    """Move a need to `state`: transition checked, history recorded, Update federated.

    Proposals call it when they take up a need (state in_proposal).
    """
    move(need.state, state)
    record_change(session, need.uri, need.state, state.value, by, note)
    need.state, need.updated_at = state.value, utcnow()
    await federate_need(runtime, session, need)


async def submit_need(
    runtime: Runtime, account: Account, *, title: str, text: str, theme: str, place: str = ""
) -> Need:
    """A resident expresses a need (fields already read by the page's form); it waits for
    triage and is federated as a Create."""
    if theme not in THEMES:
        raise ParticipationError(UNKNOWN_THEME, "theme")
    identifier = new_id()
    now = utcnow()
    async with runtime.sessions.begin() as session:
        await check_posting(runtime, session, "need", account)
        need = Need(
            id=identifier,
            uri=f"{runtime.config.node.base_url}/needs/{identifier}",
            author_id=account.id,
            title=title,
            text=text,
            theme=theme,
            place=place,
            state=NeedState.SUBMITTED.value,
            created_at=now,
            updated_at=now,
        )
        session.add(need)
        by = await author_name(session, account.id)
        record_change(session, need.uri, None, need.state, by, "Besoin exprimé")
        await federate_need(runtime, session, need, verb="Create")
    runtime.wake_delivery()
    return need


async def _open_need(session: AsyncSession, need_id: str) -> Need:
    need = await session.get(Need, need_id)
    if need is None:
        raise LookupError(need_id)
    return need


async def change_support(runtime: Runtime, account: Account, need_id: str, support: bool) -> int:
    """Add or withdraw the account's support (one per resident); returns the new count."""
    async with runtime.sessions.begin() as session:
        need = await _open_need(session, need_id)
        if need.state not in OPEN_STATES:
            raise ParticipationError(CLOSED_NEED)
        existing = (
            await session.scalars(
                select(NeedSupport).where(
                    NeedSupport.need_id == need.id, NeedSupport.account_id == account.id
                )
            )
        ).first()
        if support and existing is not None:
            raise ParticipationError(ALREADY_SUPPORTED)
        if not support and existing is None:
            raise ParticipationError(NOT_SUPPORTED)
        if support:
            session.add(NeedSupport(need_id=need.id, account_id=account.id))
        else:
            await session.delete(existing)
        try:
            await session.flush()
        except IntegrityError:  # the same resident, twice at the same moment
            raise ParticipationError(ALREADY_SUPPORTED) from None
        count = await support_count(session, need.id)
        if count and count % SUPPORT_UPDATE_STEP == 0:
            need.updated_at = utcnow()
            await federate_need(runtime, session, need)
    runtime.wake_delivery()
    return count


async def _triage(
    runtime: Runtime, session: AsyncSession, account: Account, need_id: str
) -> tuple[Need, str]:
    """The need to triage, once the account is known to be allowed; and who does it."""
    need = await _open_need(session, need_id)
    await require_facilitator(session, account, need.circle_id)
    return need, await author_name(session, account.id)


async def merge_need(runtime: Runtime, account: Account, need_id: str, into_id: str) -> Need:
    """Merge a need into another open one; its supports move there (without duplicates).
    Returns the need merged into."""
    async with runtime.sessions.begin() as session:
        need, by = await _triage(runtime, session, account, need_id)
        target = await session.get(Need, into_id) if into_id else None
        if target is None or target.id == need.id or target.state in ("merged", "answered"):
            raise ParticipationError(MERGE_TARGET, "into")
        already = select(NeedSupport.account_id).where(NeedSupport.need_id == target.id)
        moved = await session.execute(
            update(NeedSupport)
            .where(NeedSupport.need_id == need.id, NeedSupport.account_id.not_in(already))
            .values(need_id=target.id)
        )
        need.merged_into_id = target.id
        await set_need_state(runtime, session, need, NeedState.MERGED, by, target.title)
        count = moved.rowcount  # type: ignore[attr-defined]
        note = f"« {need.title} » fusionné ici ({count} soutien(s) reporté(s))"
        record_change(session, target.uri, target.state, target.state, by, note)
        target.updated_at = utcnow()
        await federate_need(runtime, session, target)
    runtime.wake_delivery()
    return target


async def answer_need(runtime: Runtime, account: Account, need_id: str, answer: str) -> Need:
    """Answer a need and close it; the answer (required by the form) is published with it."""
    async with runtime.sessions.begin() as session:
        need, by = await _triage(runtime, session, account, need_id)
        need.answer = answer
        await set_need_state(runtime, session, need, NeedState.ANSWERED, by, answer)
    runtime.wake_delivery()
    return need


async def assign_need(runtime: Runtime, account: Account, need_id: str, circle_id: str) -> Need:
    """Assign a need to a circle that will work on it."""
    async with runtime.sessions.begin() as session:
        need, by = await _triage(runtime, session, account, need_id)
        circle = await session.get(Circle, circle_id) if circle_id else None
        if circle is None:
            raise ParticipationError(UNKNOWN_CIRCLE, "circle")
        need.circle_id = circle.id
        await set_need_state(runtime, session, need, NeedState.IN_CIRCLE, by, circle.name)
    runtime.wake_delivery()
    return need


async def post_comment(
    runtime: Runtime,
    session: AsyncSession,
    account: Account,
    object_uri: str,
    text: str,
    *,
    also_to: Sequence[str] = (),
    page_url: str | None = None,
) -> Note:
    """A resident's comment on an object (ours, or another node's listed here): a Note by
    their Person actor, `inReplyTo` the object, sent to the territory's followers and to the
    actors `also_to` (the object's publisher, the territories an offer is addressed to).
    With `page_url`, the Note's link points at its place on that page."""
    config = runtime.config
    person = await session.get(LocalActor, account.actor_id) if account.actor_id else None
    if person is None:
        raise ParticipationError(NO_PROFILE)
    author = actor_id(config, person)
    await check_posting(runtime, session, "comment", account, author)
    territory = actor_id(config, await territory_actor(session))
    to, cc = [PUBLIC], [f"{territory}/followers", territory, *also_to]
    identifier = new_id()
    uri = f"{config.node.base_url}/notes/{identifier}"
    note = Note(
        id=identifier,
        uri=uri,
        local=True,
        author_uri=author,
        url=f"{page_url}#reply-{identifier}" if page_url else uri,
        content=text_to_html(text),
        language=config.territory.default_language,
        visibility="public",
        in_reply_to=object_uri,
        to=json.dumps(to),
        cc=json.dumps(cc),
        mentions="[]",
        published=utcnow(),
    )
    session.add(note)
    await session.flush()
    create = make_activity(
        config,
        "Create",
        author,
        strip_context(note_to_as(config, note)),
        to=to,
        cc=cc,
        published=iso(note.published),
    )
    recipients = [*also_to, *await follower_uris(session, territory)]
    await publish(session, person.id, author, create, to_followers=True, recipients=recipients)
    return note


async def comment_need(runtime: Runtime, account: Account, need_id: str, text: str) -> Note:
    """A resident comments on a need."""
    async with runtime.sessions.begin() as session:
        need = await _open_need(session, need_id)
        note = await post_comment(runtime, session, account, need.uri, text)
    runtime.wake_delivery()
    return note


async def need_as(runtime: Runtime, need_id: str) -> dict[str, Any] | None:
    """The ActivityPub document served at a need's URL, or None when there is no such need."""
    async with runtime.sessions() as session:
        need = await session.get(Need, need_id)
        return await need_document(runtime, session, need) if need else None
