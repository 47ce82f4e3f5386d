"""Offline operation with real nodes: a node that was away catches up from its peers'
outboxes, and what it holds for them waits and leaves in order."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.testrig.nodes import MaillageNode, eventually
from tests.testrig.processes import run_maillage


def notes_by(node: MaillageNode, author: str) -> list[str]:
    with sqlite3.connect(f"file:{node.data / 'maillage.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT content FROM notes WHERE author_uri = ? ORDER BY published, id", (author,)
        ).fetchall()
    return [str(content) for (content,) in rows]


def follow_state(node: MaillageNode, followed: str) -> str | None:
    with sqlite3.connect(f"file:{node.data / 'maillage.sqlite3'}?mode=ro", uri=True) as db:
        row = db.execute("SELECT state FROM follows WHERE followed_uri = ?", (followed,)).fetchone()
    return row[0] if row else None


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[MaillageNode, MaillageNode]]:
    a = MaillageNode(tmp_path, "Amont").start()
    b = MaillageNode(tmp_path, "Bourg").start()
    try:
        b.cli("follow", a.acct)
        eventually(lambda: follow_state(b, a.territory) == "accepted", "B's follow of A accepted")
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_a_node_back_from_a_gap_reads_what_it_missed_from_the_outboxes(pair) -> None:
    a, b = pair
    a.cli("announce", "Avant la coupure")
    eventually(lambda: len(notes_by(b, a.territory)) == 1, "the first note on B")
    b.stop()  # B is away: A cannot deliver what comes next
    for text in ("Pendant la coupure, un", "Pendant la coupure, deux", "Pendant la coupure, trois"):
        a.cli("announce", text)

    caught_up = run_maillage("backfill", "--data", str(b.data))
    assert caught_up.returncode == 0, caught_up.stdout + caught_up.stderr
    assert f"{a.territory}: 3 new (1 page(s) read)" in caught_up.stdout
    notes = notes_by(b, a.territory)
    assert [n.removeprefix("<p>").removesuffix("</p>") for n in notes] == [
        "Avant la coupure",
        "Pendant la coupure, un",
        "Pendant la coupure, deux",
        "Pendant la coupure, trois",
    ]
    again = run_maillage("backfill", "--data", str(b.data))
    assert f"{a.territory}: 0 new (1 page(s) read)" in again.stdout

    b.start()  # A's own retries now arrive too: nothing is applied twice
    # A's operator knows B is back: no waiting for A's backoff on B, up to minutes long (A
    # may also have just retried by itself: then nothing waits for a retry any more)
    said = a.cli("retry")
    assert "1 server(s) will be tried again at once" in said or "nothing waits" in said
    a.cli("announce", "Après la coupure")
    eventually(lambda: len(notes_by(b, a.territory)) == 5, "the note sent after the gap")

    a.stop()  # a peer that does not answer is named, and left for the next time
    result = run_maillage("backfill", "--data", str(b.data))
    assert result.returncode == 1
    assert f"{a.territory}: not read" in result.stdout and "try again" in result.stdout
