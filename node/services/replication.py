"""Replication across territories: adopting another territory's experiment, and learning
that ours were replicated and how that went."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.inbox.worker import Outcome
from node.services.runtime import Runtime


async def on_add(runtime: Runtime, activity: dict[str, Any]) -> Outcome:
    """`Add{object: their experiment, target: our experiment's replications}` from another
    territory: record the replication."""
    return Outcome.ignored("Add is not handled yet")


async def on_remote_evaluation(session: AsyncSession, document: dict[str, Any]) -> None:
    """A received evaluation of an experiment that replicates one of ours: note its outcome."""
