"""What grew out of a proposal: its decisions and its experiments, for the proposal's page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.services.participation.decision_views import decisions_of_proposal
from node.storage.models import Decision, Experiment


@dataclass(frozen=True, slots=True)
class LinkedWork:
    """The decisions taken on a proposal and the experiments made of it."""

    decisions: list[Decision]
    experiments: list[Experiment]


async def linked_work(sessions: async_sessionmaker[AsyncSession], proposal_id: str) -> LinkedWork:
    """A proposal's decisions (newest first) and experiments."""
    async with sessions() as session:
        decisions = await decisions_of_proposal(session, proposal_id)
        experiments = await _experiments_of(session, proposal_id)
    return LinkedWork(decisions=decisions, experiments=experiments)


async def _experiments_of(session: AsyncSession, proposal_id: str) -> list[Experiment]:
    rows = await session.scalars(
        select(Experiment)
        .where(Experiment.proposal_id == proposal_id)
        .order_by(Experiment.created_at)
    )
    return list(rows)
