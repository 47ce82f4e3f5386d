"""Catching up after a gap: page a followed actor's outbox back to the last activity we have.

A node whose link was down for days misses what its peers gave up delivering. When the link
returns it reads each followed actor's outbox, newest first, until it meets an activity it
already holds, within a budget so that a reconnect never turns into a crawl. What it finds
is checked like an inbox delivery (shape, origins) and handed to the same inbox store, oldest
first, so the worker applies it in the order it was published.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from federation.inbox.receive import InboxRefused, check_origins, read_jsonld
from federation.ports import ReceivedActivity
from protocols.activitystreams import as_list, id_of, origin_of, type_of

#: Pages read per actor and reconnect, and activities taken per actor and reconnect.
MAX_PAGES = 10
MAX_ACTIVITIES = 200

Fetch = Callable[[str], Awaitable[dict[str, Any]]]
KnownIds = Callable[[list[str]], Awaitable[set[str]]]


class BackfillFailed(Exception):
    """The outbox could not be read; the message says why (the caller tries next time)."""


@dataclass
class Catchup:
    """What paging one outbox found: activities to apply (oldest first) and what was refused."""

    activities: list[ReceivedActivity] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    pages: int = 0
    reached_known: bool = False


async def catch_up(
    actor: str,
    outbox: str,
    fetch: Fetch,
    known: KnownIds,
    *,
    max_pages: int = MAX_PAGES,
    max_activities: int = MAX_ACTIVITIES,
) -> Catchup:
    """The activities of `actor` newer than the newest one this node already holds.

    `fetch` gets a document by URL (a signed GET that checks the id is where it came from);
    `known` says which of some activity ids are already stored. Stops at the first known
    activity, at the end of the outbox, or at the budget; raises BackfillFailed when the
    outbox cannot be read.
    """
    if origin_of(outbox) != origin_of(actor):
        raise BackfillFailed(f"the outbox {outbox} is not on the server of {actor}")
    found = Catchup()
    newest_first: list[ReceivedActivity] = []
    try:
        page: Any = (await fetch(outbox)).get("first")
        while page is not None and found.pages < max_pages:
            if isinstance(page, str):
                if origin_of(page) != origin_of(actor):
                    raise BackfillFailed(f"the outbox page {page} is on another server")
                page = await fetch(page)
            if not isinstance(page, dict):
                break
            found.pages += 1
            items = as_list(page.get("orderedItems", page.get("items")))
            already = await known([item_id for item_id in map(id_of, items) if item_id])
            for item in items:
                if id_of(item) in already:
                    found.reached_known = True
                    break
                if len(newest_first) >= max_activities:
                    break
                try:
                    newest_first.append(_checked(item, actor))
                except InboxRefused as refused:
                    found.refused.append((str(id_of(item)), refused.reason))
            if found.reached_known or len(newest_first) >= max_activities:
                break
            page = page.get("next")
    except BackfillFailed:
        raise
    except Exception as error:  # a fetch error or a hostile page: nothing is taken from it
        raise BackfillFailed(f"cannot read the outbox {outbox}: {error}") from None
    found.activities = list(reversed(newest_first))
    return found


def _checked(item: Any, actor: str) -> ReceivedActivity:
    """An outbox item as the inbox would accept it from `actor`, or InboxRefused."""
    if not isinstance(item, dict):
        raise InboxRefused(400, "the outbox lists an activity by reference only")
    activity_id = item.get("id")
    if not isinstance(activity_id, str) or not activity_id.startswith(("https://", "http://")):
        raise InboxRefused(400, "activity has no http(s) id")
    if not type_of(item):
        raise InboxRefused(400, "activity has no type")
    if id_of(item.get("actor")) != actor:
        raise InboxRefused(403, "the outbox holds an activity of another actor")
    document = read_jsonld({**item, "actor": actor})
    check_origins(document)
    return ReceivedActivity(
        activity_id=activity_id,
        type=type_of(document) or "",
        actor=actor,
        object_id=id_of(document.get("object")),
        raw=document,
    )
