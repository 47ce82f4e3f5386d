"""Many fake inbox hosts on 127.0.0.1 (one port each: distinct hosts for the node), served in
the test's event loop, recording every POST in arrival order; they can hold their answers
(a gate) to catch a sender with deliveries in flight."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Sinks:
    """Record (inbox, activity id) per POST; after `hold_after` POSTs, answers wait for
    `gate` (set it to let them go)."""

    hold_after: int | None = None
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    #: (inbox URL, activity id, signed) in arrival order
    posts: list[tuple[str, str, bool]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    async def start(self, hosts: int) -> Sinks:
        """Listen on `hosts` free loopback ports."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._inbox)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for _ in range(hosts):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            self.ports.append(sock.getsockname()[1])
            await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        """Stop every sink."""
        self.gate.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            activity_id = str(json.loads(body)["id"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "not an activity"}, status=400)
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        inbox = f"http://127.0.0.1:{port}{request.path}"
        self.posts.append((inbox, activity_id, "Signature" in request.headers))
        if self.hold_after is not None and len(self.posts) > self.hold_after:
            await self.gate.wait()
        return web.Response(status=202)

    def pairs(self) -> set[tuple[str, str]]:
        """The distinct (inbox, activity id) received."""
        return {(inbox, activity) for inbox, activity, _ in self.posts}

    def repeats(self) -> Counter[tuple[str, str]]:
        """(inbox, activity id) received more than once, with how many times."""
        counts = Counter((inbox, activity) for inbox, activity, _ in self.posts)
        return Counter({pair: n for pair, n in counts.items() if n > 1})

    def first_arrivals(self, inbox: str) -> list[str]:
        """The activity ids an inbox received, in the order each first arrived."""
        return list(dict.fromkeys(a for i, a, _ in self.posts if i == inbox))
