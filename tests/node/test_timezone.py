"""Times in the territory's own time zone (`territory.timezone`): pages, forms, the Atom feed
and the CSV exports show and read local time; the database and the federated documents keep
UTC. The node under test is configured for America/New_York, so that no test passes by
accident on a machine whose clock is Paris or UTC."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from node.storage.base import utcnow
from node.storage.models import Need, StateChange
from node.web.app import create_app
from node.web.keys import sessions_key
from tests.conftest import initialise
from tests.node.test_decisions import decision, open_by_form, proposal_in_deliberation
from tests.node.test_feed import NS, add_need
from tests.node.test_open_data import by, csv_of
from tests.testrig.people import HTML, HTTP_NODE, as_person, submit

AP = {"Accept": "application/activity+json"}


@pytest.fixture
async def new_york(aiohttp_client: Any, make_config: Any) -> TestClient:
    """A node on New York's clock (UTC-4 in summer, UTC-5 in winter), browsed over http."""
    config = make_config(node=HTTP_NODE, territory={"timezone": "America/New_York"})
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


def last_sunday_of_march(year: int) -> date:
    """The day Europe changes to summer time."""
    day = date(year, 3, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


async def test_a_local_closing_time_is_stored_in_utc_and_shown_back_local(
    new_york: TestClient,
) -> None:
    year = utcnow().year + 1  # a closing time in the future, in summer (UTC-4)
    proposal_id = await proposal_in_deliberation(new_york)
    await as_person(new_york, "camille", "facilitator")
    form = await (await new_york.get("/decisions/new", headers=HTML)).text()
    assert "Heures du territoire, fuseau America/New_York." in form
    decision_id = await open_by_form(new_york, proposal_id, closes_at=f"{year}-07-01T08:00")
    stored = await decision(new_york, decision_id)
    assert stored.closes_at == datetime(year, 7, 1, 12, 0, tzinfo=UTC)

    page = await (await new_york.get(f"/decisions/{decision_id}", headers=HTML)).text()
    assert f'<time datetime="{year}-07-01T08:00:00-04:00">01/07/{year} 08:00</time>' in page
    listing = await (await new_york.get("/decisions", headers=HTML)).text()
    assert f"01/07/{year} 08:00" in listing and f"01/07/{year} 12:00" not in listing

    question = await (await new_york.get(f"/decisions/{decision_id}", headers=AP)).json()
    assert question["endTime"] == f"{year}-07-01T12:00:00Z"  # federated: UTC

    _, rows = await csv_of(new_york, "decisions")
    assert by(rows, "id", decision_id)["closes_at"] == f"{year}-07-01T08:00:00-04:00"


async def test_a_local_time_the_clocks_skip_is_refused_with_a_reason(
    web_node: TestClient,
) -> None:
    """On the Paris node (the default zone), 02:30 does not exist on the spring change day."""
    spring = last_sunday_of_march(utcnow().year + 1)
    proposal_id = await proposal_in_deliberation(web_node)
    await as_person(web_node, "camille", "facilitator")
    fields = {
        "proposal": proposal_id,
        "question": "Expérimenter la navette du samedi ?",
        "method": "majority",
        "opens_at": "",
        "closes_at": f"{spring.isoformat()}T02:30",
        "quorum": "10",
    }
    response = await submit(web_node, "/decisions/new", "/decisions", **fields)
    assert response.status == 400
    assert "Cette heure n&#39;existe pas ce jour-là" in await response.text()

    fields["closes_at"] = f"{spring.isoformat()}T03:30"  # summer time already: UTC+2
    decision_id = await open_by_form(web_node, proposal_id, **fields)
    stored = await decision(web_node, decision_id)
    assert stored.closes_at == datetime.combine(spring, datetime.min.time(), UTC) + timedelta(
        hours=1, minutes=30
    )


async def test_the_feed_and_the_timeline_show_local_time_with_its_offset(
    new_york: TestClient,
) -> None:
    need = await add_need(new_york, "Navette du samedi", assigned=False)
    winter_noon = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 07:00 in New York (UTC-5)
    async with new_york.app[sessions_key].begin() as session:
        await session.execute(update(Need).where(Need.uri == need).values(created_at=winter_noon))
        await session.execute(
            update(StateChange).where(StateChange.object_uri == need).values(at=winter_noon)
        )

    feed = ET.fromstring(await (await new_york.get("/feed.atom")).read())
    [entry] = feed.findall("atom:entry", NS)
    assert entry.findtext("atom:updated", namespaces=NS) == "2026-01-15T07:00:00-05:00"
    assert feed.findtext("atom:updated", namespaces=NS) == "2026-01-15T07:00:00-05:00"

    home = await (await new_york.get("/", headers=HTML)).text()
    timeline = home.split('id="timeline"')[1].split("</section>")[0]
    assert '<time datetime="2026-01-15T07:00:00-05:00">15/01/2026 07:00</time>' in timeline
