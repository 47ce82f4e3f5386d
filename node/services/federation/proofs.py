"""FEP-8b32 integrity proofs on what the node publishes: every activity it logs for delivery,
and its actors' documents, carry an `eddsa-jcs-2022` proof by their actor's Ed25519 key. A
copy then proves itself wherever it travels: a coordinator's bundle can carry territories'
activities, and a node that never reached their servers can still verify them."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.ext.asyncio import AsyncSession

from node.storage.models import LocalActor
from protocols.integrity import sign_document
from protocols.keys import load_private_key


def proof_method(actor_uri: str) -> str:
    """The id of an actor's Ed25519 key, as its document lists it (assertionMethod)."""
    return f"{actor_uri}#ed25519-key"


def proof_time(moment: datetime) -> str:
    """An XML Schema dateTime in UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=512)
def _signing_key(pem: str) -> ed25519.Ed25519PrivateKey:
    key = load_private_key(pem)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError("an actor's second key must be Ed25519")
    return key


def prove(
    document: dict[str, Any], actor: LocalActor, actor_uri: str, at: datetime
) -> dict[str, Any]:
    """A copy of the document with the actor's proof."""
    return sign_document(
        document, _signing_key(actor.ed25519_private_pem), proof_method(actor_uri), proof_time(at)
    )


async def proven_activity(
    session: AsyncSession, actor_id: str, actor_uri: str, activity: dict[str, Any], at: datetime
) -> dict[str, Any]:
    """The activity with its actor's proof (as it is when the actor is not found: never)."""
    actor = await session.get(LocalActor, actor_id)
    return activity if actor is None else prove(activity, actor, actor_uri, at)
