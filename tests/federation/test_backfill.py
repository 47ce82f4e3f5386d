"""Paging an outbox back to the last known activity: stop rule, budget, hostile pages.

The outbox is a set of documents served by `fetch` from a dict (the network is the only
thing replaced; our own paging and checks run as they are)."""

from __future__ import annotations

from typing import Any

import pytest

from federation.backfill import BackfillFailed, catch_up

ACTOR = "https://a.example/actors/territoire"
OUTBOX = f"{ACTOR}/outbox"


def note_activity(number: int, actor: str = ACTOR) -> dict[str, Any]:
    return {
        "id": f"https://a.example/activities/{number}",
        "type": "Create",
        "actor": actor,
        "object": {
            "id": f"https://a.example/notes/{number}",
            "type": "Note",
            "attributedTo": actor,
        },
    }


def served(newest: int, per_page: int = 3) -> dict[str, dict[str, Any]]:
    """An outbox of activities newest..1, paged like ours (first, next)."""
    numbers = list(range(newest, 0, -1))
    pages = [numbers[i : i + per_page] for i in range(0, len(numbers), per_page)]
    documents: dict[str, dict[str, Any]] = {
        OUTBOX: {"id": OUTBOX, "type": "OrderedCollection", "first": f"{OUTBOX}?page=1"}
    }
    for index, page in enumerate(pages, start=1):
        document: dict[str, Any] = {
            "id": f"{OUTBOX}?page={index}",
            "type": "OrderedCollectionPage",
            "orderedItems": [note_activity(n) for n in page],
        }
        if index < len(pages):
            document["next"] = f"{OUTBOX}?page={index + 1}"
        documents[document["id"]] = document
    return documents


class Server:
    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.documents = documents
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> dict[str, Any]:
        self.fetched.append(url)
        if url not in self.documents:
            raise ConnectionError(f"no route to {url}")
        return self.documents[url]


def knowing(*numbers: int):
    ids = {f"https://a.example/activities/{n}" for n in numbers}

    async def known(candidates: list[str]) -> set[str]:
        return ids & set(candidates)

    return known


def numbers_of(found) -> list[int]:
    return [int(a.activity_id.rsplit("/", 1)[1]) for a in found.activities]


async def test_pages_back_to_the_newest_known_activity_and_returns_oldest_first() -> None:
    server = Server(served(10))
    found = await catch_up(ACTOR, OUTBOX, server.fetch, knowing(1, 2, 3, 4, 5))
    assert numbers_of(found) == [6, 7, 8, 9, 10]
    assert found.reached_known and found.pages == 2
    assert server.fetched == [OUTBOX, f"{OUTBOX}?page=1", f"{OUTBOX}?page=2"]


async def test_nothing_new_costs_one_page() -> None:
    server = Server(served(10))
    found = await catch_up(ACTOR, OUTBOX, server.fetch, knowing(10))
    assert found.activities == [] and found.pages == 1


async def test_the_whole_outbox_when_nothing_is_known() -> None:
    found = await catch_up(ACTOR, OUTBOX, Server(served(7)).fetch, knowing())
    assert numbers_of(found) == [1, 2, 3, 4, 5, 6, 7] and not found.reached_known


async def test_the_budget_bounds_pages_and_activities() -> None:
    by_pages = await catch_up(ACTOR, OUTBOX, Server(served(30)).fetch, knowing(), max_pages=2)
    assert numbers_of(by_pages) == [25, 26, 27, 28, 29, 30]
    by_count = await catch_up(ACTOR, OUTBOX, Server(served(30)).fetch, knowing(), max_activities=4)
    assert numbers_of(by_count) == [27, 28, 29, 30]


async def test_items_of_another_actor_or_origin_are_refused_one_by_one() -> None:
    documents = served(3)
    page = documents[f"{OUTBOX}?page=1"]
    page["orderedItems"][0]["actor"] = "https://a.example/actors/someone-else"
    page["orderedItems"][1]["object"]["id"] = "https://elsewhere.example/notes/2"
    page["orderedItems"].append("https://a.example/activities/by-reference")
    found = await catch_up(ACTOR, OUTBOX, Server(documents).fetch, knowing())
    assert numbers_of(found) == [1]
    reasons = dict(found.refused)
    assert reasons["https://a.example/activities/3"] == (
        "the outbox holds an activity of another actor"
    )
    assert reasons["https://a.example/activities/2"] == "object id is not on the actor's server"
    assert "by reference" in reasons["https://a.example/activities/by-reference"]


async def test_an_outbox_or_page_on_another_server_is_not_read() -> None:
    with pytest.raises(BackfillFailed, match="not on the server"):
        await catch_up(ACTOR, "https://elsewhere.example/outbox", Server({}).fetch, knowing())
    documents = served(3)
    documents[OUTBOX]["first"] = "https://elsewhere.example/outbox?page=1"
    with pytest.raises(BackfillFailed, match="on another server"):
        await catch_up(ACTOR, OUTBOX, Server(documents).fetch, knowing())


async def test_an_unreachable_server_is_a_backfill_failure_not_a_crash() -> None:
    with pytest.raises(BackfillFailed, match="no route"):
        await catch_up(ACTOR, OUTBOX, Server({}).fetch, knowing())
    documents = served(6)
    del documents[f"{OUTBOX}?page=2"]
    with pytest.raises(BackfillFailed):
        await catch_up(ACTOR, OUTBOX, Server(documents).fetch, knowing())
