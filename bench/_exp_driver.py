"""Temporary experiment (deleted after): node_driver with patched delivery internals."""
import asyncio
import os
import sys
from pathlib import Path

import federation.delivery.worker as worker_module
from node.storage.outbox import SqlDeliveryStore

mode = os.environ.get("EXP_MODE", "")
if mode.startswith("parallel="):
    n = int(mode.split("=")[1])
    original = worker_module.DeliveryWorker.__init__

    def patched(self, *a, **k):
        k["parallel_hosts"] = n
        original(self, *a, **k)

    worker_module.DeliveryWorker.__init__ = patched
if mode == "noadvance":
    async def advance(self, host, target_id, outcome, answer):
        self._fake = getattr(self, "_fake", {})
        self._fake[host] = target_id

    original_pending = SqlDeliveryStore.pending_for_host

    async def pending_for_host(self, host, limit):
        rows = await original_pending(self, host, limit)
        done = getattr(self, "_fake", {}).get(host, 0)
        return [r for r in rows if r.target_id > done]

    SqlDeliveryStore.advance = advance
    SqlDeliveryStore.pending_for_host = pending_for_host

from bench.node_driver import main  # noqa: E402

asyncio.run(main(Path(sys.argv[2]), 120))
