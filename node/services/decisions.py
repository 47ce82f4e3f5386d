"""Decisions: votes, consent, quorum, closing and results; remote poll answers."""

from __future__ import annotations

from typing import Any

from federation.inbox.worker import Outcome
from node.services.runtime import Runtime


async def record_external_answer(
    runtime: Runtime, activity: dict[str, Any], document: dict[str, Any]
) -> Outcome | None:
    """A remote poll answer (a Note with `name` and `inReplyTo` one of our decisions) goes to
    the decision's separate, non-binding tally; None when `document` is not such an answer."""
    return None


async def close_due_decisions(runtime: Runtime) -> int:
    """Open decisions whose time has come and close those whose time is up, computing and
    publishing their results; returns how many changed."""
    return 0
