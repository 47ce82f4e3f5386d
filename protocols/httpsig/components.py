"""RFC 9421 §2: component values and the signature base.

Only request (and plain response status) components are supported: derived components
@method @target-uri @authority @scheme @request-target @path @query @query-param
@status, and header fields with the `sf` and `key` parameters. `bs`, `req` and `tr`
are refused rather than mis-handled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlsplit

from protocols.httpsig import structured
from protocols.httpsig.errors import SignatureError
from protocols.httpsig.message import authority, normalise_headers, path_of, query_of

# Fields whose structured type we know (RFC 9421 §2.1.1 needs it for `sf`/`key`).
DICTIONARY_FIELDS = frozenset(
    {
        "accept-signature",
        "content-digest",
        "repr-digest",
        "signature",
        "signature-input",
        "want-content-digest",
        "want-repr-digest",
        "example-dict",  # RFC 9421 §2.1.1/2.1.2 examples
    }
)
LIST_FIELDS = frozenset({"accept-ch", "cache-status", "proxy-status"})
ITEM_FIELDS = frozenset({"priority"})


@dataclass(frozen=True, slots=True)
class Message:
    """The parts of an HTTP message a signature base is built from.

    `url` is the target URI as the client used it (scheme and host as seen by the sender,
    i.e. the public URL behind a TLS proxy); `headers` any mapping, looked up
    case-insensitively; `status` only for responses.
    """

    method: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int | None = None


def _require_url(message: Message, name: str) -> str:
    if message.url is None:
        raise SignatureError(f"{name} needs the request URL")
    return message.url


def _derived(name: str, params: structured.Params, message: Message) -> list[str]:
    allowed = {"name"} if name == "@query-param" else set()
    extra = set(params) - allowed
    if extra:
        raise SignatureError(f"component {name} has unsupported parameters {sorted(extra)}")
    if name == "@method":
        if message.method is None:
            raise SignatureError("@method needs the request method")
        return [message.method]
    if name == "@status":
        if message.status is None:
            raise SignatureError("@status is only available on responses")
        return [str(message.status)]
    url = _require_url(message, name)
    if name == "@target-uri":
        return [url.split("#", 1)[0]]
    if name == "@authority":
        return [authority(url)]
    if name == "@scheme":
        return [urlsplit(url).scheme.lower()]
    if name == "@path":
        return [path_of(url)]
    if name == "@query":
        return ["?" + query_of(url)]
    if name == "@request-target":
        query = query_of(url)
        return [path_of(url) + ("?" + query if query else "")]
    if name == "@query-param":
        wanted = params.get("name")
        if not isinstance(wanted, str):
            raise SignatureError("@query-param needs a string name parameter")
        # §2.2.8: application/x-www-form-urlencoded parsing, then percent-encoding again.
        values = [
            quote(value, safe="")
            for key, value in parse_qsl(query_of(url), keep_blank_values=True)
            if quote(key, safe="") == wanted
        ]
        if not values:
            raise SignatureError(f"query parameter {wanted!r} is not in the request URL")
        return values
    raise SignatureError(f"derived component {name} is not supported")


def _field(name: str, params: structured.Params, message: Message) -> str:
    extra = set(params) - {"sf", "key"}
    if extra:
        raise SignatureError(f"component {name!r} has unsupported parameters {sorted(extra)}")
    fields = normalise_headers(message.headers)
    if name not in fields:
        raise SignatureError(f"covered header field {name!r} is missing from the message")
    value = fields[name]
    if "key" in params:
        key = params["key"]
        if not isinstance(key, str):
            raise SignatureError(f"component {name!r} key parameter must be a string")
        try:
            members = structured.parse_dictionary(value)
        except structured.StructuredFieldError as error:
            raise SignatureError(f"header {name!r} is not a dictionary: {error}") from None
        if key not in members:
            raise SignatureError(f"header {name!r} has no member {key!r}")
        return structured.serialize_member(members[key])
    if "sf" in params:
        try:
            if name in DICTIONARY_FIELDS:
                return structured.serialize_dictionary(structured.parse_dictionary(value))
            if name in LIST_FIELDS:
                return structured.serialize_list(structured.parse_list(value))
            if name in ITEM_FIELDS:
                return structured.serialize_item(structured.parse_item(value))
        except structured.StructuredFieldError as error:
            raise SignatureError(f"header {name!r} is not a structured field: {error}") from None
        raise SignatureError(f"the structured type of header {name!r} is unknown")
    return value


def component_lines(item: structured.Item, message: Message) -> list[str]:
    """The base lines for one covered component: `"<identifier>": <value>`.

    Usually one line; @query-param gives one per occurrence of the parameter.
    """
    name = item.value
    if not isinstance(name, str):
        raise SignatureError("component identifiers must be strings")
    if name != name.lower():
        raise SignatureError(f"component identifier {name!r} must be lower case")
    if name.startswith("@"):
        values = _derived(name, item.params, message)
    else:
        values = [_field(name, item.params, message)]
    identifier = structured.serialize_item(item)
    for value in values:
        if "\n" in value or "\r" in value:
            raise SignatureError(f"component {identifier} contains a line break")
    return [f"{identifier}: {value}" for value in values]


def signature_base(covered: structured.InnerList, message: Message) -> bytes:
    """Build the RFC 9421 §2.5 signature base for `covered` (components + parameters).

    Each component gives its lines in order, a repeated identifier is refused, and the
    base ends with `"@signature-params": <serialised inner list>` without a newline.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for item in covered.items:
        identifier = structured.serialize_item(item)
        if identifier in seen:
            raise SignatureError(f"component {identifier} is covered twice")
        seen.add(identifier)
        lines.extend(component_lines(item, message))
    lines.append(f'"@signature-params": {structured.serialize_inner_list(covered)}')
    return "\n".join(lines).encode("utf-8")
