"""Residents answering offers: ours, and other territories' offers listed here."""

from __future__ import annotations

from sqlalchemy import select

from node.convert.offers import addressed_territories
from node.domain.participation import OfferState
from node.services.participation.needs import post_comment
from node.services.participation.offers import MAX_TEXT, OfferError, clean_text, person_of
from node.services.runtime import Runtime
from node.storage.models import Account, Note, Offer, RemoteObject


def _reply_text(text: str) -> str:
    """The reply's text, checked: required and not too long."""
    text = clean_text(text).strip()
    if not text:
        raise OfferError("Ce champ est obligatoire.")
    if len(text) > MAX_TEXT:
        raise OfferError("Ce texte est trop long.")
    return text


async def reply_to_offer(runtime: Runtime, account: Account, offer_id: str, text: str) -> Note:
    """A resident answers one of our offers; the addressed territories receive it too."""
    text = _reply_text(text)
    async with runtime.sessions.begin() as session:
        offer = await session.get(Offer, offer_id)
        if offer is None:
            raise OfferError("Cette offre n'existe pas.")
        if offer.state == OfferState.CLOSED:
            raise OfferError("Cette offre est fermée : elle ne reçoit plus de réponses.")
        await person_of(session, account)  # an OfferError when the account has no profile
        reply = await post_comment(
            runtime,
            session,
            account,
            offer.uri,
            text,
            also_to=addressed_territories(offer),
            page_url=offer.uri,
        )
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
        await person_of(session, account)
        reply = await post_comment(
            runtime, session, account, offer.uri, text, also_to=[offer.actor_uri]
        )
    runtime.wake_delivery()
    return reply
