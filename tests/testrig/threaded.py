"""aiohttp applications served from an event loop in a thread of their own, for synchronous
callers: property-based tests (hypothesis drives plain functions) and the fuzzing benchmark."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")

#: how long one call into the loop may take before the caller gives up
CALL_TIMEOUT = 60.0


class LoopThread:
    """A running event loop in a daemon thread; `serve` puts apps on loopback ports."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="served", daemon=True)
        self._runners: list[web.AppRunner] = []
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(CALL_TIMEOUT)

    def serve(self, app: web.Application) -> int:
        """Serve an application on 127.0.0.1 and return its port."""
        return self.run(self._serve(app))

    async def _serve(self, app: web.Application) -> int:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        server = site._server
        assert server is not None
        return int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    def close(self) -> None:
        """Stop the served applications, then the loop and its thread."""
        for runner in reversed(self._runners):
            self.run(runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(CALL_TIMEOUT)
        self.loop.close()

    def __enter__(self) -> LoopThread:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
