"""The bundle file: a gzip-compressed tar of JSON Lines, written and read as a stream.

    manifest.json      what the bundle holds: origin, creation date, filters, counts
    actors.jsonl       one actor document per line, each carrying its own proof
    activities.jsonl   one activity per line, each carrying its author's proof

Actors come before activities so that a reader knows the keys before it needs them. The
manifest is informative (progress, a count to compare with); trust comes only from the
proofs on each line, so a bundle can be carried by anyone.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

FORMAT = "maillage-bundle/1"
MANIFEST = "manifest.json"
ACTORS = "actors.jsonl"
ACTIVITIES = "activities.jsonl"
#: A line longer than an inbox would accept is refused unread.
MAX_LINE_BYTES = 1_000_000
MAX_MANIFEST_BYTES = 64_000


class BundleUnreadable(Exception):
    """The file is not a bundle, or it stops early; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a member: where it is (for messages) and its raw bytes."""

    member: str
    number: int
    data: bytes
    #: why the line cannot be used before it is even parsed (too long), or None
    problem: str | None = None

    @property
    def where(self) -> str:
        """A human reference to the line: `activities.jsonl:12`."""
        return f"{self.member}:{self.number}"


class BundleWriter:
    """Writes a bundle: lines go to temporary files, then one archive is made of them."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._parts = {name: tempfile.TemporaryFile() for name in (ACTORS, ACTIVITIES)}
        self.counts = {name: 0 for name in self._parts}

    def add_actor(self, document: dict[str, Any]) -> None:
        """Append one signed actor document."""
        self._add(ACTORS, document)

    def add_activity(self, document: dict[str, Any]) -> None:
        """Append one signed activity."""
        self._add(ACTIVITIES, document)

    def _add(self, member: str, document: dict[str, Any]) -> None:
        line = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        self._parts[member].write(line)
        self.counts[member] += 1

    def finish(self, manifest: dict[str, Any]) -> None:
        """Write the archive (manifest, actors, activities) and release the temporary files.

        The archive is written beside the target and renamed into place, so an interrupted
        export never leaves a half bundle under the final name.
        """
        manifest = {
            "format": FORMAT,
            **manifest,
            "actors": self.counts[ACTORS],
            "activities": self.counts[ACTIVITIES],
        }
        partial = self._path.with_name(self._path.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            _add_member(archive, MANIFEST, io.BytesIO(json.dumps(manifest, indent=2).encode()))
            for name, part in self._parts.items():
                _add_member(archive, name, part)
        partial.replace(self._path)
        self.close()

    def close(self) -> None:
        """Drop the temporary files (also after a failed export)."""
        for part in self._parts.values():
            part.close()


def _add_member(archive: tarfile.TarFile, name: str, data: IO[bytes]) -> None:
    info = tarfile.TarInfo(name)
    info.size = data.seek(0, io.SEEK_END)
    info.mtime = 0
    data.seek(0)
    archive.addfile(info, data)


class BundleReader:
    """Reads a bundle as a stream: the manifest first, then every line of each member.

    Nothing is extracted to disk. A member that is not a regular file, or an unknown
    member, is skipped; a file that stops early raises BundleUnreadable after the lines
    that could be read, so that everything complete before the cut is still considered.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self.manifest: dict[str, Any] = {}

    def lines(self) -> Iterator[Line]:
        """Every line of actors.jsonl then activities.jsonl, in file order."""
        try:
            archive = tarfile.open(self._path, "r|gz")
        except FileNotFoundError:
            raise BundleUnreadable(f"{self._path} does not exist") from None
        except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
            raise BundleUnreadable(
                f"{self._path} is not a Maillage bundle (a .tar.gz made by `maillage bundle "
                f"export`): {error}"
            ) from None
        with archive:
            try:
                for member in archive:
                    if not member.isfile() or member.name not in (MANIFEST, ACTORS, ACTIVITIES):
                        continue
                    stream = archive.extractfile(member)
                    if stream is None:
                        continue
                    if member.name == MANIFEST:
                        self.manifest = _read_manifest(stream)
                        continue
                    yield from _member_lines(member.name, stream)
            except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
                raise BundleUnreadable(
                    f"the bundle stops early or is damaged ({error or type(error).__name__}): "
                    "ask for a new copy; what was complete before the damage was considered"
                ) from None
        if not self.manifest:
            raise BundleUnreadable("the bundle has no manifest.json: it was not made by Maillage")


def _read_manifest(stream: IO[bytes]) -> dict[str, Any]:
    data = stream.read(MAX_MANIFEST_BYTES + 1)
    try:
        manifest = json.loads(data) if len(data) <= MAX_MANIFEST_BYTES else None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleUnreadable(f"the bundle's manifest is not a {FORMAT} manifest")
    return manifest


def _member_lines(name: str, stream: IO[bytes]) -> Iterator[Line]:
    number = 0
    while True:
        data = stream.readline(MAX_LINE_BYTES + 1)
        if not data:
            return
        number += 1
        if len(data) > MAX_LINE_BYTES:
            while data and not data.endswith(b"\n"):  # skip the rest of the oversized line
                data = stream.readline(MAX_LINE_BYTES + 1)
            yield Line(name, number, b"", f"longer than {MAX_LINE_BYTES} bytes")
            continue
        yield Line(name, number, data)
