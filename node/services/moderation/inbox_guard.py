"""Moderation in the inbox worker: nothing from a suspended account or domain takes effect
(activities stored before the suspension, bundles carried by hand), and Flags are queued."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from federation.inbox.worker import Handler, Outcome
from node.services.moderation.reports import receive_flag
from node.services.runtime import Runtime


def moderated(runtime: Runtime, handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """The dispatch table with the Flag handler added and every handler guarded."""

    async def on_flag(activity: dict[str, Any]) -> Outcome:
        return await receive_flag(runtime, activity)

    def guard(handler: Handler) -> Handler:
        async def guarded(activity: dict[str, Any]) -> Outcome:
            if runtime.moderation.is_cut_off(activity["actor"]):
                return Outcome.ignored("the actor or its domain is suspended by moderation")
            return await handler(activity)

        return guarded

    return {kind: guard(handler) for kind, handler in {**handlers, "Flag": on_flag}.items()}
