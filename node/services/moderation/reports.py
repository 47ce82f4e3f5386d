"""Reports: residents report a local item, comment or account, or a remote post or account;
other servers' reports arrive as `Flag`; a report about a remote account can be forwarded to
its server as a `Flag` from our instance actor. All of them land in one queue.

Mastodon's Flag (docs spec/activitypub#Flag, app/lib/activitypub/activity/flag.rb): the actor
is the reporting server's instance actor, `object` lists the reported account and statuses,
`content` is the comment (at most 5,000 characters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.inbox.worker import Outcome
from node.convert.activities import make_activity
from node.convert.urls import actor_id
from node.domain.actors import ActorKind
from node.services.federation.outbox import publish
from node.services.federation.remote_actors import LookupFailed
from node.services.moderation.journal import record_action
from node.services.moderation.targets import Target, find_target
from node.services.runtime import Runtime
from node.storage.actors import get_actor_of_kind
from node.storage.base import utcnow
from node.storage.models import Account, Report
from protocols.activitystreams import ids_of
from protocols.html import html_to_text

#: Longest comment of a resident's report; of a received Flag (Mastodon's own limit).
MAX_COMMENT = 1000
MAX_FLAG_COMMENT = 5000
#: Most URIs of a received Flag looked at (a Flag listing thousands is not read further).
MAX_FLAG_OBJECTS = 50


class ReportError(ValueError):
    """A report refused for a reason the person can act on (French)."""


async def file_report(runtime: Runtime, reporter: Account, target_uri: str, comment: str) -> Report:
    """A resident reports something this node shows; the reason is required."""
    comment = comment.strip()
    if not comment:
        raise ReportError("Dites en quelques mots ce qui pose problème.")
    if len(comment) > MAX_COMMENT:
        raise ReportError(f"Le motif compte au plus {MAX_COMMENT} caractères.")
    async with runtime.sessions.begin() as session:
        target = await find_target(session, runtime.config, target_uri)
        if target is None:
            raise ReportError("Ce contenu n'existe pas sur ce nœud.")
        if target.account_id == reporter.id and target.kind == "local_account":
            raise ReportError("Vous ne pouvez pas vous signaler vous-même.")
        already = await session.scalar(
            select(Report.id).where(
                Report.reporter_account_id == reporter.id,
                Report.target_uri == target.uri,
                Report.state == "open",
            )
        )
        if already is not None:
            raise ReportError("Vous avez déjà signalé ce contenu ; la modération l'examine.")
        report = _report_of(target, comment, origin="local")
        report.reporter_account_id = reporter.id
        session.add(report)
    return report


def _report_of(
    target: Target, comment: str, *, origin: str, uris: list[str] | None = None
) -> Report:
    return Report(
        origin=origin,
        target_uri=target.uri,
        target_kind=target.kind,
        account_uri=target.account_uri,
        uris=json.dumps(uris or [target.uri]),
        comment=comment,
    )


async def receive_flag(runtime: Runtime, activity: dict[str, Any]) -> Outcome:
    """A report from another server (the inbox worker's Flag handler): queued when it names
    something of this node, ignored otherwise. Never acted on automatically."""
    named = [uri for uri in ids_of(activity.get("object"))][:MAX_FLAG_OBJECTS]
    base = runtime.config.node.base_url + "/"
    comment = html_to_text(str(activity.get("content") or ""))[:MAX_FLAG_COMMENT]
    async with runtime.sessions.begin() as session:
        if await session.scalar(select(Report.id).where(Report.flag_activity_id == activity["id"])):
            return Outcome.ignored("report already received")
        targets = [
            target
            for uri in named
            if uri.startswith(base)
            and (target := await find_target(session, runtime.config, uri)) is not None
        ]
        if not targets:
            return Outcome.ignored("Flag names nothing of this node")
        # the most precise thing named: an item or post rather than the account
        target = next((t for t in targets if not t.kind.startswith("local_")), targets[0])
        report = _report_of(target, comment, origin="remote", uris=[t.uri for t in targets])
        report.reporter_uri = activity["actor"]
        report.flag_activity_id = activity["id"]
        session.add(report)
    return Outcome.applied(f"report about {target.kind} queued")


@dataclass(frozen=True, slots=True)
class QueuedReport:
    """A report as the queue shows it: what it is about, who made it."""

    report: Report
    target: Target | None
    reporter: str


async def list_reports(
    runtime: Runtime, *, state: str = "open", limit: int = 100
) -> list[QueuedReport]:
    """Reports in a state (open, resolved, dismissed), oldest open first, newest closed first."""
    order = Report.created_at if state == "open" else Report.closed_at.desc()
    async with runtime.sessions() as session:
        reports = list(
            await session.scalars(
                select(Report).where(Report.state == state).order_by(order).limit(limit)
            )
        )
        names = dict(
            (
                await session.execute(
                    select(Account.id, Account.username).where(
                        Account.id.in_(
                            [r.reporter_account_id for r in reports if r.reporter_account_id]
                        )
                    )
                )
            ).all()
        )
        return [
            QueuedReport(
                report,
                await find_target(session, runtime.config, report.target_uri),
                names.get(report.reporter_account_id or "", "") or report.reporter_uri or "",
            )
            for report in reports
        ]


async def get_report(sessions: async_sessionmaker[AsyncSession], report_id: str) -> Report | None:
    """One report by id."""
    async with sessions() as session:
        return await session.get(Report, report_id)


async def forward_report(runtime: Runtime, report_id: str, moderator: Account) -> str:
    """Send a report about a remote account to its server, as Mastodon does: a Flag from our
    instance actor naming the account and the reported posts, to the server's shared inbox
    (the account's inbox when it has none). Returns the account's URI."""
    report = await get_report(runtime.sessions, report_id)
    if report is None:
        raise ReportError("Ce signalement n'existe pas.")
    account_uri = report.account_uri or ""
    if not account_uri or account_uri.startswith(runtime.config.node.base_url + "/"):
        raise ReportError("Seul un signalement sur un compte d'un autre serveur se transfère.")
    try:
        await runtime.remote.get_actor(account_uri)  # its inboxes, before the transaction
    except LookupFailed as exc:
        raise ReportError(f"Le serveur du compte ne répond pas : {exc}") from None
    posts = [uri for uri in json.loads(report.uris or "[]") if uri != account_uri]
    async with runtime.sessions.begin() as session:
        instance = await get_actor_of_kind(session, ActorKind.INSTANCE)
        assert instance is not None, "initialised nodes always have an instance actor"
        instance_uri = actor_id(runtime.config, instance)
        flag = make_activity(
            runtime.config, "Flag", instance_uri, [account_uri, *posts], to=[account_uri]
        )
        flag["content"] = report.comment
        await publish(
            session,
            instance.id,
            instance_uri,
            flag,
            to_followers=False,
            recipients=[account_uri],
            shared_inboxes=True,
        )
        stored = await session.get(Report, report_id)
        assert stored is not None
        stored.forwarded_at = utcnow()
        await record_action(session, "forward", account_uri, report.comment, moderator, report_id)
    runtime.wake_delivery()
    return account_uri
