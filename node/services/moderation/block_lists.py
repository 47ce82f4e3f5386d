"""Block lists in Mastodon's CSV format, in and out.

Mastodon's admin export (Moderation > Federation > Export) writes one block per line under
the header `#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate`,
booleans as `true`/`false`; its import reads the same columns by name. Lists shared between
admins (e.g. Oliphant's) use it too. An import keeps every block already in place as it is
(a shared list never weakens a local decision) and reports each refused line with its number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select

from federation.ports import DomainSeverity
from node.domain.block_lists import BLOCK_LIST_HEADER
from node.services.moderation.domain_blocks import (
    BlockError,
    BlockRequest,
    block_request,
    fill_block,
    journal_block,
    refuse_own_domain,
)
from node.services.runtime import Runtime
from node.storage.models import Account, DomainBlock
from node.storage.moderation import remove_domains_content

#: Largest list read, and most lines: far above the largest shared lists (a few thousand).
MAX_BYTES = 5_000_000
MAX_LINES = 50_000
_TRUE = frozenset({"true", "1", "yes", "t"})
_FALSE = frozenset({"false", "0", "no", "f", ""})


@dataclass(frozen=True, slots=True)
class LineError:
    """A refused line: its number in the file, the column at fault, the value, and the
    problem (domain, severity, flag, comment, own_domain, duplicate, header, size, encoding)."""

    line: int
    problem: str
    value: str = ""


@dataclass
class ImportSummary:
    """What an import did."""

    added: list[str] = field(default_factory=list)
    already_blocked: list[str] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    removed_rows: int = 0


def _flag(value: str | None, line: int, column: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Refused(LineError(line, "flag", f"{column}={value}"))


class _Refused(Exception):
    def __init__(self, error: LineError) -> None:
        super().__init__(error.problem)
        self.error = error


def read_block_list(data: bytes) -> tuple[list[tuple[int, BlockRequest]], list[LineError]]:
    """The blocks a CSV list asks for, each with its line number, and the refused lines."""
    if len(data) > MAX_BYTES:
        return [], [LineError(0, "size", str(len(data)))]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [LineError(0, "encoding")]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [name.strip().lower() for name in reader.fieldnames or []]
    if "#domain" not in columns:
        return [], [LineError(1, "header", ",".join(columns)[:200])]
    reader.fieldnames = columns
    wanted: list[tuple[int, BlockRequest]] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        if line > MAX_LINES:
            errors.append(LineError(line, "size", str(MAX_LINES)))
            break
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line
        try:
            request = _request_of(row, line)
        except _Refused as refused:
            errors.append(refused.error)
            continue
        if request.domain in seen:
            errors.append(LineError(line, "duplicate", request.domain))
            continue
        seen.add(request.domain)
        wanted.append((line, request))
    return wanted, errors


def _request_of(row: dict[str, str | None], line: int) -> BlockRequest:
    domain = (row.get("#domain") or "").strip()
    severity = (row.get("#severity") or "").strip() or "suspend"
    try:
        return block_request(
            domain,
            severity,
            reject_media=_flag(row.get("#reject_media"), line, "#reject_media"),
            reject_reports=_flag(row.get("#reject_reports"), line, "#reject_reports"),
            public_comment=(row.get("#public_comment") or "").strip(),
            obfuscate=_flag(row.get("#obfuscate"), line, "#obfuscate"),
        )
    except BlockError as refused:
        value = severity if refused.field == "severity" else domain
        raise _Refused(LineError(line, refused.field, value[:200])) from None


async def import_block_list(
    runtime: Runtime, data: bytes, moderator: Account | None = None
) -> ImportSummary:
    """Add the blocks of a CSV list that are not in place yet, in one transaction; the
    suspensions remove their domains' content as when added by hand (in one pass)."""
    wanted, errors = read_block_list(data)
    summary = ImportSummary(errors=errors)
    suspended: set[str] = set()
    async with runtime.sessions.begin() as session:
        existing = set(await session.scalars(select(DomainBlock.domain)))
        for line, request in wanted:
            if request.domain in existing:
                summary.already_blocked.append(request.domain)
                continue
            try:
                refuse_own_domain(runtime.config, request.domain)
            except BlockError as refused:
                summary.errors.append(LineError(line, refused.field, request.domain))
                continue
            block = DomainBlock(domain=request.domain, source="import")
            fill_block(block, request)
            session.add(block)
            await journal_block(session, request, moderator)
            summary.added.append(request.domain)
            if request.severity is DomainSeverity.SUSPEND:
                suspended.add(request.domain)
        await session.flush()
        summary.removed_rows = (await remove_domains_content(session, suspended)).total
    await runtime.moderation.refresh(runtime.sessions)
    summary.errors.sort(key=lambda error: error.line)
    return summary


def write_block_list(blocks: list[DomainBlock]) -> str:
    """The blocks as Mastodon's CSV export (private comments stay on this node)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BLOCK_LIST_HEADER)
    for block in blocks:
        writer.writerow(
            (
                block.domain,
                block.severity,
                _bool(block.reject_media),
                _bool(block.reject_reports),
                block.public_comment,
                _bool(block.obfuscate),
            )
        )
    return out.getvalue()


def _bool(value: bool) -> str:
    return "true" if value else "false"
