"""Naming a node that still has the default name, and giving a node without a boundary the
sample's: the sample territory's name, description and boundary go into maillage.toml,
every other line of the file kept as it is."""

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


_BOUNDARY = re.compile(r"^\s*boundary\s*=")
_COMMENTED_BOUNDARY = re.compile(r"^\s*#\s*boundary\s*=")


def set_boundary(config_file: Path, file_name: str) -> bool:
    """Set `boundary` in the [territory] section to `file_name` when it sets none; returns
    whether the file changed. The commented example line `init` writes
    (`# boundary = "boundary.geojson"`) becomes the setting; without one, the line goes at the
    end of the section. A file with a boundary, or without a [territory] section, is left
    alone."""
    lines = config_file.read_text(encoding="utf-8").splitlines(keepends=True)
    setting = f"boundary = {_toml_string(file_name)}\n"
    section, commented, last = "", -1, -1
    for index, line in enumerate(lines):
        header = _SECTION.match(line)
        if header:
            section = header.group(1).strip()
            continue
        if section != "territory":
            continue
        if _BOUNDARY.match(line):
            return False
        if commented < 0 and _COMMENTED_BOUNDARY.match(line):
            commented = index
        if line.strip() and not line.lstrip().startswith("#"):
            last = index
    if commented >= 0:
        lines[commented] = setting
    elif last >= 0:
        if not lines[last].endswith("\n"):
            lines[last] += "\n"
        lines.insert(last + 1, setting)
    else:
        return False
    text = "".join(lines)
    if tomllib.loads(text).get("territory", {}).get("boundary") != file_name:
        return False  # never write a file the node would read otherwise
    config_file.write_text(text, encoding="utf-8")
    return True
