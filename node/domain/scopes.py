"""OAuth scopes as Mastodon defines them (docs api/oauth-scopes): `read`, `write`, `push`,
`profile` and the deprecated `follow`, each top-level scope granting its `scope:*` children.

>>> granted = parse_scopes("read write:statuses follow")
>>> allows(granted, "read:accounts"), allows(granted, "write:statuses")
(True, True)
>>> allows(granted, "write:favourites"), allows(granted, "write:follows")
(False, True)
>>> unknown_scopes(parse_scopes("read+write bogus"))
['bogus']
"""

from __future__ import annotations

TOP_LEVEL = ("read", "write", "follow", "push", "profile")
#: Every granular scope Mastodon knows (docs api/oauth-scopes).
GRANULAR = frozenset(
    {
        "read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters",
        "read:follows", "read:lists", "read:mutes", "read:notifications", "read:search",
        "read:statuses", "write:accounts", "write:blocks", "write:bookmarks",
        "write:conversations", "write:favourites", "write:filters", "write:follows",
        "write:lists", "write:media", "write:mutes", "write:notifications", "write:reports",
        "write:statuses",
    }
)  # fmt: skip
#: The deprecated `follow` scope stands for these (still requested by many clients).
FOLLOW_SET = frozenset(
    {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
)
DEFAULT_SCOPES = ("read",)


def parse_scopes(text: str) -> list[str]:
    """The scopes of a `scope`/`scopes` parameter: space or `+` separated, duplicates dropped."""
    return list(dict.fromkeys(text.replace("+", " ").split()))


def unknown_scopes(scopes: list[str]) -> list[str]:
    """The scopes among these that Mastodon does not define."""
    return [scope for scope in scopes if scope not in TOP_LEVEL and scope not in GRANULAR]


def allows(granted: list[str] | frozenset[str], required: str) -> bool:
    """Whether scopes granted to a token cover the scope an endpoint requires."""
    if required in granted:
        return True
    parent = required.split(":", 1)[0]
    if parent != required and parent in granted:
        return True
    return "follow" in granted and required in FOLLOW_SET


def within(requested: list[str], registered: list[str]) -> bool:
    """Whether every requested scope is covered by the app's registered scopes."""
    return all(allows(registered, scope) for scope in requested)
