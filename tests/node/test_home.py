"""The home page of the sample commune (filled by the demo, as `maillage demo` does): the
territory's dashboard (what is open now, a small map, a few indicators' sparklines) above its
activity, which says things as a person would, with no external asset; and the Atom feed,
which says them the same way."""

from __future__ import annotations

import asyncio
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from instance_config import InstanceConfig
from node.demo import fill_demo
from node.storage.models import Decision, Need, Offer
from node.web.app import create_app
from node.web.keys import sessions_key
from tests.conftest import config_for, initialise
from tests.testrig.people import HTML, HTTP_NODE

BASE = HTTP_NODE["base_url"]
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "territory"
ATOM = {"atom": "http://www.w3.org/2005/Atom"}


@pytest.fixture(scope="module")
def commune(tmp_path_factory: pytest.TempPathFactory) -> InstanceConfig:
    """A node filled once with the sample commune (its map, indicators and two years of
    participation), its boundary configured; the tests only read it."""
    data = tmp_path_factory.mktemp("commune")
    shutil.copy(SAMPLE / "boundary.geojson", data / "boundary.geojson")
    config = config_for(data, node=HTTP_NODE, territory={"boundary": "boundary.geojson"})

    async def fill() -> None:
        await initialise(config)
        await fill_demo(config, {}, progress=lambda line: None)

    asyncio.run(fill())
    return config


@pytest.fixture
async def home(aiohttp_client: Any, commune: InstanceConfig) -> TestClient:
    return await aiohttp_client(create_app(commune, workers=False))


class Blocks(HTMLParser):
    """The sections of a page by the id of their heading: each one's text and links."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.links: dict[str, list[str]] = {}
        self.svgs: dict[str, list[str]] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section":
            block = found.get("aria-labelledby")
            self._open.append(block)
            if block:
                self.text[block], self.links[block], self.svgs[block] = "", [], []
        for block in self._current():
            if tag == "a" and found.get("href"):
                self.links[block].append(str(found["href"]))
            if tag == "svg":
                self.svgs[block].append(str(found.get("class")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for block in self._current():
            self.text[block] += data

    def _current(self) -> list[str]:
        return [block for block in self._open if block]


async def page_blocks(client: TestClient, path: str = "/") -> tuple[str, Blocks]:
    response = await client.get(path, headers=HTML)
    assert response.status == 200
    page = await response.text()
    blocks = Blocks()
    blocks.feed(page)
    return page, blocks


def squeezed(text: str) -> str:
    return " ".join(text.split())


async def test_the_dashboard_shows_what_is_open_now(home: TestClient) -> None:
    page, blocks = await page_blocks(home)
    # in this order: the dashboard, its glance at the map and indicators, then the activity
    order = [page.index(f'id="{block}"') for block in ("open-now", "glance", "timeline")]
    assert order == sorted(order)

    decisions = squeezed(blocks.text["open-decisions"])
    assert "Décisions à voter (1)" in decisions
    assert "Rue scolaire aux heures d'école et pédibus devant Jules-Ferry ?" in decisions
    assert re.search(r"clôture le \d\d/\d\d/\d{4} \d\d:\d\d · \d+ vote\(s\)", decisions)

    needs = squeezed(blocks.text["waiting-needs"])
    assert "Besoins à soutenir (5)" in needs  # 3 to triage and 2 with a circle
    assert "Plus de produits locaux à la cantine 5 soutien(s) · confié à un cercle" in needs
    assert "Un repair café une fois par mois 4 soutien(s) · à trier" in needs
    assert "Composter nos déchets" not in needs  # taken up in a proposal: no longer waiting

    experiments = squeezed(blocks.text["running-experiments"])
    assert "Expérimentations en cours (1)" in experiments
    assert "Navette solidaire du samedi" in experiments
    assert "Composteurs de quartier" not in experiments  # concluded
    assert re.search(r"Trajets effectués : [\d.]+ trajets/mois mesuré le \d{4}-", experiments)
    assert blocks.svgs["running-experiments"] == ["sparkline", "sparkline"]

    offers = squeezed(blocks.text["open-offers"])
    assert "Offres et demandes ouvertes (6)" in offers
    assert "Un coup de main pour tailler une haie Demande · Heures de banque de temps" in offers
    assert "Plants de tomates anciennes à donner" not in offers  # taken

    async with home.app[sessions_key]() as session:  # each block's figure is the database's
        open_needs = await session.scalar(
            select(func.count()).where(Need.state.in_(("submitted", "in_circle")))
        )
        open_offers = await session.scalar(select(func.count()).where(Offer.state == "open"))
        open_votes = await session.scalar(select(func.count()).where(Decision.state == "open"))
    assert (open_needs, open_offers, open_votes) == (5, 6, 1)
    assert len([link for link in blocks.links["waiting-needs"] if "/needs/0" in link]) == 5
    assert len([link for link in blocks.links["open-offers"] if "/offers/0" in link]) == 5


async def test_the_glance_draws_a_small_offline_map_and_sparklines(home: TestClient) -> None:
    page, blocks = await page_blocks(home)
    assert blocks.svgs["glance-map"] == ["map map-overview"]
    glance = re.search(r'<svg class="map map-overview"[\s\S]*?</svg>', page)
    assert glance is not None
    assert glance.group().count('<g class="place ') == 30
    assert 'class="boundary-area"' in glance.group() and "legend" not in glance.group()
    assert "<image" not in glance.group()  # no tile: it shows with no internet
    assert "30 lieu(x) · 40 acteur(s) · 60 flux" in squeezed(blocks.text["glance-map"])

    indicators = squeezed(blocks.text["glance-indicators"])
    assert blocks.svgs["glance-indicators"] == ["sparkline"] * 4
    assert "Participation aux décisions" in indicators and "Autonomie alimentaire" in indicators
    assert re.search(r"observation\(s\) du \d{4}-\d\d-\d\d au", indicators)  # for screen readers
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):  # nothing from elsewhere
        assert url.startswith(("/", "#", "?", BASE)), url

    english = squeezed((await page_blocks(home, "/?lang=en"))[1].text["open-now"])
    assert "Decisions to vote on (1)" in english and "Needs to support (5)" in english


async def test_every_link_of_the_dashboard_answers(home: TestClient) -> None:
    _, blocks = await page_blocks(home)
    links = {
        link
        for block in ("open-now", "glance")
        for link in blocks.links[block]
        if link.startswith(("/", BASE))
    }
    assert {"/decisions", "/needs", "/experiments", "/offers", "/map", "/indicators"} <= links
    assert len(links) > 20
    for link in sorted(links):
        response = await home.get(link.removeprefix(BASE), headers=HTML)
        assert response.status == 200, link


def timeline_lines(page: str) -> list[str]:
    """Each entry of the activity as it reads: its line of facts, then its title."""
    timeline = page.split('id="timeline"')[1].split("</section>")[0]
    entries = re.findall(r"<li>(.*?)</li>", timeline, re.S)
    return [squeezed(re.sub(r"<[^>]+>", " ", entry)) for entry in entries]


async def test_the_activity_says_what_happened_as_a_person_would(home: TestClient) -> None:
    page, _ = await page_blocks(home)
    lines = timeline_lines(page)
    assert len(lines) == 20
    for line in lines:
        assert "Publication" not in line, line
        facts = re.split(r"^\d\d/\d\d/\d{4} \d\d:\d\d · ", line)[1] + " "
        assert not re.search(r"(\S[^→]*) → puis \1 ", facts), line  # "brouillon → brouillon"
    # a publication is named by its kind alone; a change of state says before and after
    assert any(
        re.search(r"\d\d:\d\d · Besoin Des bancs le long des quais de Loire$", x) for x in lines
    )
    assert any(
        "Proposition · brouillon → puis en délibération Pédibus et rue scolaire" in x for x in lines
    )
    # an accepted amendment keeps the proposal a draft: the line says what it did
    amended = [x for x in lines if "Jardins partagés sur la parcelle des Sablons" in x]
    assert any("Proposition · texte modifié par un amendement accepté" in x for x in amended)
    assert not any("brouillon → puis brouillon" in x for x in lines)

    english = timeline_lines((await page_blocks(home, "/?lang=en"))[0])
    assert any("Proposal · text changed by an accepted amendment" in x for x in english)
    assert not any("Published" in x for x in english)


async def test_the_feed_says_it_the_same_way(home: TestClient) -> None:
    feed = ET.fromstring(await (await home.get("/feed.atom")).read())
    summaries = [e.findtext("atom:summary", namespaces=ATOM) or "" for e in feed.iter()]
    summaries = [s for s in summaries if s]
    assert summaries and not any("Publication" in s for s in summaries)
    assert not [s for s in summaries if re.search(r"· (.+) → \1$", s)]
    assert "Annonce" in summaries  # a publication: its kind alone
    assert "Proposition · texte modifié par un amendement accepté" in summaries
