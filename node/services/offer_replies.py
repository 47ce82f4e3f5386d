"""Residents answering offers: ours, and other territories' offers listed here."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.activities import make_activity, strip_context
from node.convert.notes import note_to_as
from node.convert.objects import territory_uri
from node.convert.offers import addressed_territories
from node.convert.urls import actor_id
from node.domain.ids import new_id
from node.domain.participation import OfferState
from node.services.offers import MAX_TEXT, OfferError, clean_text, person_of
from node.services.outbox import follower_uris, publish
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Account, Note, Offer, RemoteObject
from protocols.activitystreams import PUBLIC
from protocols.html import text_to_html


def _reply_text(text: str) -> str:
    """The reply's text, checked: required and not too long."""
    text = clean_text(text).strip()
    if not text:
        raise OfferError("Ce champ est obligatoire.")
    if len(text) > MAX_TEXT:
        raise OfferError("Ce texte est trop long.")
    return text


async def _publish_reply(
    runtime: Runtime,
    session: AsyncSession,
    account: Account,
    answered: str,
    text: str,
    cc: list[str],
    url_of: str | None = None,
) -> Note:
    """A public Note by the resident's Person actor in reply to `answered`, logged for the
    territory's followers and the actors in `cc`."""
    config = runtime.config
    person = await person_of(session, account)
    author = actor_id(config, person)
    identifier = new_id()
    uri = f"{config.node.base_url}/notes/{identifier}"
    territory = territory_uri(config)
    to, cc = [PUBLIC], [f"{territory}/followers", *cc]
    reply = Note(
        id=identifier,
        uri=uri,
        local=True,
        author_uri=author,
        in_reply_to=answered,
        # Our offer's replies are read on the offer's page.
        url=f"{url_of}#reply-{identifier}" if url_of else uri,
        content=text_to_html(text),
        language=config.territory.default_language,
        visibility="public",
        to=json.dumps(to),
        cc=json.dumps(cc),
        mentions="[]",
        published=utcnow(),
    )
    session.add(reply)
    await session.flush()
    create = make_activity(
        config, "Create", author, strip_context(note_to_as(config, reply)), to=to, cc=cc
    )
    recipients = [*cc[1:], *await follower_uris(session, territory)]
    await publish(session, person.id, author, create, to_followers=True, recipients=recipients)
    return reply


async def reply_to_offer(runtime: Runtime, account: Account, offer_id: str, text: str) -> Note:
    """A resident answers one of our offers; the addressed territories receive it too."""
    text = _reply_text(text)
    async with runtime.sessions.begin() as session:
        offer = await session.get(Offer, offer_id)
        if offer is None:
            raise OfferError("Cette offre n'existe pas.")
        if offer.state == OfferState.CLOSED:
            raise OfferError("Cette offre est fermée : elle ne reçoit plus de réponses.")
        cc = [territory_uri(runtime.config), *addressed_territories(offer)]
        reply = await _publish_reply(runtime, session, account, offer.uri, text, cc, offer.uri)
    runtime.wake_delivery()
    return reply


async def reply_to_remote_offer(runtime: Runtime, account: Account, uri: str, text: str) -> Note:
    """A resident answers another territory's open offer listed here; its publisher gets it."""
    text = _reply_text(text)
    async with runtime.sessions.begin() as session:
        offer = (
            await session.scalars(
                select(RemoteObject).where(
                    RemoteObject.uri == uri,
                    RemoteObject.kind == "vf:Proposal",
                    RemoteObject.deleted.is_(False),
                )
            )
        ).first()
        if offer is None or offer.state in (OfferState.CLOSED, OfferState.TAKEN):
            raise OfferError("Cette offre n'est plus ouverte.")
        reply = await _publish_reply(runtime, session, account, offer.uri, text, [offer.actor_uri])
    runtime.wake_delivery()
    return reply
