"""A resident's own data, to download (their rights of access and portability).

`own_data` gathers what the node holds about one account and what it did: the account and
its public profile, circle memberships, needs, supports, comments, replies to offers,
proposals, amendments, votes, answers to other territories' decisions and offers. The
download is a JSON file; `own_data_zip` also gives it as one CSV file per section (UTF-8,
header row, cells a spreadsheet cannot run as formulas), with the JSON inside.

Every section and field is documented in own_data_sections.SECTIONS (French, as the page
shows it; the page translates): the JSON file and the CSV files use these names. Moments
are ISO 8601 in UTC.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.convert.notes import iso
from node.convert.urls import actor_id, handle_of
from node.services.accounts.own_data_sections import SECTIONS, SINGLE
from node.services.open_data.formats import csv_text
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Amendment,
    Circle,
    CircleMember,
    Decision,
    LocalActor,
    Need,
    NeedSupport,
    Note,
    Offer,
    Proposal,
    RemoteObject,
    RemoteVote,
    Vote,
)
from protocols.html import html_to_text

#: Format name and version written in the file, so that a later version can read it.
FORMAT = "maillage-own-data"
VERSION = 1


def _value(value: Any) -> Any:
    """A value as JSON writes it: moments in ISO 8601 UTC, days as YYYY-MM-DD."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _record(**fields: Any) -> dict[str, Any]:
    return {name: _value(value) for name, value in fields.items()}


async def own_data(
    sessions: async_sessionmaker[AsyncSession], config: InstanceConfig, account_id: str
) -> dict[str, Any]:
    """Everything the node holds about the account and what it did, as one JSON-ready
    document with the sections of SECTIONS (LookupError when there is no such account)."""
    async with sessions() as session:
        account = await session.get(Account, account_id)
        if account is None or account.deleted_at is not None:
            raise LookupError(account_id)
        person = await session.get(LocalActor, account.actor_id) if account.actor_id else None
        person_uri = actor_id(config, person) if person is not None else None
        comments = await _notes(session, person_uri)
        offer_uris = await _offer_uris(session, [c["in_reply_to"] for c in comments])
        document: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "node": config.node.base_url,
            "exported_at": iso(utcnow()),
            "account": _record(
                username=account.username,
                display_name=person.display_name if person else account.username,
                role=account.role,
                created_at=account.created_at,
                last_seen_at=account.last_seen_at,
            ),
            "profile": _profile(config, person),
            "circles": await _circles(session, account.id),
            "needs": await _needs(session, account.id),
            "supports": await _supports(session, account.id),
            "comments": [c for c in comments if c["in_reply_to"] not in offer_uris],
            "offer_replies": [c for c in comments if c["in_reply_to"] in offer_uris],
            "proposals": await _proposals(session, account.id),
            "amendments": await _amendments(session, account.id),
            "votes": await _votes(session, account.id),
            "remote_answers": await _remote_answers(session, account.id),
            "offers": await _offers(session, account.id),
        }
    return document


def _profile(config: InstanceConfig, person: LocalActor | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return _record(
        actor=actor_id(config, person),
        handle=handle_of(config, person),
        display_name=person.display_name,
        summary=person.summary,
        created_at=person.created_at,
    )


async def _circles(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(CircleMember, Circle)
        .join(Circle, Circle.id == CircleMember.circle_id)
        .where(CircleMember.account_id == account_id)
        .order_by(CircleMember.since)
    )
    return [
        _record(circle=circle.name, slug=circle.slug, role=member.role, since=member.since)
        for member, circle in rows
    ]


async def _needs(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    needs = await session.scalars(
        select(Need).where(Need.author_id == account_id).order_by(Need.created_at)
    )
    return [
        _record(
            url=need.uri,
            title=need.title,
            text=need.text,
            theme=need.theme,
            place=need.place,
            state=need.state,
            answer=need.answer,
            created_at=need.created_at,
            updated_at=need.updated_at,
        )
        for need in needs
    ]


async def _supports(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(NeedSupport.created_at, Need.uri, Need.title)
        .join(Need, Need.id == NeedSupport.need_id)
        .where(NeedSupport.account_id == account_id)
        .order_by(NeedSupport.created_at)
    )
    return [_record(need=uri, need_title=title, created_at=at) for at, uri, title in rows]


async def _notes(session: AsyncSession, person_uri: str | None) -> list[dict[str, Any]]:
    """The local Notes the person wrote (comments and replies), deleted ones left out."""
    if person_uri is None:
        return []
    notes = await session.scalars(
        select(Note)
        .where(Note.local, Note.author_uri == person_uri, Note.deleted_at.is_(None))
        .order_by(Note.published)
    )
    return [
        _record(
            url=note.url or note.uri,
            in_reply_to=note.in_reply_to,
            text=html_to_text(note.content),
            published=note.published,
        )
        for note in notes
    ]


async def _offer_uris(session: AsyncSession, uris: Sequence[str | None]) -> set[str]:
    """Which of these objects are offers: ours, or other territories' (vf:Proposal)."""
    wanted = [uri for uri in set(uris) if uri]
    if not wanted:
        return set()
    local = await session.scalars(select(Offer.uri).where(Offer.uri.in_(wanted)))
    remote = await session.scalars(
        select(RemoteObject.uri).where(
            RemoteObject.uri.in_(wanted), RemoteObject.kind == "vf:Proposal"
        )
    )
    return set(local) | set(remote)


async def _proposals(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Proposal, Circle.name)
        .join(Circle, Circle.id == Proposal.circle_id)
        .where(Proposal.author_id == account_id)
        .order_by(Proposal.created_at)
    )
    return [
        _record(
            url=proposal.uri,
            circle=circle,
            title=proposal.title,
            summary=proposal.summary,
            text=proposal.text,
            theme=proposal.theme,
            state=proposal.state,
            created_at=proposal.created_at,
            updated_at=proposal.updated_at,
        )
        for proposal, circle in rows
    ]


async def _amendments(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Amendment, Proposal.uri, Proposal.title)
        .join(Proposal, Proposal.id == Amendment.proposal_id)
        .where(Amendment.author_id == account_id)
        .order_by(Amendment.created_at)
    )
    return [
        _record(
            url=amendment.uri,
            proposal=uri,
            proposal_title=title,
            text=amendment.text,
            rationale=amendment.rationale,
            state=amendment.state,
            created_at=amendment.created_at,
            decided_at=amendment.decided_at,
        )
        for amendment, uri, title in rows
    ]


async def _votes(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Vote, Decision.uri, Decision.question)
        .join(Decision, Decision.id == Vote.decision_id)
        .where(Vote.account_id == account_id)
        .order_by(Vote.cast_at)
    )
    return [
        _record(
            decision=uri, question=question, choice=v.choice, comment=v.comment, cast_at=v.cast_at
        )
        for v, uri, question in rows
    ]


async def _remote_answers(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(RemoteVote, RemoteObject.name)
        .outerjoin(RemoteObject, RemoteObject.uri == RemoteVote.question_uri)
        .where(RemoteVote.account_id == account_id)
        .order_by(RemoteVote.answered_at)
    )
    return [
        _record(
            question=answer.question_uri,
            question_title=title or "",
            choice=answer.choice,
            answered_at=answer.answered_at,
        )
        for answer, title in rows
    ]


async def _offers(session: AsyncSession, account_id: str) -> list[dict[str, Any]]:
    offers = await session.scalars(
        select(Offer).where(Offer.author_id == account_id).order_by(Offer.created_at)
    )
    return [
        _record(
            url=offer.uri,
            purpose=offer.purpose,
            kind=offer.kind,
            title=offer.title,
            text=offer.text,
            quantity=offer.quantity,
            minimum_quantity=offer.minimum_quantity,
            unit=offer.unit,
            available_from=offer.available_from,
            available_until=offer.available_until,
            place=offer.place,
            state=offer.state,
            created_at=offer.created_at,
            updated_at=offer.updated_at,
        )
        for offer in offers
    ]


def own_data_json(document: dict[str, Any]) -> bytes:
    """The JSON file: UTF-8, indented so that it reads in a text editor."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def own_data_zip(document: dict[str, Any]) -> bytes:
    """The same data as a zip of CSV files, one per section (a one-row file for the account
    and the profile), with the JSON file beside them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mes-donnees.json", own_data_json(document))
        for section in SECTIONS:
            value = document.get(section.name)
            rows = [value] if section.name in SINGLE else value
            archive.writestr(f"{section.name}.csv", csv_text(section.columns, rows or []))
    return buffer.getvalue()
