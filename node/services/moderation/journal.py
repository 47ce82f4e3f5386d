"""The journal of moderators' actions, and its monthly counts for the public page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.storage.models import Account, ModerationAction

#: How each kind of action is counted on the public page.
PUBLIC_GROUPS = {
    "hide": "hidden",
    "warn": "warnings",
    "suspend_account": "suspensions",
    "silence_actor": "limits",
    "suspend_actor": "suspensions",
    "block_domain": "domain_blocks",
    "resolve": "reports",
    "dismiss": "reports",
}
#: How many months the public page goes back.
MONTHS_SHOWN = 12


async def record_action(
    session: AsyncSession,
    kind: str,
    target: str,
    reason: str,
    moderator: Account | None,
    report_id: str | None = None,
) -> ModerationAction:
    """Note what a moderator did, in the caller's transaction."""
    action = ModerationAction(
        kind=kind,
        target=target[:2048],
        reason=reason,
        moderator_account_id=moderator.id if moderator else None,
        report_id=report_id,
    )
    session.add(action)
    return action


@dataclass(frozen=True, slots=True)
class MonthCount:
    """The actions of one month (YYYY-MM on the territory's clock), by public group."""

    month: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every counted action of the month."""
        return sum(self.counts.values())


async def monthly_counts(
    sessions: async_sessionmaker[AsyncSession], zone: tzinfo, since: datetime
) -> list[MonthCount]:
    """Actions per month since `since`, newest month first, by public group (lifting a
    sanction is not counted: it undoes one)."""
    async with sessions() as session:
        rows = await session.execute(
            select(ModerationAction.kind, ModerationAction.created_at).where(
                ModerationAction.created_at >= since,
                ModerationAction.kind.in_(list(PUBLIC_GROUPS)),
            )
        )
        per_month: dict[str, Counter[str]] = {}
        for kind, at in rows:
            month = at.astimezone(zone).strftime("%Y-%m")
            per_month.setdefault(month, Counter())[PUBLIC_GROUPS[kind]] += 1
    return [MonthCount(month, dict(per_month[month])) for month in sorted(per_month, reverse=True)]
