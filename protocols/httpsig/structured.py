"""RFC 8941 Structured Field Values: the subset HTTP Message Signatures need.

Dictionaries, lists, inner lists, items and parameters over integers, decimals,
strings, tokens, byte sequences and booleans (RFC 8941 §3, parsing §4.2, serialising
§4.1). Dates and display strings (RFC 9651) are not supported.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field


class StructuredFieldError(ValueError):
    """The text is not a valid structured field of the expected type."""


@dataclass(frozen=True, slots=True)
class Token:
    """An RFC 8941 token (unquoted), kept apart from strings so it serialises back bare."""

    value: str


BareItem = bool | int | float | str | Token | bytes
Params = dict[str, BareItem]


@dataclass(frozen=True, slots=True)
class Item:
    """A bare item with its parameters."""

    value: BareItem
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InnerList:
    """A parenthesised list of items, with parameters of its own."""

    items: tuple[Item, ...]
    params: Params = field(default_factory=dict)


Member = Item | InnerList

_KEY_FIRST = "abcdefghijklmnopqrstuvwxyz*"
_KEY_CHARS = _KEY_FIRST + "0123456789_-."
_TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TOKEN_RE = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*\Z")
_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*\Z")
_BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


class _Parser:
    """A cursor over field text implementing the RFC 8941 §4.2 algorithms."""

    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise StructuredFieldError("structured fields are ASCII only")
        self.text = text.strip(" ")
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def fail(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"{what} at position {self.pos} of {self.text!r}")

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and not self.at_end():
            self.pos += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def key(self) -> str:
        if self.peek() == "" or self.peek() not in _KEY_FIRST:
            raise self.fail("expected a key")
        start = self.pos
        while self.peek() != "" and self.peek() in _KEY_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def parameters(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip_sp()
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[name] = value  # a repeated key overwrites (RFC 8941 §4.2.3.2)
        return params

    def item(self) -> Item:
        value = self.bare_item()
        return Item(value, self.parameters())

    def item_or_inner_list(self) -> Member:
        if self.peek() == "(":
            return self.inner_list()
        return self.item()

    def inner_list(self) -> InnerList:
        self.expect("(")
        items: list[Item] = []
        while True:
            self.skip_sp()
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.parameters())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected a space or ')' in inner list")

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == "-" or char.isdigit():
            return self.number()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            return self.boolean()
        if char == "*" or (char.isascii() and char.isalpha()):
            return self.token()
        raise self.fail("expected an item")

    def number(self) -> int | float:
        start = self.pos
        if self.peek() == "-":
            self.pos += 1
        digits_start = self.pos
        while self.peek().isdigit() and self.peek() != "":
            self.pos += 1
        if self.pos == digits_start:
            raise self.fail("expected a digit")
        if self.peek() != ".":
            text = self.text[start : self.pos]
            if self.pos - digits_start > 15:
                raise self.fail("integer has more than 15 digits")
            return int(text)
        if self.pos - digits_start > 12:
            raise self.fail("decimal has more than 12 integer digits")
        self.pos += 1
        fraction_start = self.pos
        while self.peek().isdigit() and self.peek() != "":
            self.pos += 1
        if not 1 <= self.pos - fraction_start <= 3:
            raise self.fail("decimal needs 1 to 3 fractional digits")
        return float(self.text[start : self.pos])

    def string(self) -> str:
        self.expect('"')
        out: list[str] = []
        while True:
            char = self.peek()
            if char == "":
                raise self.fail("unterminated string")
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\") or escaped == "":
                    raise self.fail("bad escape in string")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise self.fail("control character in string")
            else:
                out.append(char)

    def token(self) -> Token:
        start = self.pos
        self.pos += 1
        while self.peek() != "" and (self.peek() in _TCHAR or self.peek() in ":/"):
            self.pos += 1
        return Token(self.text[start : self.pos])

    def byte_sequence(self) -> bytes:
        self.expect(":")
        end = self.text.find(":", self.pos)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        encoded = self.text[self.pos : end]
        if any(char not in _BASE64_CHARS for char in encoded):
            raise self.fail("byte sequence is not base64")
        self.pos = end + 1
        try:
            # RFC 8941 §4.2.7 lets parsers accept missing padding.
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error:
            raise self.fail("byte sequence is not base64") from None

    def boolean(self) -> bool:
        self.expect("?")
        char = self.peek()
        if char not in ("0", "1") or char == "":
            raise self.fail("expected ?0 or ?1")
        self.pos += 1
        return char == "1"

    def finish(self) -> None:
        if not self.at_end():
            raise self.fail("unexpected trailing characters")


def parse_item(text: str) -> Item:
    """Parse a whole field value as an RFC 8941 Item (§4.2.3)."""
    parser = _Parser(text)
    item = parser.item()
    parser.finish()
    return item


def parse_list(text: str) -> list[Member]:
    """Parse a whole field value as an RFC 8941 List (§4.2.1)."""
    parser = _Parser(text)
    members: list[Member] = []
    while not parser.at_end():
        members.append(parser.item_or_inner_list())
        parser.skip_ows()
        if parser.at_end():
            break
        parser.expect(",")
        parser.skip_ows()
        if parser.at_end():
            raise parser.fail("trailing comma")
    return members


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse a whole field value as an RFC 8941 Dictionary (§4.2.2).

    A key given twice keeps its first position and its last value, as the RFC says.
    """
    parser = _Parser(text)
    members: dict[str, Member] = {}
    while not parser.at_end():
        name = parser.key()
        if parser.peek() == "=":
            parser.pos += 1
            members[name] = parser.item_or_inner_list()
        else:
            members[name] = Item(True, parser.parameters())
        parser.skip_ows()
        if parser.at_end():
            break
        parser.expect(",")
        parser.skip_ows()
        if parser.at_end():
            raise parser.fail("trailing comma")
    return members


def serialize_bare_item(value: BareItem) -> str:
    """Serialise one bare item (RFC 8941 §4.1.3.1)."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) >= 10**15:
            raise StructuredFieldError(f"integer {value} out of range")
        return str(value)
    if isinstance(value, float):
        text = f"{round(value, 3):.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, str):
        if not all(" " <= char <= "~" for char in value):
            raise StructuredFieldError(f"string {value!r} has non-printable-ASCII characters")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Token):
        if not _TOKEN_RE.match(value.value):
            raise StructuredFieldError(f"{value.value!r} is not a valid token")
        return value.value
    return ":" + base64.b64encode(value).decode("ascii") + ":"


def serialize_params(params: Params) -> str:
    """Serialise parameters in their order (RFC 8941 §4.1.1.2); true values are bare keys."""
    out: list[str] = []
    for name, value in params.items():
        if not _KEY_RE.match(name):
            raise StructuredFieldError(f"{name!r} is not a valid key")
        out.append(f";{name}" if value is True else f";{name}={serialize_bare_item(value)}")
    return "".join(out)


def serialize_item(item: Item) -> str:
    """Serialise an item with its parameters (RFC 8941 §4.1.3)."""
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    """Serialise an inner list with its parameters (RFC 8941 §4.1.1.1)."""
    return (
        "("
        + " ".join(serialize_item(i) for i in inner.items)
        + ")"
        + serialize_params(inner.params)
    )


def serialize_member(member: Member) -> str:
    """Serialise a list or dictionary member value."""
    if isinstance(member, InnerList):
        return serialize_inner_list(member)
    return serialize_item(member)


def serialize_list(members: list[Member]) -> str:
    """Serialise an RFC 8941 List (§4.1.1)."""
    return ", ".join(serialize_member(m) for m in members)


def serialize_dictionary(members: dict[str, Member]) -> str:
    """Serialise an RFC 8941 Dictionary (§4.1.2); a true item is written as its bare key."""
    out: list[str] = []
    for name, member in members.items():
        if not _KEY_RE.match(name):
            raise StructuredFieldError(f"{name!r} is not a valid key")
        if isinstance(member, Item) and member.value is True:
            out.append(name + serialize_params(member.params))
        else:
            out.append(f"{name}={serialize_member(member)}")
    return ", ".join(out)
