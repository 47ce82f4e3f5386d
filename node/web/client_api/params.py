"""Request parameters as Mastodon clients send them: query string, form, multipart or JSON
bodies, Rails-style arrays (`id[]`, `choices[]`, `poll[options][]`), and booleans as
true/false/1/0. Unknown parameters are ignored."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from node.services.client_api.errors import ApiError
from protocols.json_input import JsonRefused, parse_json

_TRUE = {"true", "1", "on", "yes"}
_FALSE = {"false", "0", "off", "no", ""}


class Params:
    """Every parameter of a request, read once: body values win over the query string's."""

    def __init__(self, values: dict[str, list[Any]]) -> None:
        self._values = values

    def text(self, name: str, default: str | None = None) -> str | None:
        """A single string parameter."""
        found = self._values.get(name) or self._values.get(f"{name}[]")
        if not found:
            return default
        value = found[-1]
        return (
            value if isinstance(value, str) else json.dumps(value) if value is not None else default
        )

    def required(self, name: str) -> str:
        """A string parameter that must be present (422 otherwise, as Mastodon answers)."""
        value = self.text(name)
        if value is None or value == "":
            raise ApiError(422, f"Validation failed: {name} is missing")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean: true/false/1/0 (and JSON booleans)."""
        found = self._values.get(name)
        if not found:
            return default
        value = found[-1]
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ApiError(422, f"Validation failed: {name} must be true or false")

    def number(self, name: str, default: int, *, low: int = 0, high: int = 10**9) -> int:
        """An integer parameter, kept within bounds."""
        value = self.text(name)
        if value is None or value == "":
            return default
        try:
            return max(low, min(high, int(value)))
        except ValueError:
            raise ApiError(422, f"Validation failed: {name} must be a number") from None

    def many(self, name: str) -> list[str]:
        """An array parameter: `name[]=a&name[]=b`, `name=a`, or a JSON list."""
        found = self._values.get(f"{name}[]", []) + self._values.get(name, [])
        items: list[str] = []
        for value in found:
            if isinstance(value, list):
                items += [str(v) for v in value]
            elif value is not None:
                items.append(str(value))
        return items


def _flatten(prefix: str, value: Any, into: dict[str, list[Any]]) -> None:
    """JSON objects become Rails names: {"poll": {"options": [..]}} -> poll[options][]."""
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}[{key}]" if prefix else str(key), inner, into)
    elif isinstance(value, list) and prefix:
        into.setdefault(f"{prefix}[]", []).extend(value)
    else:
        into.setdefault(prefix, []).append(value)


async def read_params(request: web.Request) -> Params:
    """The request's parameters, whatever way the client sent them."""
    values: dict[str, list[Any]] = {}
    for key, value in request.query.items():
        values.setdefault(key, []).append(value)
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.can_read_body:
        kind = request.content_type
        if kind == "application/json":
            try:
                body = parse_json(await request.read())
            except JsonRefused as refused:
                raise ApiError(400, f"the body is {refused}") from None
            if isinstance(body, dict):
                body_values: dict[str, list[Any]] = {}
                _flatten("", body, body_values)
                values.update(body_values)
        elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            body_values = {}
            for key, value in form.items():
                if isinstance(value, str):
                    body_values.setdefault(key, []).append(value)
            values.update(body_values)
    return Params(values)
