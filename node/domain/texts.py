"""Texts with values in them (a time, a number of minutes) that pages still translate."""

from __future__ import annotations

from typing import Any


class FilledText(str):
    """A French text with `%(name)s` fields, filled in with `values`: it reads as the filled
    French text, and keeps its `template` so that a page in another language translates the
    template first, then fills it (node/web/i18n.py)."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> FilledText:
        """The text of `template % values`, remembering both."""
        text = super().__new__(cls, template % values)
        text.template = template
        text.values = values
        return text
