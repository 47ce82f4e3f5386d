"""The block-list format admins share (Mastodon's CSV export): its columns, in order."""

from __future__ import annotations

#: The header line of a Mastodon domain-block export, which an import requires.
BLOCK_LIST_HEADER = (
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
)
