"""A resident deletes their own account (their right to erasure), across the federation as
Mastodon does it, while the territory's decisions keep what they rest on.

What goes: their comments and replies (local Notes by their Person actor: a `Delete` each,
to the servers their `Create` reached; their pages answer 410), their offers and requests
(a `Delete` from the territory, as when an offer is closed; their pages answer 410), what
the outbox log kept of their actor's activities and of their offers (no longer served, see
`_scrub_log`), their circle memberships, their answers to other territories' decisions,
their sessions, pending reset links, their display name, presentation and login name.
Their Person actor is deleted: `{type: Delete, actor: X, object: X, to: Public}` goes to
every server that knows it (the territory's and the person's followers' servers, and every
server the person's activities were delivered to); its URL then answers 410 with a
Tombstone.

What stays: their needs, proposals and amendments, which the territory's decisions depend
on, shown as by "un·e ancien·ne résident·e" in pages, in the history and in the published
documents (an `Update` of each tells the followers); their supports and votes, still
counted, the Account row kept anonymised (role `deleted`, a random `ancien-…` login name,
a password hash no password matches) so that nothing cascades away. The Person actor row
stays too, without its name: its keys sign the last Deletes, and its handle is never given
to someone else (Mastodon keeps deleted usernames for the same reason).
"""

from __future__ import annotations

import asyncio
import json
import secrets

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.convert.activities import make_activity, strip_context
from node.convert.notes import tombstone
from node.convert.offers import addressed_territories
from node.convert.urls import actor_id
from node.domain.actors import FORMER_RESIDENT, Role
from node.services.accounts.members import ROLE_LABELS
from node.services.accounts.passwords import password_matches
from node.services.accounts.sessions import end_all_sessions
from node.services.federation.following import territory_actor
from node.services.federation.outbox import follower_uris, inboxes_for
from node.services.federation.publishing import federate, federate_deletion
from node.services.participation.history import record_change
from node.services.participation.needs import federate_need
from node.services.participation.offers import OFFER_DELETED
from node.services.participation.proposals import amendment_document, federate_proposal
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import (
    AccessLink,
    Account,
    Amendment,
    CircleMember,
    Follow,
    LocalActor,
    Need,
    Note,
    Offer,
    OutboxEntry,
    OutboxTarget,
    Proposal,
    RemoteVote,
    StateChange,
    Vote,
)
from node.storage.outbox import append_to_outbox
from protocols.activitystreams import PUBLIC, host_of

NOT_CONFIRMED = "Mot de passe incorrect : votre compte n'a pas été supprimé."
LAST_ADMIN = "Vous êtes le dernier administrateur : nommez-en un autre avant de partir."
ALREADY_DELETED = "Ce compte est déjà supprimé."
#: Prefix of the login name a deleted account gets (never a valid handle to log in with).
FORMER_HANDLE = "ancien-"
#: A password hash that no password verifies (argon2 refuses it as malformed).
UNUSABLE_HASH = "!deleted"


class DeletionRefused(ValueError):
    """The account cannot be deleted now; the message (French) says why and what to do."""


async def delete_account(
    runtime: Runtime, account_id: str, password: str, address: str = ""
) -> None:
    """Delete the account after checking its password (see the module's docstring for what
    goes and what stays); the activities are logged in the same transaction, then sent.
    The check goes through the login limits, as a login from `address` would (a stolen
    session must not make it a way to guess the password)."""
    async with runtime.sessions() as session:
        account = await session.get(Account, account_id)
        if account is None or account.deleted_at is not None:
            raise DeletionRefused(ALREADY_DELETED)
        stored_hash, username = account.password_hash, account.username
    await runtime.login_limits.check(username, address)
    if not await asyncio.to_thread(password_matches, stored_hash, password):  # argon2: off the loop
        await runtime.login_limits.failed(username, address)
        raise DeletionRefused(NOT_CONFIRMED)
    await runtime.login_limits.succeeded(username)
    async with runtime.sessions.begin() as session:
        account = await session.get(Account, account_id, with_for_update=True)
        if account is None or account.deleted_at is not None:
            raise DeletionRefused(ALREADY_DELETED)
        if await _only_admin(session, account):  # the node always keeps one admin
            raise DeletionRefused(LAST_ADMIN)
        person = await session.get(LocalActor, account.actor_id) if account.actor_id else None
        names = _names_of(account, person)
        offers = list(await session.scalars(select(Offer).where(Offer.author_id == account.id)))
        await _scrub_log(session, person, [offer.uri for offer in offers])
        if person is not None:
            await _delete_notes(runtime, session, person)
        await _delete_offers(runtime, session, offers)
        await _forget_names(session, names)
        await _forget_personal_rows(session, account)
        _anonymise(account)
        await session.flush()
        await _republish_authored(runtime, session, account)
        if person is not None:
            await _delete_actor(runtime, session, person)
    runtime.wake_delivery()


async def is_last_admin(sessions: async_sessionmaker[AsyncSession], account_id: str) -> bool:
    """Whether the account is the node's only admin (who cannot delete their account)."""
    async with sessions() as session:
        account = await session.get(Account, account_id)
        return account is not None and await _only_admin(session, account)


async def _only_admin(session: AsyncSession, account: Account) -> bool:
    if account.role != Role.ADMIN:
        return False
    admins = await session.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.role == Role.ADMIN, Account.deleted_at.is_(None))
    )
    return (admins or 0) <= 1


def _names_of(account: Account, person: LocalActor | None) -> set[str]:
    """Every way the account signed history steps: its name, alone or with a role."""
    names = {account.username}
    if person is not None and person.display_name:
        names.add(person.display_name)
    return names | {f"{name} ({label})" for name in names for label in ROLE_LABELS.values()}


async def _delete_notes(runtime: Runtime, session: AsyncSession, person: LocalActor) -> None:
    """Each comment or reply of the person: emptied, and a Delete to where its Create went
    (those servers have the person's key to check it; others never saw the comment)."""
    config = runtime.config
    author = actor_id(config, person)
    mine = (Note.local, Note.author_uri == author, Note.deleted_at.is_(None))
    reached: dict[str, list[str]] = {}
    for uri, inbox in await session.execute(
        select(Note.uri, OutboxTarget.inbox)
        .join(OutboxEntry, OutboxEntry.object_id == Note.uri)
        .join(OutboxTarget, OutboxTarget.seq == OutboxEntry.seq)
        .where(*mine)
        .distinct()
    ):
        reached.setdefault(uri, []).append(inbox)
    now = utcnow()
    for note in list(await session.scalars(select(Note).where(*mine))):
        note.deleted_at, note.content, note.summary = now, "", ""
        activity = make_activity(
            config, "Delete", author, strip_context(tombstone(note.uri, "Note", now)), to=[PUBLIC]
        )
        await append_to_outbox(session, activity, person.id, reached.get(note.uri, []), public=True)


async def _scrub_log(
    session: AsyncSession, person: LocalActor | None, offer_uris: list[str]
) -> None:
    """What the outbox log already holds of the person (everything their actor sent: the
    comments, the profile) and of their offers no longer serves at /activities/… nor in the
    outbox collections: the object each activity carried becomes a Tombstone, and the entry
    is no longer public. An entry still waiting for a server is superseded by the Delete
    that follows, so it is never sent."""
    whose = [OutboxEntry.object_id.in_(offer_uris)] if offer_uris else []
    if person is not None:
        whose.append(OutboxEntry.actor_id == person.id)
    if not whose:
        return
    entries = await session.execute(
        select(OutboxEntry.seq, OutboxEntry.body, OutboxEntry.object_id).where(or_(*whose))
    )
    now = utcnow()
    for seq, body, object_id in list(entries):
        activity = json.loads(body)
        activity["object"] = strip_context(tombstone(object_id or "", "Object", now))
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.seq == seq)
            .values(body=json.dumps(activity, ensure_ascii=False), public=False)
        )


async def _delete_offers(runtime: Runtime, session: AsyncSession, offers: list[Offer]) -> None:
    """Each offer or request of the account: a Delete from the territory unless it was
    already closed (and so deleted on the network), then the row goes; one history step
    stays, so that its URL answers 410."""
    for offer in offers:
        if offer.state != "closed":
            await federate_deletion(
                runtime, session, offer.uri, "Note", recipients=addressed_territories(offer)
            )
        await session.execute(delete(StateChange).where(StateChange.object_uri == offer.uri))
        record_change(session, offer.uri, offer.state, OFFER_DELETED, FORMER_RESIDENT)
        await session.delete(offer)


async def _forget_names(session: AsyncSession, names: set[str]) -> None:
    """History steps signed by the account, or naming it, now say "a former resident"."""
    await session.execute(
        update(StateChange).where(StateChange.by.in_(names)).values(by=FORMER_RESIDENT)
    )
    await session.execute(
        update(StateChange).where(StateChange.note.in_(names)).values(note=FORMER_RESIDENT)
    )


async def _forget_personal_rows(session: AsyncSession, account: Account) -> None:
    """What only concerned the person: circle memberships, answers to other territories,
    sessions, unused reset links, the reasons written with their votes (not shown, and not
    needed to count them)."""
    await session.execute(delete(CircleMember).where(CircleMember.account_id == account.id))
    await session.execute(delete(RemoteVote).where(RemoteVote.account_id == account.id))
    await session.execute(
        delete(AccessLink).where(AccessLink.account_id == account.id, AccessLink.used_at.is_(None))
    )
    await session.execute(update(Vote).where(Vote.account_id == account.id).values(comment=""))
    await end_all_sessions(session, account.id)


def _anonymise(account: Account) -> None:
    """The row stays (votes and supports point to it) without anything personal; it can
    never log in again."""
    account.username = FORMER_HANDLE + secrets.token_hex(6)
    account.password_hash = UNUSABLE_HASH
    account.role = Role.DELETED
    account.must_change_password = False
    account.last_seen_at = None
    account.deleted_at = utcnow()


async def _republish_authored(runtime: Runtime, session: AsyncSession, account: Account) -> None:
    """An Update of each need, proposal and amendment of the account: their documents now
    say that their author is a former resident."""
    for need in list(await session.scalars(select(Need).where(Need.author_id == account.id))):
        await federate_need(runtime, session, need)
    proposals = await session.scalars(select(Proposal).where(Proposal.author_id == account.id))
    for proposal in list(proposals):
        await federate_proposal(runtime, session, proposal)
    amendments = await session.scalars(select(Amendment).where(Amendment.author_id == account.id))
    for amendment in list(amendments):
        document = await amendment_document(runtime, session, amendment)
        await federate(runtime, session, document, verb="Update")


async def _delete_actor(runtime: Runtime, session: AsyncSession, person: LocalActor) -> None:
    """Delete the Person actor everywhere it is known, then forget its follows."""
    config = runtime.config
    uri = actor_id(config, person)
    person.display_name, person.summary = FORMER_RESIDENT, ""
    person.discoverable = person.indexable = False
    person.deleted_at = utcnow()
    activity = make_activity(config, "Delete", uri, uri, to=[PUBLIC])
    inboxes = await _servers_knowing(runtime, session, person, uri)
    await append_to_outbox(session, activity, person.id, inboxes, public=True)
    await session.execute(
        delete(Follow).where(or_(Follow.follower_uri == uri, Follow.followed_uri == uri))
    )


async def _servers_knowing(
    runtime: Runtime, session: AsyncSession, person: LocalActor, uri: str
) -> list[str]:
    """One inbox per server that knows the actor: the territory's and the person's
    followers' (shared inboxes preferred), and every inbox the person's activities went to."""
    territory = actor_id(runtime.config, await territory_actor(session))
    followers = await follower_uris(session, territory) + await follower_uris(session, uri)
    reached = await session.scalars(
        select(OutboxTarget.inbox)
        .join(OutboxEntry, OutboxEntry.seq == OutboxTarget.seq)
        .where(OutboxEntry.actor_id == person.id)
        .distinct()
    )
    by_host: dict[str, str] = {}
    for inbox in [*await inboxes_for(session, followers, shared=True), *reached]:
        by_host.setdefault(host_of(inbox), inbox)
    return list(by_host.values())
