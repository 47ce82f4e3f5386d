"""Activities the node sends, built in one place: each gets its own id on our host
(Misskey rejects reused or foreign ids), the actor as a plain URI string."""

from __future__ import annotations

from typing import Any

from instance_config import InstanceConfig
from node.domain.ids import new_id
from protocols.activitystreams import PUBLIC
from protocols.jsonld.project_context import document_context


def activity_url(config: InstanceConfig) -> str:
    """A fresh, dereferenceable id for an outgoing activity."""
    return f"{config.node.base_url}/activities/{new_id()}"


def make_activity(
    config: InstanceConfig,
    kind: str,
    actor: str,
    obj: Any,
    *,
    to: list[str],
    cc: list[str] | None = None,
    published: str | None = None,
) -> dict[str, Any]:
    """An activity of `kind` by `actor` about `obj`, addressed to `to` and `cc`."""
    activity: dict[str, Any] = {
        "@context": document_context(),
        "id": activity_url(config),
        "type": kind,
        "actor": actor,
        "object": obj,
        "to": to,
    }
    if cc:
        activity["cc"] = cc
    if published:
        activity["published"] = published
    return activity


def public_addressing(followers_url: str) -> tuple[list[str], list[str]]:
    """to/cc of a public post: the public collection, copied to the followers."""
    return [PUBLIC], [followers_url]


def strip_context(document: dict[str, Any]) -> dict[str, Any]:
    """An object to embed in an activity: the activity carries the @context."""
    return {key: value for key, value in document.items() if key != "@context"}
