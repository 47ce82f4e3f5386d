"""The sample's people and circles: each resident is invited by the admin and joins through
the invitation (random password, never shown), presents themself, then circles are created
and given their members and roles."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.convert.urls import actor_id
from node.demo.context import Demo
from node.demo.model import CircleSample, Person
from node.services.accounts.invitations import INVITE_LIFETIME, issue_invite, join
from node.services.accounts.members import HANDLE_MAX_LENGTH, handle_taken, update_profile
from node.services.accounts.sessions import log_out
from node.services.participation.circles import create_circle, set_member
from node.storage.models import AccessLink, Account, Circle, CircleMember, LocalActor

#: When the sample residents were last seen, in days before the demo (cycled through).
_LAST_SEEN_DAYS = (0.2, 1.5, 3, 0.6, 9, 2, 27, 5, 0.9, 14, 4, 1, 40, 6)


async def free_handle(sessions: async_sessionmaker[AsyncSession], wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`... when already taken (a second demo)."""
    async with sessions() as session:
        candidate, number = wanted, 1
        while await handle_taken(session, candidate):
            number += 1
            suffix = f"-{number}"
            candidate = wanted[: HANDLE_MAX_LENGTH - len(suffix)] + suffix
        return candidate


async def add_people(demo: Demo, people: tuple[Person, ...]) -> None:
    """Invite and welcome every sample resident, earliest first."""
    runtime = demo.runtime
    for index, person in enumerate(sorted(people, key=lambda p: -p.joined_days_ago)):
        joined = demo.at(person.joined_days_ago)
        handle = await free_handle(runtime.sessions, person.handle)
        invitation = {"role": person.role, "note": person.invited_as}
        link = await issue_invite(runtime.sessions, runtime.config, demo.admin, invitation)
        password = secrets.token_urlsafe(18)
        form = {
            "username": handle,
            "display_name": person.name,
            "password": password,
            "repeat": password,
        }
        cookie, account = await join(runtime.sessions, link.url.rsplit("/", 1)[-1], form)
        await log_out(runtime.sessions, cookie)
        if person.summary:
            profile = {"display_name": person.name, "summary": person.summary}
            await update_profile(runtime, account, profile)
        demo.accounts[person.key], demo.joined[person.key] = account, joined
        demo.keep("people", account.id)
        await _backdate_arrival(demo, account, joined, person.invited_as, index)


async def _backdate_arrival(
    demo: Demo, account: Account, when: datetime, note: str, index: int
) -> None:
    """The invitation two days before joining, the account and profile from that day."""
    invited = when - timedelta(days=2)
    last_seen = demo.at(_LAST_SEEN_DAYS[index % len(_LAST_SEEN_DAYS)])
    await demo.backdate.rows(
        AccessLink,
        [
            AccessLink.kind == "invite",
            AccessLink.note == note,
            AccessLink.created_by == demo.admin.id,
            AccessLink.used_at >= demo.clock.now,
        ],
        created_at=invited,
        expires_at=invited + INVITE_LIFETIME,
        used_at=when,
    )
    await demo.backdate.rows(
        Account, [Account.id == account.id], created_at=when, last_seen_at=last_seen
    )
    await demo.backdate.rows(
        LocalActor, [LocalActor.id == account.actor_id], created_at=when, updated_at=when
    )


async def add_circles(demo: Demo, circles: tuple[CircleSample, ...]) -> None:
    """Create each circle by its facilitator, then give it its members and their roles."""
    runtime = demo.runtime
    for sample in circles:
        created = demo.at(sample.days_ago)
        creator = demo.person(sample.created_by, created)
        slug = await free_handle(runtime.sessions, sample.slug)
        form = {"name": sample.name, "kind": sample.kind, "mandate": sample.mandate, "slug": slug}
        circle = await create_circle(runtime, creator, form)
        demo.circles[sample.key] = circle
        demo.keep("circles", circle.id)
        async with runtime.sessions() as session:
            actor = await session.get(LocalActor, circle.actor_id)
        assert actor is not None
        uri = actor_id(runtime.config, actor)
        await demo.backdate.rows(Circle, [Circle.id == circle.id], created_at=created)
        await demo.backdate.history(created, [uri])
        await demo.backdate.rows(
            LocalActor, [LocalActor.id == actor.id], created_at=created, updated_at=created
        )
        for membership in sample.members:
            since = demo.at(membership.days_ago)
            member = demo.person(membership.person, since)
            await set_member(
                runtime, creator, slug, {"username": member.username, "role": membership.role}
            )
            await demo.backdate.history(since, [uri])
            await demo.backdate.rows(
                CircleMember,
                [CircleMember.circle_id == circle.id, CircleMember.account_id == member.id],
                since=since,
            )
            demo.counts["circle members"] += 1


async def first_admin(sessions: async_sessionmaker[AsyncSession]) -> Account | None:
    """The node's first admin account (the one `init` or the first `serve` created)."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Account).where(Account.role == "admin").order_by(Account.created_at).limit(1)
        )
        return rows.first()
