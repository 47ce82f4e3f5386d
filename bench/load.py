"""A load generator in its own process: N connections kept busy with GET requests to one URL
for a while, keep-alive, each connection sending its next request when the previous answer
is read. `python -m bench.load URL --connections 50 --seconds 5 [--header "Name: value"]`
prints one JSON line: requests, requests/s, p50/p99 latency (ms) and the statuses seen.

The same generator measures the trivial handler (the machine's floor) and the node, so the
ratio between the two says what the node costs beyond what aiohttp and this client cost.
The first `--warm-up` seconds are not counted (connections opening, caches filling).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter

import aiohttp


async def hammer(
    url: str, connections: int, seconds: float, warm_up: float, headers: dict[str, str]
) -> dict[str, object]:
    """Keep `connections` requests in flight on as many connections for `seconds`."""
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    counting_from = started + warm_up
    until = counting_from + seconds

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def connection() -> None:
            while (sent := time.monotonic()) < until:
                async with session.get(url, headers=headers, allow_redirects=False) as answer:
                    await answer.read()
                    status = answer.status
                if sent >= counting_from:
                    latencies.append(time.monotonic() - sent)
                    statuses[status] += 1

        await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = max(time.monotonic(), until) - counting_from
    latencies.sort()

    def percentile(share: float) -> float:
        if not latencies:
            return 0.0
        return 1000 * latencies[min(len(latencies) - 1, int(share * len(latencies)))]

    return {
        "requests": len(latencies),
        "rate": len(latencies) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
    }


def main(argv: list[str]) -> int:
    """Parse the arguments, run the load, print the figures as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warm-up", type=float, default=1.0)
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    options = parser.parse_args(argv)
    if not options.url.startswith(("http://127.", "http://[::1]")):
        parser.error("loopback URLs only")
    headers = dict(line.split(": ", 1) for line in options.header)
    figures = asyncio.run(
        hammer(options.url, options.connections, options.seconds, options.warm_up, headers)
    )
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
