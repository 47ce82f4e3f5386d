"""Sink inboxes: many small HTTP servers on 127.0.0.1, one port each (distinct ports are
distinct hosts for the node), run as one helper process: `python -m bench.sinks`.

They behave as real inboxes: each POST's JSON `id` is recorded with the inbox it came to;
an (inbox, activity id) pair seen before is dropped (still answered 202), as Mastodon does.
An optional delay slows every answer. A control API on its own port gives the counts
(`GET /_stats`), every POST with its times (`GET /_detail`) and clears them (`POST /_reset`).
The process ends when its stdin closes or after --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from typing import Any

from aiohttp import web

from bench.common import LOOPBACK, emit, stdin_lines


class Sinks:
    """What every sink received, in arrival order."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.reset()

    def reset(self) -> None:
        #: [inbox, activity id, arrived (monotonic), answered (monotonic or None), signed]
        self.posts: list[list[Any]] = []
        self.first_seen: dict[tuple[str, str], float] = {}
        self.first_arrival: float | None = None
        self.last_new: float | None = None
        self.refused = 0
        self.open = 0

    async def inbox(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        body = await request.read()
        try:
            activity_id = json.loads(body)["id"]
            assert isinstance(activity_id, str)
        except (ValueError, KeyError, TypeError, AssertionError):
            self.refused += 1
            return web.json_response({"error": "not an activity"}, status=400)
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = sockname[1] if sockname else 0
        inbox = f"http://{LOOPBACK}:{port}{request.path}"
        record: list[Any] = [inbox, activity_id, arrived, None, "Signature" in request.headers]
        self.posts.append(record)
        if self.first_arrival is None:
            self.first_arrival = arrived
        key = (inbox, activity_id)
        if key not in self.first_seen:  # new: "stored"; a repeat is dropped, still 202
            self.first_seen[key] = arrived
            self.last_new = arrived
        self.open += 1
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.open -= 1
            record[3] = time.monotonic()
        return web.Response(status=202)

    async def stats(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "posts": len(self.posts),
                "pairs": len(self.first_seen),
                "repeats": len(self.posts) - len(self.first_seen),
                "unsigned": sum(1 for p in self.posts if not p[4]),
                "refused": self.refused,
                "first_arrival": self.first_arrival,
                "last_new": self.last_new,
                "open": self.open,
                "now": time.monotonic(),
            }
        )

    async def detail(self, _request: web.Request) -> web.Response:
        return web.json_response({"posts": self.posts})

    async def do_reset(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True})


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    sock.listen(512)
    sock.setblocking(False)
    return sock


async def main(hosts: int, delay_ms: float, max_seconds: float) -> None:
    sinks = Sinks(delay_ms / 1000)
    app = web.Application(client_max_size=2_000_000)
    app.router.add_post("/inbox", sinks.inbox)
    app.router.add_post("/users/{name}/inbox", sinks.inbox)
    control = web.Application()
    control.router.add_get("/_stats", sinks.stats)
    control.router.add_get("/_detail", sinks.detail)
    control.router.add_post("/_reset", sinks.do_reset)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    control_runner = web.AppRunner(control, access_log=None, handle_signals=False)
    await runner.setup()
    await control_runner.setup()
    sockets = [_listening_socket() for _ in range(hosts)]
    for sock in sockets:
        await web.SockSite(runner, sock).start()
    control_socket = _listening_socket()
    await web.SockSite(control_runner, control_socket).start()
    emit(
        {
            "ready": True,
            "ports": [s.getsockname()[1] for s in sockets],
            "control": control_socket.getsockname()[1],
        }
    )
    lines = stdin_lines()
    deadline = time.monotonic() + max_seconds
    try:
        while await asyncio.wait_for(lines.get(), max(0.0, deadline - time.monotonic())):
            pass
    except TimeoutError:
        print(f"sinks: stopping after {max_seconds}s", file=sys.stderr)
    await runner.cleanup()
    await control_runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    options = parser.parse_args()
    asyncio.run(main(options.hosts, options.delay_ms, options.max_seconds))
