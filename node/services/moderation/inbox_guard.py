"""Moderation in the inbox worker: nothing from a suspended account or domain takes effect
(activities stored before the suspension, bundles carried by hand), and Flags are queued."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from federation.inbox.worker import BatchHandler, Handler, Outcome
from node.services.moderation.reports import receive_flag
from node.services.runtime import Runtime

_CUT_OFF = Outcome.ignored("the actor or its domain is suspended by moderation")


def moderated(runtime: Runtime, handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """The dispatch table with the Flag handler added and every handler guarded."""

    async def on_flag(activity: dict[str, Any]) -> Outcome:
        return await receive_flag(runtime, activity)

    def guard(handler: Handler) -> Handler:
        async def guarded(activity: dict[str, Any]) -> Outcome:
            if runtime.moderation.is_cut_off(activity["actor"]):
                return _CUT_OFF
            return await handler(activity)

        return guarded

    return {kind: guard(handler) for kind, handler in {**handlers, "Flag": on_flag}.items()}


def moderated_batches(
    runtime: Runtime, batch_handlers: Mapping[str, BatchHandler]
) -> dict[str, BatchHandler]:
    """The batch handlers guarded as `moderated` guards the others: what comes from a
    suspended account or domain is ignored, the rest goes to the batch handler."""

    def guard(batch_handler: BatchHandler) -> BatchHandler:
        async def guarded(activities: list[dict[str, Any]]) -> list[Outcome]:
            cut_off = [runtime.moderation.is_cut_off(a["actor"]) for a in activities]
            allowed = [a for a, cut in zip(activities, cut_off, strict=True) if not cut]
            answers = iter(await batch_handler(allowed) if allowed else [])
            outcomes = []
            for cut in cut_off:  # up to the first activity the batch handler left out
                outcome = _CUT_OFF if cut else next(answers, None)
                if outcome is None:
                    break
                outcomes.append(outcome)
            return outcomes

        return guarded

    return {kind: guard(batch_handler) for kind, batch_handler in batch_handlers.items()}
