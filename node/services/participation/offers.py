"""Resource offers and requests (issue item 8): residents publish them, the territory actor
federates them (Create, Update when taken or reopened, Delete when closed), residents reply,
and the listing shows our open offers with those received from other nodes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.convert.objects import territory_uri
from node.convert.offers import (
    KINDS,
    PURPOSES,
    OfferCard,
    addressed_territories,
    card_of_offer,
    card_of_remote,
    offer_to_as,
)
from node.domain.ids import new_id
from node.domain.participation import OfferState, TransitionError, check_transition
from node.services.federation.publishing import federate, federate_deletion
from node.services.limits.posting import check_posting
from node.services.participation.history import history_of, record_change
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Follow,
    LocalActor,
    Note,
    Offer,
    RemoteActor,
    RemoteObject,
    StateChange,
)

#: The last history step of an offer deleted with its author's account: the row is gone,
#: this step says its URL answers 410 (node/services/accounts/deletion.py).
OFFER_DELETED = "deleted"
#: Mastodon truncates long notes; an offer or a reply is a few paragraphs.
MAX_TEXT = 5000
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class OfferError(ValueError):
    """An offer action that cannot be done; the message (French) is shown to the person."""


class OfferForbidden(OfferError):
    """An action reserved to someone else (the offer's author)."""


@dataclass(frozen=True, slots=True)
class OfferDraft:
    """A checked offer or request form, ready to publish."""

    purpose: str
    kind: str
    title: str
    text: str
    available_from: date | None
    available_until: date | None
    place: str
    #: hours of a time-bank offer
    quantity: float | None
    #: the minimum quantity of a group purchase, in `unit`
    minimum_quantity: float | None
    unit: str
    #: neighbouring territory actors it is also addressed to
    addressed_to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A remote territory the territory follows: an offer may be addressed to it."""

    uri: str
    name: str
    handle: str


@dataclass(frozen=True, slots=True)
class OfferView:
    """An offer's page: the offer, its author, its replies and its history."""

    offer: Offer
    author_name: str
    author_account_id: str
    #: (reply, author's name), oldest first
    replies: list[tuple[Note, str]]
    history: list[StateChange]
    #: the neighbouring territories it is addressed to, by name
    addressed: list[Neighbour]


def clean_text(text: str) -> str:
    """Text without the control characters XML and ActivityPub consumers choke on."""
    return _CONTROL.sub("", text)


async def neighbour_territories(runtime: Runtime) -> list[Neighbour]:
    """The remote territories the territory follows (accepted follows of Group actors that
    are Maillage territories), by name: those an offer may also be addressed to."""
    async with runtime.sessions() as session:
        return await _neighbours(session, territory_uri(runtime.config))


async def _neighbours(session: AsyncSession, territory: str) -> list[Neighbour]:
    rows = await session.scalars(
        select(RemoteActor)
        .join(Follow, Follow.followed_uri == RemoteActor.uri)
        .where(Follow.follower_uri == territory, Follow.state == "accepted")
        .where(RemoteActor.type == "Group")
        .order_by(RemoteActor.name)
    )
    return [
        Neighbour(uri=actor.uri, name=actor.name or actor.username, handle=_handle(actor))
        for actor in rows
        if _is_territory(actor)
    ]


def _handle(actor: RemoteActor) -> str:
    return f"@{actor.username}@{actor.domain}"


def _is_territory(actor: RemoteActor) -> bool:
    """A Group that says it is a territory (tc:Territory), or says nothing more specific."""
    try:
        document = json.loads(actor.raw)
    except ValueError:
        return False
    kinds = document.get("additionalType") if isinstance(document, dict) else None
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return kinds == [None] or "tc:Territory" in kinds


async def person_of(session: AsyncSession, account: Account) -> LocalActor:
    """The account's Person actor: who offers speak for and replies are written by."""
    actor = await session.get(LocalActor, account.actor_id) if account.actor_id else None
    if actor is None:
        raise OfferError("Votre compte n'a pas de profil : demandez-en un à l'administration.")
    return actor


async def publish_offer(runtime: Runtime, account: Account, draft: OfferDraft) -> Offer:
    """Publish an offer or request: stored, recorded in its history, federated as Create to
    the territory's followers and the addressed neighbouring territories."""
    if draft.purpose not in PURPOSES or draft.kind not in KINDS:
        raise OfferError("Choisissez une des valeurs proposées.")
    async with runtime.sessions.begin() as session:
        allowed = {n.uri for n in await _neighbours(session, territory_uri(runtime.config))}
        if not set(draft.addressed_to) <= allowed:
            raise OfferError("Ce territoire ne fait pas partie des territoires suivis.")
        person = await person_of(session, account)
        await check_posting(runtime, session, "offer", account)
        now, identifier = utcnow(), new_id()
        offer = Offer(
            id=identifier,
            uri=f"{runtime.config.node.base_url}/offers/{identifier}",
            author_id=account.id,
            purpose=draft.purpose,
            kind=draft.kind,
            title=clean_text(draft.title),
            text=clean_text(draft.text),
            quantity=draft.quantity if draft.kind == "time_bank" else None,
            minimum_quantity=draft.minimum_quantity if draft.kind == "group_purchase" else None,
            unit=clean_text(draft.unit) if draft.kind == "group_purchase" else "",
            available_from=draft.available_from,
            available_until=draft.available_until,
            place=clean_text(draft.place),
            addressed_to=json.dumps(list(draft.addressed_to)),
            state=OfferState.OPEN.value,
            created_at=now,
            updated_at=now,
        )
        session.add(offer)
        record_change(session, offer.uri, None, offer.state, by=person.display_name)
        await session.flush()
        await federate(runtime, session, offer_to_as(runtime.config, offer))
    runtime.wake_delivery()
    return offer


async def _own_offer(session: AsyncSession, account: Account, offer_id: str) -> Offer:
    offer = await session.get(Offer, offer_id)
    if offer is None:
        raise OfferError("Cette offre n'existe pas.")
    if offer.author_id != account.id:
        raise OfferForbidden("Seule la personne qui a publié cette offre peut la modifier.")
    return offer


async def change_offer_state(
    runtime: Runtime, account: Account, offer_id: str, wanted: str, note: str = ""
) -> Offer:
    """The author marks the offer taken, reopens it, or closes it. Taken and reopened go out
    as Update; closed goes out as Delete (its URL then answers 410 with a Tombstone), so the
    offer leaves every node's listing."""
    try:
        target = OfferState(wanted)
    except ValueError:
        raise OfferError("Choisissez une des valeurs proposées.") from None
    async with runtime.sessions.begin() as session:
        offer = await _own_offer(session, account, offer_id)
        try:
            check_transition(OfferState(offer.state), target)
        except TransitionError:
            raise OfferError(
                "Ce changement n'est pas possible dans l'état actuel de l'offre."
            ) from None
        person = await person_of(session, account)
        before, offer.state, offer.updated_at = offer.state, target.value, utcnow()
        record_change(session, offer.uri, before, offer.state, by=person.display_name, note=note)
        await session.flush()
        if target is OfferState.CLOSED:
            await federate_deletion(
                runtime, session, offer.uri, "Note", recipients=addressed_territories(offer)
            )
        else:
            await federate(runtime, session, offer_to_as(runtime.config, offer), verb="Update")
    runtime.wake_delivery()
    return offer


async def offer_view(runtime: Runtime, offer_id: str) -> OfferView | None:
    """An offer with its author's name, public replies and history, or None."""
    async with runtime.sessions() as session:
        offer = await session.get(Offer, offer_id)
        if offer is None:
            return None
        author = await session.get(Account, offer.author_id)
        person = (
            await session.get(LocalActor, author.actor_id) if author and author.actor_id else None
        )
        replies = list(
            await session.scalars(
                select(Note)
                .where(Note.in_reply_to == offer.uri, Note.deleted_at.is_(None))
                .where(Note.visibility.in_(("public", "unlisted")))
                .order_by(Note.published)
            )
        )
        names = await _names(session, [r.author_uri for r in replies])
        neighbours = {n.uri: n for n in await _neighbours(session, territory_uri(runtime.config))}
        addressed = [
            neighbours.get(uri, Neighbour(uri=uri, name=uri, handle=""))
            for uri in addressed_territories(offer)
        ]
        history = await history_of(session, offer.uri)
    return OfferView(
        offer=offer,
        author_name=person.display_name if person else (author.username if author else ""),
        author_account_id=offer.author_id,
        replies=[(reply, names.get(reply.author_uri, reply.author_uri)) for reply in replies],
        history=history,
        addressed=addressed,
    )


async def offer_deleted_at(runtime: Runtime, offer_id: str) -> datetime | None:
    """When an offer that is no more was deleted with its author's account, or None when
    the node never had it: the difference between 410 Gone and 404."""
    uri = f"{runtime.config.node.base_url}/offers/{offer_id}"
    async with runtime.sessions() as session:
        return await session.scalar(
            select(StateChange.at).where(
                StateChange.object_uri == uri, StateChange.to_state == OFFER_DELETED
            )
        )


async def _names(session: AsyncSession, uris: list[str]) -> dict[str, str]:
    """Display names of reply authors: remote actors from the cache, local ones by handle."""
    names: dict[str, str] = {}
    remote = await session.execute(
        select(RemoteActor.uri, RemoteActor.name, RemoteActor.username, RemoteActor.domain).where(
            RemoteActor.uri.in_(uris)
        )
    )
    for uri, name, username, domain in remote:
        names[uri] = name or f"@{username}@{domain}"
    local = {uri.rsplit("/", 1)[-1]: uri for uri in uris if "/actors/" in uri and uri not in names}
    if local:
        rows = await session.execute(
            select(LocalActor.username, LocalActor.display_name).where(
                LocalActor.username.in_(local)
            )
        )
        for username, display_name in rows:
            names[local[username]] = display_name or username
    return names


async def list_offers(
    sessions: async_sessionmaker[AsyncSession],
    purpose: str = "",
    kind: str = "",
    limit: int = 200,
) -> list[OfferCard]:
    """Open offers and requests, ours and those of other Maillage nodes (not deleted, not
    taken or closed by their publisher), newest first, optionally of one purpose and kind."""
    async with sessions() as session:
        query = select(Offer).where(Offer.state == OfferState.OPEN.value)
        if purpose:
            query = query.where(Offer.purpose == purpose)
        if kind:
            query = query.where(Offer.kind == kind)
        local = [
            card_of_offer(o)
            for o in await session.scalars(query.order_by(Offer.created_at.desc()).limit(limit))
        ]
        rows = list(
            await session.scalars(
                select(RemoteObject)
                .where(RemoteObject.kind == "vf:Proposal", RemoteObject.deleted.is_(False))
                .where(RemoteObject.state.in_(("", OfferState.OPEN.value)))
                .order_by(RemoteObject.published.desc())
                .limit(limit)
            )
        )
        origins = dict(
            (
                await session.execute(
                    select(RemoteActor.uri, RemoteActor.name).where(
                        RemoteActor.uri.in_([r.actor_uri for r in rows])
                    )
                )
            ).all()
        )
    remote = [card_of_remote(row, origins.get(row.actor_uri) or "") for row in rows]
    remote = [
        card
        for card in remote
        if (not purpose or card.purpose == purpose) and (not kind or card.kind == kind)
    ]
    return sorted(local + remote, key=lambda card: card.published, reverse=True)[:limit]
