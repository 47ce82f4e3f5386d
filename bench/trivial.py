"""The machine's floor for the read benchmark: a trivial aiohttp handler in its own process,
written without the node's code, answering every GET with the same small JSON document
(about the size of a WebFinger answer). `python -m bench.trivial --port P`; it stops when
its stdin closes or after --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from aiohttp import web

from bench.common import LOOPBACK, emit, stdin_lines

BODY = json.dumps(
    {
        "subject": "acct:territoire@127.0.0.1",
        "aliases": ["http://127.0.0.1/actors/territoire"],
        "links": [
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "http://127.0.0.1/actors/territoire",
            }
        ]
        * 3,
    }
).encode()


async def answer(_request: web.Request) -> web.Response:
    """The same bytes for every request."""
    return web.Response(body=BODY, content_type="application/json")


async def main(port: int, max_seconds: float) -> None:
    """Serve until stdin closes or `max_seconds` pass."""
    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, port).start()
    emit({"ready": True})
    lines = stdin_lines()
    try:
        while await asyncio.wait_for(lines.get(), max_seconds) is not None:
            pass
    except TimeoutError:
        pass
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    options = parser.parse_args()
    asyncio.run(main(options.port, options.max_seconds))
