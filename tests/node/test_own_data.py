"""A resident downloads their own data from /account: a JSON file (and the same as CSV files
in a zip) holding their account, profile, circles, needs, supports, comments, replies to
offers, proposals, amendments, votes, answers to other territories' decisions and offers."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.services.accounts.own_data_sections import SECTIONS
from node.storage.models import Account, Amendment, RemoteVote
from node.web.i18n import english
from node.web.keys import sessions_key
from tests.node.test_decisions import open_by_form, vote
from tests.node.test_needs import add_circle, join_circle, make_node, new_need
from tests.node.test_offers import LEND, publish_ok
from tests.node.test_proposals import drafted
from tests.testrig.people import HTML, add_account, log_in, submit

#: Where the resident of `busy_resident` answered another territory's decision.
REMOTE_QUESTION = "https://voisin.example/decisions/q1"


@dataclass
class Resident:
    """A resident who took part in everything, and what they made (local paths)."""

    username: str
    password: str
    need: str
    proposal: str
    amendment: str
    decision: str
    offer: str
    facilitator: tuple[str, str]


async def busy_resident(client: TestClient, username: str = "camille") -> Resident:
    """A resident, logged in at the end, who expressed and supported a need, commented on
    it, drafted a proposal in a circle, amended it, voted on its decision, answered another
    territory's decision, published an offer and replied to it."""
    circle_id = await add_circle(client, "Cercle Mobilités", f"mobilites-{username}")
    facilitator = (
        "fatou",
        await add_account(client, "fatou", "facilitator"),
    )
    password = await add_account(client, username)
    await join_circle(client, username, circle_id, "member")
    await log_in(client, username, password)
    need_id = await new_need(client, "Navette vers la gare")
    need = f"/needs/{need_id}"
    assert (await submit(client, need, f"{need}/support", support="give")).status == 302
    response = await submit(client, need, f"{need}/comments", comment="Le train de 8 h.")
    assert response.status == 302
    proposal_id = await drafted(client, circle_id, need_id)
    proposal = f"/proposals/{proposal_id}"
    response = await submit(
        client, proposal, f"{proposal}/amendments", text="Deux minibus.", rationale="Places."
    )
    assert response.status == 302
    offer_id = await publish_ok(client, **LEND)
    offer = f"/offers/{offer_id}"
    response = await submit(client, offer, f"{offer}/replies", text="Aussi une remorque.")
    assert response.status == 302

    await log_in(client, *facilitator)
    response = await submit(client, proposal, f"{proposal}/state", state="in_deliberation")
    assert response.status == 302, await response.text()
    decision_id = await open_by_form(client, proposal_id, quorum="0")
    await log_in(client, username, password)
    assert (await vote(client, decision_id, "for")).status == 302
    async with client.app[sessions_key].begin() as session:
        account = (await session.scalars(select(Account).where(Account.username == username))).one()
        session.add(
            RemoteVote(
                account_id=account.id,
                question_uri=REMOTE_QUESTION,
                choice="Oui",
                activity_uri="https://saint-x.example/activities/answer-1",
            )
        )
        amendment = f"/amendments/{await _amendment_id(client, proposal_id)}"
    return Resident(
        username,
        password,
        need,
        proposal,
        amendment,
        f"/decisions/{decision_id}",
        offer,
        facilitator,
    )


async def _amendment_id(client: TestClient, proposal_id: str) -> str:
    async with client.app[sessions_key]() as session:
        return (
            await session.scalars(select(Amendment.id).where(Amendment.proposal_id == proposal_id))
        ).one()


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    return await make_node(aiohttp_client, make_config)


async def test_a_resident_downloads_everything_they_did(node: TestClient) -> None:
    resident = await busy_resident(node)
    base = "http://saint-x.example"

    page = await (await node.get("/account", headers=HTML)).text()
    assert 'href="/account/data.json"' in page and "Télécharger mes données" in page
    assert 'href="/account/delete"' in page

    response = await node.get("/account/data.json")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(await response.read())
    assert data["format"] == "maillage-own-data" and data["version"] == 1
    assert data["account"]["username"] == "camille" and data["account"]["role"] == "resident"
    assert data["account"]["display_name"] == "Camille"
    assert data["profile"]["actor"] == f"{base}/actors/camille"
    assert [c["circle"] for c in data["circles"]] == ["Cercle Mobilités"]
    assert [n["url"] for n in data["needs"]] == [base + resident.need]
    assert [s["need"] for s in data["supports"]] == [base + resident.need]
    assert [(c["in_reply_to"], c["text"]) for c in data["comments"]] == [
        (base + resident.need, "Le train de 8 h.")
    ]
    assert [(r["in_reply_to"], r["text"]) for r in data["offer_replies"]] == [
        (base + resident.offer, "Aussi une remorque.")
    ]
    assert [p["url"] for p in data["proposals"]] == [base + resident.proposal]
    assert [(a["url"], a["text"]) for a in data["amendments"]] == [
        (base + resident.amendment, "Deux minibus.")
    ]
    assert [(v["decision"], v["choice"]) for v in data["votes"]] == [
        (base + resident.decision, "for")
    ]
    assert [(a["question"], a["choice"]) for a in data["remote_answers"]] == [
        (REMOTE_QUESTION, "Oui")
    ]
    assert [o["url"] for o in data["offers"]] == [base + resident.offer]
    # every documented field is in the file, and nothing undocumented
    for section in SECTIONS:
        records = (
            data[section.name] if isinstance(data[section.name], list) else [data[section.name]]
        )
        for record in records:
            assert set(record) == {column.name for column in section.columns}, section.name

    archive = zipfile.ZipFile(io.BytesIO(await (await node.get("/account/data.zip")).read()))
    assert json.loads(archive.read("mes-donnees.json"))["needs"] == data["needs"]
    votes = list(csv.DictReader(io.StringIO(archive.read("votes.csv").decode())))
    assert [row["choice"] for row in votes] == ["for"]
    assert {f"{s.name}.csv" for s in SECTIONS} <= set(archive.namelist())


async def test_someone_else_gets_only_their_own_data(node: TestClient) -> None:
    await busy_resident(node)
    await log_in(node, "ana", await add_account(node, "ana"))
    data = json.loads(await (await node.get("/account/data.json")).read())
    assert data["account"]["username"] == "ana"
    assert all(data[s.name] == [] for s in SECTIONS if isinstance(data[s.name], list))
    node.session.cookie_jar.clear()
    response = await node.get("/account/data.json", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")


async def test_the_account_page_in_english(node: TestClient) -> None:
    await log_in(node, "ana", await add_account(node, "ana"))
    page = await (await node.get("/account?lang=en", headers=HTML)).text()
    assert "Download my data" in page and "Delete my account" in page
    assert "The needs you expressed" in page
    catalogue = english()
    for section in SECTIONS:
        assert section.title in catalogue
        assert all(column.description in catalogue for column in section.columns)
