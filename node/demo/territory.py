"""Naming a node that still has the default name: the sample territory's name and
description go into maillage.toml, every other line of the file kept as it is."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from node.demo.model import Territory

#: The names `init` and a first `serve` give when none is chosen.
DEFAULT_NAMES = frozenset({"Mon territoire", "My territory"})

_SECTION = re.compile(r"^\s*\[([^\]]+)\]")
_STRING = r"(\"(?:[^\"\\]|\\.)*\"|'[^']*')"


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _set_key(line: str, key: str, value: str) -> str | None:
    """The line with the string value of `key` replaced (its comment kept), or None when
    the line does not set `key`."""
    found = re.match(rf"^(\s*{key}\s*=\s*){_STRING}(.*)$", line.rstrip("\n"))
    if found is None:
        return None
    return f"{found.group(1)}{_toml_string(value)}{found.group(3)}\n"


def rename_territory(config_file: Path, territory: Territory, describe: bool) -> bool:
    """Give the [territory] section the sample's name (and, with `describe`, its
    description); returns whether the file changed. A file whose name line cannot be found
    is left alone."""
    lines = config_file.read_text(encoding="utf-8").splitlines(keepends=True)
    section, named, described, name_at = "", False, not describe, -1
    for index, line in enumerate(lines):
        header = _SECTION.match(line)
        if header:
            section = header.group(1).strip()
            continue
        if section != "territory":
            continue
        replaced = _set_key(line, "name", territory.name)
        if replaced is not None and not named:
            lines[index], named, name_at = replaced, True, index
            continue
        replaced = _set_key(line, "description", territory.description) if describe else None
        if replaced is not None and not described:
            lines[index], described = replaced, True
    if not named:
        return False
    if not described:
        lines.insert(name_at + 1, f"description = {_toml_string(territory.description)}\n")
    text = "".join(lines)
    tomllib.loads(text)  # never write a file the node could not read back
    config_file.write_text(text, encoding="utf-8")
    return True
