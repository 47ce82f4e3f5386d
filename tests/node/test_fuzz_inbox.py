"""Property-based fuzzing of the inbox endpoint on a real node: generated activities, signed by
a real remote actor (so they reach the JSON-LD, origin and link checks) or not signed at all,
never get a 5xx, and every refusal says why (bench/fuzz.py runs the same with far more cases)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from node.storage.models import InboxItem
from node.web.app import create_app
from node.web.keys import inbox_worker_key, sessions_key
from tests.conftest import BASE_URL, config_for, initialise
from tests.testrig.fuzz_targets import activities, json_values
from tests.testrig.remote import FakeRemote, RemoteActorDoc, signed_post
from tests.testrig.threaded import LoopThread

#: cases per property in the test suite; `python -m bench --only fuzz` runs thousands
CASES = 120


@dataclass
class FuzzedInbox:
    """A served node, a served fake remote with one actor, and a blocking HTTP connection."""

    port: int
    actor: RemoteActorDoc
    app: web.Application
    loop: LoopThread

    def failures(self) -> list[str]:
        """Apply every stored activity with the node's handlers; the notes of those whose
        handler raised (a bug: hostile input must be ignored or refused, never crash)."""
        worker = self.app[inbox_worker_key]
        for _ in range(100):
            if self.loop.run(worker.run_once(limit=500)) == 0:
                break
        return self.loop.run(self._failed_notes())

    async def _failed_notes(self) -> list[str]:
        async with self.app[sessions_key]() as session:
            rows = await session.execute(
                select(InboxItem.note, InboxItem.raw).where(InboxItem.state == "failed")
            )
            return [f"{note} <- {raw[:300]}" for note, raw in rows]

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """POST to /inbox; the answer's status and JSON body ({} when it has none)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", "/inbox", body, {"Host": "saint-x.example", **headers})
            answer = connection.getresponse()
            text = answer.read()
        finally:
            connection.close()
        try:
            parsed = json.loads(text) if text else {}
        except ValueError:
            parsed = {"unreadable": text[:200].decode("utf-8", "replace")}
        return answer.status, parsed if isinstance(parsed, dict) else {"body": parsed}

    def check(self, body: bytes, headers: dict[str, str]) -> None:
        """The inbox answers below 500, and a refusal carries a reason."""
        status, answer = self.post(body, headers)
        assert status < 500, (status, answer, body[:300])
        if status >= 400:
            assert answer.get("error"), (status, answer, body[:300])


def serve_fuzzed_inbox(data: Path) -> Iterator[FuzzedInbox]:
    """A node on a SQLite file under `data`, allowed to fetch keys from the loopback remote."""
    with LoopThread() as loop:
        remote = FakeRemote()
        remote.base = f"http://127.0.0.1:{loop.serve(remote.app)}"
        actor = remote.add_actor("fuzz")
        config = config_for(data, federation={"allow_private_addresses": True})
        loop.run(initialise(config))
        app = create_app(config, workers=False)
        yield FuzzedInbox(loop.serve(app), actor, app, loop)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedInbox]:
    yield from serve_fuzzed_inbox(tmp_path_factory.mktemp("fuzz"))


def fuzz_settings(cases: int) -> Any:
    """Hypothesis settings for a served endpoint: no deadline, no example database."""
    return settings(
        max_examples=cases,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def signed_activities(inbox: FuzzedInbox) -> st.SearchStrategy[tuple[bytes, dict[str, str]]]:
    """Generated activities by the remote actor, correctly signed for /inbox."""
    return activities(inbox.actor.uri).map(
        lambda activity: signed_post(inbox.actor, f"{BASE_URL}/inbox", activity)
    )


def unsigned_bodies() -> st.SearchStrategy[tuple[bytes, dict[str, str]]]:
    """Raw bytes and JSON of any shape, without a signature."""
    bodies = st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
    return bodies.map(lambda body: (body, {"Content-Type": "application/activity+json"}))


def test_signed_generated_activities_never_get_a_5xx(inbox: FuzzedInbox) -> None:
    @fuzz_settings(CASES)
    @given(signed_activities(inbox))
    def feed(request: tuple[bytes, dict[str, str]]) -> None:
        inbox.check(*request)

    feed()


def test_unsigned_bodies_never_get_a_5xx(inbox: FuzzedInbox) -> None:
    @fuzz_settings(CASES)
    @given(unsigned_bodies())
    def feed(request: tuple[bytes, dict[str, str]]) -> None:
        inbox.check(*request)

    feed()


def test_what_the_inbox_accepted_is_applied_without_a_crash(inbox: FuzzedInbox) -> None:
    """Runs after the properties above: everything they got accepted goes through the
    handlers, which ignore or refuse what they cannot use."""
    assert inbox.failures() == []
