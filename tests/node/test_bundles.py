"""Sneakernet: two nodes that never reach each other over HTTP exchange signed bundles.

Every step is the real `maillage` command on real SQLite files; neither node is served, so
anything that tried the network would fail (their addresses are loopback ports nobody holds).
"""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from tests.testrig.postgres import free_port
from tests.testrig.processes import run_maillage


class Territory:
    """One initialised, never served node and the commands run on it."""

    def __init__(self, root: Path, name: str) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.base = f"http://{self.host}"
        self.data = root / name
        created = run_maillage(
            "init",
            "--data",
            str(self.data),
            "--base-url",
            self.base,
            "--name",
            name,
            "--allow-private-addresses",
        )
        assert created.returncode == 0, created.stderr

    def run(self, *args: str, code: int = 0) -> str:
        done = run_maillage(*args, "--data", str(self.data))
        assert done.returncode == code, done.stdout + done.stderr
        return done.stdout + done.stderr

    def query(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.data / "maillage.sqlite3") as db:
            return db.execute(sql, params).fetchall()

    def export(self, out: Path, *extra: str) -> Path:
        self.run("bundle", "export", "--out", str(out), *extra)
        return out

    def notes_from(self, other: Territory) -> list[str]:
        rows = self.query(
            "SELECT content FROM notes WHERE author_uri = ? AND deleted_at IS NULL "
            "ORDER BY published",
            f"{other.base}/actors/territoire",
        )
        return [content for (content,) in rows]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A follows-by-bundle round trip: B follows A, A accepts, A's news reach B."""
    root = tmp_path_factory.mktemp("sneakernet")
    a, b = Territory(root, "Amont"), Territory(root, "Bourg")
    a.run("announce", "Première nouvelle d'Amont")
    first = a.export(root / "a1.tar.gz")
    imported_first = b.run("bundle", "import", str(first))
    followed = b.run("follow", f"@territoire@{a.host}")
    to_a = b.export(root / "b1.tar.gz", "--for", a.host)
    imported_follow = a.run("bundle", "import", str(to_a))
    a.run("announce", "Deuxième nouvelle d'Amont")
    second = a.export(root / "a2.tar.gz", "--for", b.host)
    imported_second = b.run("bundle", "import", str(second))
    again = b.run("bundle", "import", str(second))
    return {
        "root": root,
        "a": a,
        "b": b,
        "first": first,
        "second": second,
        "imported_first": imported_first,
        "followed": followed,
        "imported_follow": imported_follow,
        "imported_second": imported_second,
        "again": again,
    }


def read_bundle(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}


def write_bundle(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_every_entry_of_an_export_carries_its_authors_proof(story):
    members = read_bundle(story["second"])
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "maillage-bundle/1"
    assert manifest["origin"] == story["a"].base and manifest["for"] == story["b"].host
    activities = [json.loads(line) for line in members["activities.jsonl"].splitlines()]
    actors = [json.loads(line) for line in members["actors.jsonl"].splitlines()]
    assert manifest["activities"] == len(activities) and manifest["actors"] == len(actors)
    assert {a["type"] for a in activities} >= {"Create", "Accept"}
    for document in activities + actors:
        proof = document["proof"]
        assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
        owner = document.get("actor", document["id"])
        assert proof["verificationMethod"] == f"{owner}#ed25519-key"


def test_a_bundle_of_a_stranger_keeps_its_actor_but_applies_no_post(story):
    out = story["imported_first"]
    assert "actors kept: 1" in out and "applied: 0" in out
    assert "stored but not acted on: 1" in out
    assert not any("Première" in note for note in story["b"].notes_from(story["a"]))


def test_a_node_with_no_link_follows_an_actor_it_knows_from_a_bundle(story):
    assert "follow request sent" in story["followed"]
    assert "applied: 1" in story["imported_follow"]  # the Follow, through A's inbox pipeline
    a, b = story["a"], story["b"]
    followers = a.query(
        "SELECT follower_uri, state FROM follows WHERE follower_uri LIKE ?", f"{b.base}/%"
    )
    assert followers == [(f"{b.base}/actors/territoire", "accepted")]


def test_the_answer_and_the_news_come_back_by_bundle(story):
    a, b = story["a"], story["b"]
    assert b.query(
        "SELECT state FROM follows WHERE followed_uri = ?", f"{a.base}/actors/territoire"
    ) == [("accepted",)]
    notes = b.notes_from(a)
    assert len(notes) == 1 and "Deuxième nouvelle d'Amont" in notes[0]
    assert "refused: 0" in story["imported_second"]


def test_importing_the_same_bundle_again_changes_nothing(story):
    out = story["again"]
    assert "applied: 0" in out and "refused: 0" in out
    total = len(read_bundle(story["second"])["activities.jsonl"].splitlines())
    assert f"already known: {total + 1}" in out  # every activity, and the actor
    assert len(story["b"].notes_from(story["a"])) == 1


def test_since_leaves_out_what_came_before(story):
    out = story["a"].export(story["root"] / "later.tar.gz", "--since", "2999-01-01")
    assert read_bundle(out)["activities.jsonl"] == b""


def fresh_reader(story) -> Territory:
    """A third node that knows nothing yet, to import altered copies into."""
    return Territory(story["root"], f"Tiers{free_port()}")


def test_a_tampered_entry_is_refused_and_the_others_applied(story):
    members = read_bundle(story["first"])
    lines = members["activities.jsonl"].splitlines()
    forged = lines[0].replace("Première nouvelle".encode(), b"Fausse nouvelle")
    members["activities.jsonl"] = b"\n".join([forged, *lines[1:]]) + b"\n"
    copy = write_bundle(story["root"] / "tampered.tar.gz", members)
    c = fresh_reader(story)
    out = c.run("bundle", "import", str(copy), code=1)
    assert "refused: 1" in out and "actors kept: 1" in out
    assert "activities.jsonl:1: the proof does not verify" in out
    assert not c.query("SELECT 1 FROM inbox_items WHERE raw LIKE '%Fausse%'")


def test_a_substituted_actor_key_is_refused(story):
    """A bundle cannot swap the key of an actor this node already knows."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from protocols.integrity import sign_document
    from protocols.keys import ed25519_to_multibase

    members = read_bundle(story["second"])
    actor = json.loads(members["actors.jsonl"].splitlines()[0])
    evil = ed25519.Ed25519PrivateKey.generate()
    for entry in actor["assertionMethod"]:
        entry["publicKeyMultibase"] = ed25519_to_multibase(evil.public_key())
    method = actor["proof"]["verificationMethod"]
    when = "2026-12-07T00:00:00Z"
    members["actors.jsonl"] = json.dumps(sign_document(actor, evil, method, when)).encode() + b"\n"
    forged_note = json.loads(members["activities.jsonl"].splitlines()[0])
    forged_note["id"] += "-forged"
    forged = sign_document(forged_note, evil, method, when)
    members["activities.jsonl"] = json.dumps(forged).encode() + b"\n"
    copy = write_bundle(story["root"] / "swapped.tar.gz", members)
    out = story["b"].run("bundle", "import", str(copy), code=1)
    assert "this node knows another key" in out
    assert "activities.jsonl:1: the proof does not verify" in out


def test_an_activity_signed_by_another_server_is_refused(story):
    members = read_bundle(story["first"])
    activity = json.loads(members["activities.jsonl"].splitlines()[0])
    activity["proof"]["verificationMethod"] = "http://127.0.0.1:9/actors/x#ed25519-key"
    members["activities.jsonl"] = json.dumps(activity).encode() + b"\n"
    copy = write_bundle(story["root"] / "elsewhere.tar.gz", members)
    out = fresh_reader(story).run("bundle", "import", str(copy), code=1)
    assert "a key from another server" in out


def test_a_truncated_bundle_is_refused_after_what_could_be_read(story):
    members = read_bundle(story["second"])
    members["activities.jsonl"] *= 300  # long enough to be cut in the middle of its lines
    whole = write_bundle(story["root"] / "long.tar.gz", members).read_bytes()
    cut = story["root"] / "cut.tar.gz"
    cut.write_bytes(whole[: len(whole) * 4 // 5])
    c = fresh_reader(story)
    out = c.run("bundle", "import", str(cut), code=1)
    assert "damaged: the bundle stops early or is damaged" in out
    assert "actors kept: 1" in out  # what came before the cut was still considered
    known = int(out.split("already known: ")[1].split()[0])
    assert known > 0


def test_a_file_that_is_no_bundle_gets_a_clear_message(story):
    junk = story["root"] / "junk.tar.gz"
    junk.write_bytes(b"not a bundle at all")
    out = story["b"].run("bundle", "import", str(junk), code=2)
    assert "is not a Maillage bundle" in out and "Traceback" not in out
    missing = story["b"].run("bundle", "import", str(story["root"] / "nope.tar.gz"), code=2)
    assert "does not exist" in missing


def test_progress_is_shown_while_importing(story):
    out = fresh_reader(story).run("bundle", "import", str(story["second"]))
    total = sum(
        json.loads(read_bundle(story["second"])["manifest.json"])[k]
        for k in ("actors", "activities")
    )
    assert f"{total}/{total} entries" in out


def test_a_bundle_from_a_suspended_domain_is_refused_entry_by_entry(story):
    root, a = story["root"], story["a"]
    c = Territory(root, "Coteau")
    c.run("blocks", "add", a.host, "--severity", "suspend")
    refused = c.run("bundle", "import", str(story["first"]), code=1)
    assert "refused: 2" in refused and "suspended by this node" in refused
    assert c.query("SELECT count(*) FROM remote_actors WHERE uri LIKE ?", f"{a.base}/%") == [(0,)]
    c.run("blocks", "remove", a.host)
    assert "actors kept: 1" in c.run("bundle", "import", str(story["first"]))
