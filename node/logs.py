"""Structured logs: one JSON object per line on stderr, easy to grep and to ship."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

# Attributes every LogRecord has; anything else was passed with `extra=` and is context.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as {"ts", "level", "logger", "msg", ...context, "exc"}."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line for one record."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry |= {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class AccessLogger(AbstractAccessLogger):
    """One structured line per HTTP request."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Log method, path, status, duration and the client's user agent."""
        self.logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "ms": round(time * 1000, 1),
                "agent": request.headers.get("User-Agent", ""),
            },
        )


def configure_logging(level: str = "INFO") -> None:
    """Send every log line as JSON to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
