"""Applying stored activities at once, in a command that runs without the server's worker."""

from __future__ import annotations

from federation.inbox.worker import InboxWorker
from node.services.federation.inbox_handlers import inbox_batch_handlers, inbox_handlers
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.inbox import SqlInbox

#: Items the inbox worker looks at per pass.
APPLY_BATCH = 200


async def apply_stored(runtime: Runtime, inbox: SqlInbox, count: int) -> None:
    """Run the inbox worker over what was stored (about `count` items), a bounded number of
    passes: held items wait for a later pass, as they would in the server."""
    worker = InboxWorker(
        inbox, inbox_handlers(runtime), utcnow, batch_handlers=inbox_batch_handlers(runtime)
    )
    for _ in range(count // APPLY_BATCH + 10):
        if not await worker.run_once(APPLY_BATCH):
            return
