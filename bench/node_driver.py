"""A node serving as `maillage serve` does (the same `create_app(config)` with its workers,
the same access log), plus a command channel on stdin, so that an announcement is made
inside the serving process as the web interface would: `announce` wakes the delivery
worker at once instead of waiting for its idle poll. `python -m bench.node_driver --data D`.

Commands (JSON lines): {"cmd": "announce", "text": ...} answers {"t0", "t1", "uri"}
(monotonic times around `announce()`); {"cmd": "quit"} or the end of stdin stops it.
`--no-workers` serves `create_app(config, workers=False)`: nothing applies or delivers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from aiohttp import web

from bench.common import emit, stdin_lines
from bench.sampler import Sampler
from instance_config import load_config
from node.logs import AccessLogger, configure_logging
from node.services.federation.announcements import announce
from node.web.app import create_app
from node.web.keys import runtime_key


async def main(data: Path, max_seconds: float, workers: bool = True) -> None:
    configure_logging()
    config = load_config(data, dict(os.environ))
    runner = web.AppRunner(create_app(config, workers=workers), access_log_class=AccessLogger)
    await runner.setup()
    await web.TCPSite(runner, config.http.host, config.http.port).start()
    runtime = runner.app[runtime_key]
    emit({"ready": True, "pid": os.getpid()})
    lines = stdin_lines()
    deadline = time.monotonic() + max_seconds
    try:
        while True:
            line = await asyncio.wait_for(lines.get(), max(0.0, deadline - time.monotonic()))
            if line is None:
                break
            command = json.loads(line)
            if command["cmd"] == "quit":
                break
            if command["cmd"] == "announce":
                started = time.monotonic()
                note = await announce(runtime, command["text"])
                emit({"t0": started, "t1": time.monotonic(), "uri": note.uri})
    except TimeoutError:
        pass
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--profile", type=Path, help="write a sampled profile there")
    parser.add_argument("--no-workers", action="store_true", help="create_app(workers=False)")
    options = parser.parse_args()
    sampler = Sampler() if options.profile else None
    if sampler is not None:
        sampler.start()
    try:
        asyncio.run(main(options.data, options.max_seconds, not options.no_workers))
    finally:
        if sampler is not None:
            sampler.stop()
            sampler.dump(options.profile)
