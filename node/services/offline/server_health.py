"""What the running server says of its workers, for `maillage status` in another process.

The workers' progress lives in the serving process; the status command asks that process's
own /healthz on the address it listens on (loopback when it listens everywhere).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from instance_config import InstanceConfig

PROBE_TIMEOUT_SECONDS = 3


@dataclass(frozen=True, slots=True)
class ServerHealth:
    """Whether the server answers, and each worker that makes no progress."""

    address: str
    running: bool
    status: str = ""
    stalled: dict[str, dict[str, Any]] = field(default_factory=dict)


async def server_health(config: InstanceConfig) -> ServerHealth:
    """Ask the local server's /healthz; a server that does not answer is reported as such."""
    host = config.http.host if _specific(config.http.host) else "127.0.0.1"
    address = f"{host}:{config.http.port}" if ":" not in host else f"[{host}]:{config.http.port}"
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"http://{address}/healthz") as answer,
        ):
            report = await answer.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return ServerHealth(address, running=False)
    if not isinstance(report, dict):
        return ServerHealth(address, running=True, status="unreadable")
    workers = report.get("workers") if isinstance(report.get("workers"), dict) else {}
    return ServerHealth(address, True, str(report.get("status", "")), dict(workers or {}))


def _specific(host: str) -> bool:
    """False for an address that means "every interface" (the server is then on loopback)."""
    try:
        return not ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return bool(host)
