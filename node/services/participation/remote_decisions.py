"""Other territories' decisions on this node: those of the territories we follow, listed on
/decisions with their last known state (never fetched on page load), one page each, and our
residents' answers to them.

A resident answers from their own actor, as a Mastodon user answers a poll: the deciding
territory counts the answer in its separate, non-binding tally (record_external_answer
there); here we keep what the resident answered, so the pages can say it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.objects import territory_uri
from node.convert.received import raw_document
from node.convert.received_decisions import ReceivedQuestion, poll_answer, question_from_as
from node.convert.urls import actor_id
from node.domain.ids import new_id
from node.services.federation.outbox import publish
from node.services.federation.remote_actors import LookupFailed
from node.services.participation.needs import NO_PROFILE, ParticipationError
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Account, Follow, LocalActor, RemoteActor, RemoteObject, RemoteVote
from protocols.activitystreams import web_link

DECISION_KIND = "tc:Decision"
#: How many decisions of followed territories /decisions shows.
FOLLOWED_LIMIT = 50

NO_SUCH_DECISION = "Cette décision n'existe pas."
NOT_OPEN_YET = "Le vote n'est pas encore ouvert."
CLOSED = "Le vote est clos."
NOT_AN_OPTION = "Choisissez une des valeurs proposées."
UNREACHABLE = "Le territoire de cette décision ne répond pas ; réessayez plus tard."


@dataclass(frozen=True, slots=True)
class RemoteDecisionView:
    """Another territory's decision as our pages show it."""

    item: RemoteObject
    question: ReceivedQuestion
    #: the deciding territory's name
    territory: str
    #: open, scheduled or closed, at the time of the page
    state: str
    #: what the visitor answered (an option's name), if they did
    my_answer: str | None

    @property
    def link(self) -> str:
        """The decision's page on its territory's node (never a javascript: URL)."""
        return web_link(self.item.url, self.item.uri)


async def _names(session: AsyncSession, actor_uris: list[str]) -> dict[str, str]:
    rows = await session.scalars(select(RemoteActor).where(RemoteActor.uri.in_(actor_uris)))
    return {actor.uri: actor.name or actor.username for actor in rows}


async def _answers(
    session: AsyncSession, account: Account | None, question_uris: list[str]
) -> dict[str, str]:
    if account is None or not question_uris:
        return {}
    rows = await session.execute(
        select(RemoteVote.question_uri, RemoteVote.choice).where(
            RemoteVote.account_id == account.id, RemoteVote.question_uri.in_(question_uris)
        )
    )
    return {uri: choice for uri, choice in rows}


async def _views(
    session: AsyncSession, rows: list[RemoteObject], account: Account | None, now: datetime
) -> list[RemoteDecisionView]:
    names = await _names(session, [row.actor_uri for row in rows])
    answers = await _answers(session, account, [row.uri for row in rows])
    views = []
    for row in rows:
        question = question_from_as(raw_document(row))
        views.append(
            RemoteDecisionView(
                item=row,
                question=question,
                territory=names.get(row.actor_uri, row.actor_uri),
                state=question.state(now),
                my_answer=answers.get(row.uri),
            )
        )
    return views


async def followed_decisions(
    runtime: Runtime, account: Account | None, now: datetime
) -> list[RemoteDecisionView]:
    """The decisions of the territories we follow, as last received, newest first."""
    followed = select(Follow.followed_uri).where(
        Follow.follower_uri == territory_uri(runtime.config), Follow.state == "accepted"
    )
    async with runtime.sessions() as session:
        rows = list(
            await session.scalars(
                select(RemoteObject)
                .where(RemoteObject.kind == DECISION_KIND, ~RemoteObject.deleted)
                .where(RemoteObject.actor_uri.in_(followed))
                .order_by(RemoteObject.published.desc())
                .limit(FOLLOWED_LIMIT)
            )
        )
        return await _views(session, rows, account, now)


async def remote_decision(
    runtime: Runtime, remote_id: str, account: Account | None, now: datetime
) -> RemoteDecisionView | None:
    """One received decision by its id here, or None."""
    async with runtime.sessions() as session:
        row = await session.get(RemoteObject, remote_id)
        if row is None or row.kind != DECISION_KIND or row.deleted:
            return None
        return (await _views(session, [row], account, now))[0]


async def answer_remote_decision(
    runtime: Runtime, account: Account, remote_id: str, option: str, now: datetime | None = None
) -> RemoteVote:
    """A resident answers another territory's open decision: the answer goes from their own
    actor to the deciding territory (a poll answer, non-binding there) and is kept here. A
    new answer replaces the previous one; the same answer again sends nothing."""
    now = now or utcnow()
    async with runtime.sessions() as session:
        row = await session.get(RemoteObject, remote_id)
        publisher = row.actor_uri if row is not None else ""
    if row is None or row.kind != DECISION_KIND or row.deleted:
        raise ParticipationError(NO_SUCH_DECISION)
    try:  # its inbox, known since we follow it; fetched before any transaction otherwise
        await runtime.remote.get_actor(publisher)
    except LookupFailed:
        raise ParticipationError(UNREACHABLE) from None
    for attempt in (1, 2):  # a double submit may race to insert: the retry then updates
        try:
            vote = await _record_answer(runtime, account, remote_id, option, now)
        except IntegrityError:
            if attempt == 2:
                raise
        else:
            runtime.wake_delivery()
            return vote
    raise AssertionError("unreachable")


async def _record_answer(
    runtime: Runtime, account: Account, remote_id: str, option: str, now: datetime
) -> RemoteVote:
    config = runtime.config
    async with runtime.sessions.begin() as session:
        row = await session.get(RemoteObject, remote_id)
        if row is None or row.kind != DECISION_KIND or row.deleted:
            raise ParticipationError(NO_SUCH_DECISION)
        question = question_from_as(raw_document(row))
        state = question.state(now)
        if state == "scheduled":
            raise ParticipationError(NOT_OPEN_YET)
        if state == "closed":
            raise ParticipationError(CLOSED)
        if option not in question.options:
            raise ParticipationError(NOT_AN_OPTION, "choice")
        person = await session.get(LocalActor, account.actor_id) if account.actor_id else None
        if person is None:
            raise ParticipationError(NO_PROFILE)
        vote = (
            await session.scalars(
                select(RemoteVote).where(
                    RemoteVote.account_id == account.id, RemoteVote.question_uri == row.uri
                )
            )
        ).first()
        if vote is not None and vote.choice == option:
            return vote
        if vote is None:
            vote = RemoteVote(account_id=account.id, question_uri=row.uri)
            session.add(vote)
        voter = actor_id(config, person)
        create = poll_answer(config, voter, row.uri, row.actor_uri, option, new_id())
        vote.choice, vote.activity_uri, vote.answered_at = option, create["id"], now
        await session.flush()
        await publish(
            session,
            person.id,
            voter,
            create,
            to_followers=False,
            recipients=[row.actor_uri],
            shared_inboxes=False,
        )
    return vote
