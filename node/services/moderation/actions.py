"""What facilitators and admins do from the moderation queue: close reports; hide an item or
comment (its reason shown in its place); warn or suspend a resident; limit (silence) or
suspend a remote account. Each action is journalled; taken from a report, it resolves it."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.ports import DomainSeverity
from node.domain.actors import Role
from node.services.moderation.journal import record_action
from node.services.moderation.targets import HIDEABLE, account_of_actor, find_target
from node.services.moderation.visibility import active_suspension
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    AccountSanction,
    HiddenContent,
    RemoteActor,
    RemoteActorSanction,
    Report,
    WebSession,
)
from node.storage.moderation import remove_actor_content

MAX_REASON = 1000


class ModerationError(ValueError):
    """An action refused for a reason the moderator can act on (French)."""


def _reason(reason: str, *, required: bool = True) -> str:
    reason = " ".join(reason.split())
    if required and not reason:
        raise ModerationError(
            "Donnez la raison : elle est montrée à la place du contenu ou à la personne."
        )
    if len(reason) > MAX_REASON:
        raise ModerationError(f"La raison compte au plus {MAX_REASON} caractères.")
    return reason


async def _settle(
    session: AsyncSession, report_id: str | None, state: str, moderator: Account
) -> None:
    """Close the report an action was taken from (if any and still open)."""
    if not report_id:
        return
    report = await session.get(Report, report_id)
    if report is None:
        raise ModerationError("Ce signalement n'existe pas.")
    if report.state == "open":
        report.state, report.closed_at, report.closed_by_account_id = state, utcnow(), moderator.id


async def close_report(
    runtime: Runtime, report_id: str, moderator: Account, *, resolve: bool
) -> None:
    """Mark a report resolved (something was done) or dismissed (nothing to do)."""
    kind = "resolve" if resolve else "dismiss"
    async with runtime.sessions.begin() as session:
        report = await session.get(Report, report_id)
        if report is None:
            raise ModerationError("Ce signalement n'existe pas.")
        if report.state != "open":
            raise ModerationError("Ce signalement est déjà traité.")
        await _settle(session, report_id, "resolved" if resolve else "dismissed", moderator)
        await record_action(session, kind, report.target_uri, "", moderator, report_id)


async def hide_content(
    runtime: Runtime, uri: str, reason: str, moderator: Account, report_id: str | None = None
) -> None:
    """Hide an item or comment: everyone sees "Masqué par la modération : <reason>" instead."""
    reason = _reason(reason)
    async with runtime.sessions.begin() as session:
        target = await find_target(session, runtime.config, uri)
        if target is None or target.kind not in HIDEABLE:
            raise ModerationError(
                "Seuls un élément, un commentaire ou une publication se masquent."
            )
        hidden = await session.get(HiddenContent, target.uri)
        if hidden is None:
            session.add(
                HiddenContent(uri=target.uri, reason=reason, hidden_by_account_id=moderator.id)
            )
        else:
            hidden.reason, hidden.hidden_at = reason, utcnow()
        await _settle(session, report_id, "resolved", moderator)
        await record_action(session, "hide", target.uri, reason, moderator, report_id)


async def unhide_content(runtime: Runtime, uri: str, moderator: Account) -> None:
    """Show a hidden item or comment again."""
    async with runtime.sessions.begin() as session:
        removed = await session.execute(delete(HiddenContent).where(HiddenContent.uri == uri))
        if not removed.rowcount:  # type: ignore[attr-defined]
            raise ModerationError("Ce contenu n'est pas masqué.")
        await record_action(session, "unhide", uri, "", moderator)


async def _resident(session: AsyncSession, runtime: Runtime, who: str) -> Account:
    """The account a moderator names: its username, or its Person actor's URI."""
    who = who.strip()
    account = await account_of_actor(session, runtime.config, who)
    if account is None:
        account = (
            await session.scalars(select(Account).where(Account.username == who.lstrip("@")))
        ).first()
    if account is None:
        raise ModerationError(f"Aucun compte « {who[:60]} » sur ce nœud.")
    return account


def _may_sanction(moderator: Account, account: Account) -> None:
    if account.id == moderator.id:
        raise ModerationError("On ne se sanctionne pas soi-même.")
    if account.role == Role.ADMIN and moderator.role != Role.ADMIN:
        raise ModerationError("Seul un administrateur peut sanctionner un administrateur.")


async def warn_resident(
    runtime: Runtime, who: str, reason: str, moderator: Account, report_id: str | None = None
) -> Account:
    """Warn a resident: the reason shows on their profile page."""
    reason = _reason(reason)
    async with runtime.sessions.begin() as session:
        account = await _resident(session, runtime, who)
        _may_sanction(moderator, account)
        session.add(AccountSanction(account_id=account.id, kind="warning", reason=reason))
        await _settle(session, report_id, "resolved", moderator)
        await record_action(session, "warn", account.username, reason, moderator, report_id)
    return account


async def suspend_resident(
    runtime: Runtime, who: str, reason: str, moderator: Account, report_id: str | None = None
) -> Account:
    """Suspend a resident: logged out everywhere at once; logging in again says why."""
    reason = _reason(reason)
    async with runtime.sessions.begin() as session:
        account = await _resident(session, runtime, who)
        _may_sanction(moderator, account)
        if await active_suspension(session, account.id) is None:
            session.add(AccountSanction(account_id=account.id, kind="suspension", reason=reason))
        await session.execute(delete(WebSession).where(WebSession.account_id == account.id))
        await _settle(session, report_id, "resolved", moderator)
        await record_action(
            session, "suspend_account", account.username, reason, moderator, report_id
        )
    return account


async def lift_suspension(runtime: Runtime, who: str, moderator: Account) -> Account:
    """End a resident's suspension: they can log in again."""
    async with runtime.sessions.begin() as session:
        account = await _resident(session, runtime, who)
        suspension = await active_suspension(session, account.id)
        if suspension is None:
            raise ModerationError("Ce compte n'est pas suspendu.")
        suspension.lifted_at = utcnow()
        await record_action(session, "unsuspend_account", account.username, "", moderator)
    return account


async def sanction_remote_account(
    runtime: Runtime,
    actor_uri: str,
    severity: DomainSeverity,
    reason: str,
    moderator: Account,
    report_id: str | None = None,
) -> None:
    """Limit (silence: out of lists, still at its address) or suspend (its content and
    follow relations removed, nothing more received from it) a remote account."""
    reason = _reason(reason, required=False)
    if severity not in (DomainSeverity.SILENCE, DomainSeverity.SUSPEND):
        raise ModerationError("Un compte distant se limite ou se suspend.")
    actor_uri = actor_uri.strip()
    async with runtime.sessions.begin() as session:
        known = await session.scalar(select(RemoteActor.id).where(RemoteActor.uri == actor_uri))
        if known is None:
            raise ModerationError("Ce compte distant est inconnu de ce nœud.")
        sanction = await session.get(RemoteActorSanction, actor_uri)
        if sanction is None:
            sanction = RemoteActorSanction(actor_uri=actor_uri, severity=severity.value)
            session.add(sanction)
        sanction.severity, sanction.reason = severity.value, reason
        if severity is DomainSeverity.SUSPEND:
            await remove_actor_content(session, actor_uri)
        await _settle(session, report_id, "resolved", moderator)
        kind = "suspend_actor" if severity is DomainSeverity.SUSPEND else "silence_actor"
        await record_action(session, kind, actor_uri, reason, moderator, report_id)
    await runtime.moderation.refresh(runtime.sessions)


async def lift_remote_sanction(runtime: Runtime, actor_uri: str, moderator: Account) -> None:
    """End a remote account's limit or suspension (removed content does not come back)."""
    async with runtime.sessions.begin() as session:
        removed = await session.execute(
            delete(RemoteActorSanction).where(RemoteActorSanction.actor_uri == actor_uri)
        )
        if not removed.rowcount:  # type: ignore[attr-defined]
            raise ModerationError("Ce compte distant n'est ni limité ni suspendu.")
        await record_action(session, "lift_actor", actor_uri, "", moderator)
    await runtime.moderation.refresh(runtime.sessions)
