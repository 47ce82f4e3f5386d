"""What is read most is kept until it changes: WebFinger and actor documents (ETag,
Cache-Control, 304), the home page and /proposals for visitors; and those pages cost the
same number of SQL statements however long the territory's history is, the number they cost
today."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event, select

from federation.ports import ReceivedActivity
from node.convert.needs import THEMES
from node.convert.notes import note_from_as
from node.services.accounts.members import update_profile
from node.services.federation.announcements import announce
from node.services.participation.circles import create_circle
from node.services.participation.needs import submit_need
from node.services.participation.proposal_pages import PROPOSALS_PAGE_SIZE
from node.services.participation.proposals import draft_proposal
from node.services.runtime import Runtime
from node.storage.inbox import SqlInbox
from node.storage.models import Account, Circle, LocalActor
from node.web.app import create_app
from node.web.keys import engine_key, runtime_key
from node.web.read_cache import read_cache_key
from tests.conftest import initialise
from tests.testrig.people import HTTP_NODE

AP = {"Accept": "application/activity+json"}
HTML = {"Accept": "text/html"}


async def _admin(runtime: Runtime) -> tuple[Account, LocalActor]:
    async with runtime.sessions() as session:
        account = await session.scalar(select(Account).where(Account.role == "admin"))
        assert account is not None and account.actor_id is not None
        actor = await session.get(LocalActor, account.actor_id)
        assert actor is not None
        return account, actor


async def test_an_actor_document_is_kept_with_an_etag_until_the_profile_changes(
    client: TestClient,
) -> None:
    runtime = client.app[runtime_key]
    account, actor = await _admin(runtime)
    path = f"/actors/{actor.username}"
    first = await client.get(path, headers=AP)
    assert first.status == 200 and "max-age=" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    assert first.headers["Content-Type"].startswith("application/activity+json")

    again = await client.get(path, headers={**AP, "If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    page = await client.get(path, headers=HTML)  # a browser still gets the page
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]

    await update_profile(runtime, account, {"display_name": "Nouveau nom", "summary": "Bonjour"})
    changed = await client.get(path, headers={**AP, "If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert (await changed.json())["name"] == "Nouveau nom"


async def test_webfinger_answers_304_to_a_server_that_has_it(client: TestClient) -> None:
    resource = {"resource": "acct:territoire@saint-x.example"}
    first = await client.get("/.well-known/webfinger", params=resource)
    assert first.status == 200 and first.headers["Access-Control-Allow-Origin"] == "*"
    etag = first.headers["ETag"]
    again = await client.get(
        "/.well-known/webfinger", params=resource, headers={"If-None-Match": f"W/{etag}"}
    )
    assert again.status == 304
    unknown = await client.get("/.well-known/webfinger", params={"resource": "acct:x@elsewhere"})
    assert unknown.status == 404


async def test_the_home_page_kept_for_visitors_shows_an_announcement_at_once(
    client: TestClient,
) -> None:
    first = await client.get("/", headers=HTML)
    etag = first.headers["ETag"]
    assert (await client.get("/", headers={**HTML, "If-None-Match": etag})).status == 304

    await announce(client.app[runtime_key], "Fête du village samedi sur la place")
    after = await client.get("/", headers={**HTML, "If-None-Match": etag})
    assert after.status == 200 and "Fête du village samedi" in await after.text()


#: SQL statements of the uncached home page and proposals list (README, "Reads").
HOME_STATEMENTS = 23
PROPOSALS_STATEMENTS = 4


@contextmanager
def counting_statements(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the node runs meanwhile."""
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = client.app[engine_key].sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def _grow(runtime: Runtime, account: Account, circle: Circle, start: int, count: int) -> None:
    """`count` more needs, proposals from them, and received posts."""
    theme = next(iter(THEMES))
    for number in range(start, start + count):
        need = await submit_need(
            runtime, account, title=f"Besoin {number}", text=f"Texte {number}", theme=theme
        )
        await draft_proposal(
            runtime,
            account,
            circle_id=circle.id,
            title=f"Proposition {number}",
            summary="Résumé",
            text="Texte",
            theme=theme,
            need_ids=[need.id],
        )
        async with runtime.sessions.begin() as session:
            document = {
                "id": f"https://voisins.example/notes/{number}",
                "type": "Note",
                "attributedTo": "https://voisins.example/users/a",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "content": f"<p>Message {number}</p>",
            }
            session.add(note_from_as(document, need.created_at))


@pytest.fixture
async def busy_node(aiohttp_client: Any, make_config: Any) -> TestClient:
    """A node with no background worker (every statement counted is the page's) whose admin
    may post far more needs in an hour than residents may."""
    config = make_config(node=HTTP_NODE, limits={"needs_per_hour": 1000})
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


async def test_home_and_proposals_cost_the_same_statements_whatever_the_history(
    busy_node: TestClient,
) -> None:
    client = busy_node
    runtime = client.app[runtime_key]
    account, _ = await _admin(runtime)
    circle_form = {"name": "Mobilités", "kind": "working", "mandate": "Trajets", "slug": "mob"}
    circle = await create_circle(runtime, account, circle_form)
    await _grow(runtime, account, circle, 0, 3)

    async def statements(visit: int) -> dict[str, int]:
        counts = {}
        for path in ("/", "/proposals"):
            with counting_statements(client) as seen:
                # a new query string each time: computed, not taken from the cache
                response = await client.get(f"{path}?visit={visit}", headers=HTML)
                assert response.status == 200
            counts[path] = len(seen)
        return counts

    small = await statements(1)
    await _grow(runtime, account, circle, 3, PROPOSALS_PAGE_SIZE)
    large = await statements(2)
    assert all(large[path] <= small[path] for path in small), (small, large)
    # and each costs what it costs today, so that the count cannot silently grow back (when a
    # change lowers it, lower these and the README's figures with it)
    assert small == large == {"/": HOME_STATEMENTS, "/proposals": PROPOSALS_STATEMENTS}

    # the list shows a page at a time, the newest first, and links to the older ones
    first = await (await client.get("/proposals", headers=HTML)).text()
    assert f"Propositions ({PROPOSALS_PAGE_SIZE + 3})" in first
    assert f"Proposition {PROPOSALS_PAGE_SIZE + 2}<" in first and "Proposition 2<" not in first
    assert 'rel="next" href="/proposals?theme=&amp;state=&amp;page=2"' in first
    second = await (await client.get("/proposals?page=2&lang=en", headers=HTML)).text()
    assert "Proposition 2<" in second and "Page 2 of 2" in second and "Newer proposals" in second


async def test_queue_and_session_writes_keep_the_cache_but_content_writes_do_not(
    web_node: TestClient,
) -> None:
    client = web_node  # no background worker writes meanwhile
    runtime = client.app[runtime_key]
    stamp = client.app[read_cache_key].stamp
    before = stamp.value
    activity = {
        "id": "https://ailleurs.example/a/1",
        "type": "Like",
        "actor": "https://ailleurs.example/u",
    }
    stored = await SqlInbox(runtime.sessions).add_if_new(
        ReceivedActivity(activity["id"], "Like", activity["actor"], None, activity)
    )
    assert stored and stamp.value == before  # a burst of deliveries leaves the caches alone
    await announce(runtime, "Marché de Noël samedi.")
    assert stamp.value > before
