"""The territory's indicators on one node: the default catalogue seeded once, facilitators'
forms with field errors and residents refused, the sample territory's CSV import (and bad
files reported row by row with nothing stored), the export round trip, the dashboard's
server-drawn charts, the indicator page, the values the node computes itself, and the
documents and collections peers read."""

from __future__ import annotations

import csv
import html
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from node.domain.indicators import DEFAULT_CATALOGUE
from node.services.knowledge.indicators.catalogue import seed_default_catalogue
from node.services.knowledge.indicators.imports import (
    MAX_UPLOAD_BYTES,
    ImportReport,
    import_observations,
)
from node.storage.models import (
    Account,
    Circle,
    Decision,
    Indicator,
    Need,
    Observation,
    OutboxEntry,
    Proposal,
    Vote,
)
from node.web.app import create_app
from node.web.keys import config_key, sessions_key
from tests.conftest import config_for, initialise
from tests.node.test_experiments import make_circle
from tests.testrig.people import HTML, HTTP_NODE, add_account, as_person, csrf_of, submit

AP = {"Accept": "application/activity+json"}
BASE = HTTP_NODE["base_url"]
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "territory"
SVG = "{http://www.w3.org/2000/svg}"
SAMPLE_SLUGS = {
    "assembly-attendance",
    "felt-isolation",
    "local-energy",
    "local-food",
    "participation-decisions",
    "time-bank-hours",
    "volunteer-hours",
    "well-being",
}


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> TestClient:
    config = make_config(node=HTTP_NODE)
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


async def count(client: TestClient, model: Any) -> int:
    async with client.app[sessions_key]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def upload(client: TestClient, kind: str, content: bytes, name: str = "f.csv") -> Any:
    """Post a file to the import form as a browser does (multipart, with the CSRF field)."""
    page = await (await client.get("/indicators/import", headers=HTML)).text()
    form = FormData()
    form.add_field("csrf", csrf_of(page))
    form.add_field("kind", kind)
    form.add_field("file", content, filename=name, content_type="text/csv")
    return await client.post("/indicators/import", data=form, headers=HTML)


async def import_sample(client: TestClient) -> None:
    """The sample territory's definitions, then its two years of observations."""
    for kind in ("indicators", "observations"):
        response = await upload(client, kind, (SAMPLE / f"{kind}.csv").read_bytes())
        assert response.status == 200, await text_of(response)


async def text_of(response: Any) -> str:
    """A page's text with its entities decoded (apostrophes are written &#39;)."""
    return html.unescape(await response.text())


def svgs(page: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed."""
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", page, re.S)]


# --- the catalogue ---------------------------------------------------------------------------


async def test_default_catalogue_is_seeded_once(node: TestClient) -> None:
    sessions, config = node.app[sessions_key], node.app[config_key]
    assert len(DEFAULT_CATALOGUE) >= 8
    assert await seed_default_catalogue(sessions, config) == len(DEFAULT_CATALOGUE)
    assert await seed_default_catalogue(sessions, config) == 0
    page = await text_of(await node.get("/indicators", headers=HTML))
    assert await count(node, Indicator) == len(DEFAULT_CATALOGUE)
    async with sessions() as session:
        stored = {i.slug: i for i in await session.scalars(select(Indicator))}
    assert set(stored) == {d.slug for d in DEFAULT_CATALOGUE}
    for definition in DEFAULT_CATALOGUE:
        indicator = stored[definition.slug]
        assert indicator.uri == f"{BASE}/indicators/{definition.slug}"
        assert indicator.direction in ("increase", "decrease")
        assert indicator.unit and indicator.source and indicator.method
        assert f'href="/indicators/{definition.slug}"' in page
    assert stored["felt-isolation"].direction == "decrease"
    assert page.count("<h1") == 1 and "Indicateurs du territoire" in page


async def test_facilitator_adds_an_indicator_with_field_errors_first(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    bad = await submit(
        node,
        "/indicators/new",
        "/indicators/new",
        slug="Heures Jardin",
        name="",
        unit="heures",
        direction="sideways",
        baseline="beaucoup",
    )
    assert bad.status == 400
    page = await text_of(bad)
    for field in ("slug", "name", "direction", "baseline"):
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page), field
        assert f'id="{field}-error"' in page
    assert 'role="alert"' in page
    assert "Utilisez des minuscules, des chiffres et des tirets." in page
    good = await submit(
        node,
        "/indicators/new",
        "/indicators/new",
        slug="jardins-partages",
        name="Parcelles de jardins partagés cultivées",
        unit="parcelles",
        direction="increase",
        theme="local_autonomy",
        baseline="12",
        target="30",
    )
    assert good.status == 302 and good.headers["Location"].startswith("/indicators/jardins")
    again = await submit(
        node,
        "/indicators/new",
        "/indicators/new",
        slug="jardins-partages",
        name="Doublon",
        unit="u",
        direction="increase",
    )
    assert again.status == 400 and "Un indicateur porte déjà ce nom court." in await text_of(again)
    assert await count(node, Indicator) == len(DEFAULT_CATALOGUE) + 1


async def test_observation_form_field_errors_then_record_and_correct(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    page = "/indicators/well-being"
    action = f"{page}/observations"
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    for fields, field, reason in (
        ({"observed_on": "2026-02-30", "value": "7"}, "observed-on", "AAAA-MM-JJ"),
        ({"observed_on": tomorrow, "value": "7"}, "observed-on", "dans le futur"),
        ({"observed_on": "2026-01-31", "value": "sept"}, "value", "Entrez un nombre"),
        ({"observed_on": "2026-01-31", "value": ""}, "value", "obligatoire"),
    ):
        response = await submit(node, page, action, **fields)
        text = await text_of(response)
        assert response.status == 400, fields
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', text), fields
        error = re.search(rf'<p class="error" role="alert" id="{field}-error">([^<]*)</p>', text)
        assert error and reason in error.group(1), (fields, error)
    assert await count(node, Observation) == 0
    done = await submit(node, page, action, observed_on="2026-01-31", value="7,2", note="Q1")
    assert done.status == 302 and "done=recorded" in done.headers["Location"]
    fixed = await submit(node, page, action, observed_on="2026-01-31", value="7.4")
    assert fixed.status == 302 and "done=corrected" in fixed.headers["Location"]
    async with node.app[sessions_key]() as session:
        (observation,) = list(await session.scalars(select(Observation)))
    assert (observation.value, observation.observed_on) == (7.4, date(2026, 1, 31))
    assert observation.uri == f"{BASE}/indicators/well-being/observations/2026-01-31"
    shown = await text_of(await node.get(f"{page}?done=corrected", headers=HTML))
    assert "L'observation de ce jour a été corrigée." in shown and 'id="obs-2026-01-31"' in shown


async def test_residents_and_visitors_are_refused(node: TestClient) -> None:
    visitor = await node.get("/indicators/new", headers=HTML, allow_redirects=False)
    assert visitor.status == 302 and visitor.headers["Location"].startswith("/login")
    await as_person(node, "remi", "resident")
    dashboard = await text_of(await node.get("/indicators", headers=HTML))
    assert 'href="/indicators/new"' not in dashboard and "/indicators/import" not in dashboard
    assert 'href="/indicators/export/observations.csv"' in dashboard  # open data for all
    indicator = await text_of(await node.get("/indicators/local-food", headers=HTML))
    assert "/observations" not in re.sub(r'href="[^"]*"', "", indicator.split("<main")[1])
    for path in ("/indicators/new", "/indicators/import"):
        refused = await node.get(path, headers=HTML)
        assert refused.status == 403 and "facilitat" in await text_of(refused)
    for action, fields in (
        ("/indicators/local-food/observations", {"observed_on": "2026-01-31", "value": "3"}),
        ("/indicators/participation-decisions/compute", {}),
        ("/indicators/local-food/definition", {"name": "X", "unit": "u", "direction": "increase"}),
        ("/indicators/new", {"slug": "x", "name": "X", "unit": "u", "direction": "increase"}),
    ):
        response = await submit(node, "/indicators", action, **fields)
        assert response.status == 403, action
    refused_import = await upload(node, "observations", (SAMPLE / "observations.csv").read_bytes())
    assert refused_import.status == 403
    assert await count(node, Observation) == 0
    async with node.app[sessions_key]() as session:
        food = await session.scalar(select(Indicator).where(Indicator.slug == "local-food"))
    assert food is not None and food.name == "Autonomie alimentaire locale"


# --- import ----------------------------------------------------------------------------------


async def test_the_sample_territory_imports_whole(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    definitions = await upload(node, "indicators", (SAMPLE / "indicators.csv").read_bytes())
    text = await text_of(definitions)
    assert definitions.status == 200, text
    assert "0 indicateur(s) ajouté(s) ; 8 mis à jour." in text
    observations = await upload(node, "observations", (SAMPLE / "observations.csv").read_bytes())
    text = await text_of(observations)
    assert "192 observation(s) enregistrée(s) ; 0 déjà présente(s) à l'identique." in text
    assert await count(node, Observation) == 192
    async with node.app[sessions_key]() as session:
        energy = await session.scalar(select(Indicator).where(Indicator.slug == "local-energy"))
        assert energy is not None and (energy.baseline, energy.target) == (21.0, 40.0)
        per_indicator = dict(
            (
                await session.execute(
                    select(Indicator.slug, func.count(Observation.id))
                    .join(Observation, Observation.indicator_id == Indicator.id)
                    .group_by(Indicator.slug)
                )
            ).all()
        )
        note = await session.scalar(
            select(Observation.note)
            .where(Observation.observed_on == date(2025, 6, 30))
            .join(Indicator, Indicator.id == Observation.indicator_id)
            .where(Indicator.slug == "volunteer-hours")
        )
    assert per_indicator == dict.fromkeys(SAMPLE_SLUGS, 24)
    assert note == "+30 % pendant la fête des associations"  # the export's quote is removed
    again = await upload(node, "observations", (SAMPLE / "observations.csv").read_bytes())
    assert "0 observation(s) enregistrée(s) ; 192 déjà présente(s)" in await text_of(again)
    assert await count(node, Observation) == 192
    assert await count(node, OutboxEntry) == 0  # data for peers to pull, never pushed


GOOD_ROW = "local-food,2026-01-31,14.5,"


@pytest.mark.parametrize(
    ("content", "row", "column", "reason"),
    [
        (
            b"indicateur,jour,valeur\nlocal-food,2026-01-31,3\n",
            "1 (en-tête)",
            "indicator",
            "Colonne obligatoire manquante.",
        ),
        (
            b"indicator,date,value,note,extra\nlocal-food,2026-01-31,3,,x\n",
            "1 (en-tête)",
            "extra",
            "Colonne inconnue.",
        ),
        (
            f"indicator,date,value,note\n{GOOD_ROW}\nlocal-fod,2026-02-28,3,\n".encode(),
            "3",
            "indicator",
            "Indicateur inconnu",
        ),
        (
            f"indicator,date,value,note\n{GOOD_ROW}\nlocal-food,31/01/2026,3,\n".encode(),
            "3",
            "date",
            "Entrez une date au format AAAA-MM-JJ.",
        ),
        (
            f"indicator,date,value,note\n{GOOD_ROW}\nlocal-food,2026-02-28,beaucoup,\n".encode(),
            "3",
            "value",
            "Entrez un nombre",
        ),
        (
            f"indicator,date,value,note\n{GOOD_ROW}\nlocal-food,2026-01-31,15,\n".encode(),
            "3",
            "date",
            "déjà une valeur à cette date plus haut dans le fichier",
        ),
        (
            f"indicator,date,value,note\n{GOOD_ROW}\nlocal-food,2026-02-28,nan,\n".encode(),
            "3",
            "value",
            "Entrez un nombre",
        ),
        (
            f"indicator,date,value,note\n{GOOD_ROW}\nlocal-food,2026-02-28\n".encode(),
            "3",
            "",
            "pas le même nombre de cellules",
        ),
        (b"indicator,date,value\nlocal-food,2026-01-31,\xe9t\xe9\n", "fichier", "", "pas en UTF-8"),
        (b"", "fichier", "", "Le fichier est vide."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "fichier", "", "pas un fichier CSV"),
        (b"indicator,date,value\n", "fichier", "", "aucune ligne de données"),
    ],
    ids=[
        "wrong-columns",
        "unknown-column",
        "unknown-indicator",
        "bad-date",
        "not-a-number",
        "duplicate-date",
        "nan",
        "short-row",
        "not-utf8",
        "empty",
        "binary",
        "header-only",
    ],
)
async def test_bad_observation_files_are_reported_and_store_nothing(
    node: TestClient, content: bytes, row: str, column: str, reason: str
) -> None:
    await as_person(node, "fanny", "facilitator")
    response = await upload(node, "observations", content)
    page = await text_of(response)
    assert response.status == 400, page
    assert "rien n'a été enregistré" in page
    table = page.split("Problèmes trouvés", 1)[1]
    cells = re.findall(
        r"<tr><td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td><td>(.*?)</td></tr>", table, re.S
    )
    assert any(
        r == row and (column in c if column else True) and reason in why for r, c, _, why in cells
    ), cells
    assert await count(node, Observation) == 0


async def test_one_bad_row_among_many_keeps_the_whole_file_out(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    sample = (SAMPLE / "observations.csv").read_text(encoding="utf-8").splitlines()
    sample[150] = sample[150].replace(",", ",le ", 1)  # row 151: a bad date
    response = await upload(node, "observations", "\n".join(sample).encode())
    page = await text_of(response)
    assert response.status == 400
    assert re.search(r"<tr><td>151</td>\s*<td><code>date</code></td>", page), page
    assert await count(node, Observation) == 0
    recorded = await upload(
        node, "observations", f"indicator,date,value,note\n{GOOD_ROW}\n".encode()
    )
    assert recorded.status == 200
    different = await upload(
        node, "observations", b"indicator;date;value\nlocal-food;2026-01-31;14,7\n"
    )  # semicolons and a decimal comma, as a French spreadsheet writes them
    assert "Une autre valeur est déjà enregistrée à cette date" in await text_of(different)
    assert await count(node, Observation) == 1


async def test_bad_definition_files_are_reported(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    content = (
        "slug,name,unit,direction,theme\n"
        "arbres-plantes,Arbres plantés,arbres,increase,local_autonomy\n"
        "Arbres,Arbres,arbres,upwards,forest\n"
        "arbres-plantes,Encore,arbres,increase,\n"
    ).encode()
    page = await text_of(await upload(node, "indicators", content))
    for row, column, reason in (
        ("3", "slug", "Utilisez des minuscules"),
        ("3", "direction", "Choisissez une des valeurs proposées."),
        ("3", "theme", "Choisissez une des valeurs proposées."),
        ("4", "slug", "Ce nom court figure déjà plus haut dans le fichier."),
    ):
        assert re.search(
            rf"<tr><td>{row}</td>\s*<td><code>{column}</code></td>\s*<td>[^<]*</td>"
            rf"<td>{re.escape(reason)}",
            page,
        ), (row, column)
    assert await count(node, Indicator) == len(DEFAULT_CATALOGUE)
    missing = await upload(node, "indicators", b"slug,name\nx,X\n")
    assert "Colonne obligatoire manquante." in await text_of(missing)


async def test_upload_without_file_and_oversized_file(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    page = await text_of(await node.get("/indicators/import", headers=HTML))
    response = await node.post(
        "/indicators/import", data={"csrf": csrf_of(page), "kind": "observations"}
    )
    text = await text_of(response)
    assert response.status == 400
    assert re.search(r'id="file-observations"[^>]*aria-invalid="true"', text)
    assert "Choisissez un fichier CSV." in text
    async with node.app[sessions_key]() as session:
        account = (await session.scalars(select(Account))).first()
    assert account is not None
    huge = b"indicator,date,value\n" + b"local-food,2026-01-31,1\n" * (MAX_UPLOAD_BYTES // 20)
    report: ImportReport = await import_observations(
        node.app[sessions_key], node.app[config_key], account, huge, date(2026, 11, 1)
    )
    assert [p.reason for p in report.problems] == ["Le fichier dépasse 5 Mo."]


# --- export ----------------------------------------------------------------------------------


async def test_export_round_trips_through_the_import(
    node: TestClient, aiohttp_client: Any, tmp_path: Path
) -> None:
    await as_person(node, "fanny", "facilitator")
    await import_sample(node)
    await submit(
        node,
        "/indicators/new",
        "/indicators/new",
        slug="formule",
        name='=HYPERLINK("http://evil.example","clic")',
        unit="@unité",
        direction="decrease",
        source="+33 1 23",
        method="-réponse",
    )
    exported = await node.get("/indicators/export/observations.csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in exported.headers["Content-Disposition"]
    observations = await exported.read()
    assert observations == (SAMPLE / "observations.csv").read_bytes()
    definitions = await text_of(await node.get("/indicators/export/indicators.csv"))
    rows = {row["slug"]: row for row in csv.DictReader(io.StringIO(definitions))}
    sample = {r["slug"]: r for r in csv.DictReader((SAMPLE / "indicators.csv").open())}
    assert {slug: rows[slug] for slug in sample} == sample
    formula = rows["formule"]
    assert formula["name"].startswith("'=") and formula["unit"] == "'@unité"
    assert formula["source"] == "'+33 1 23" and formula["method"] == "'-réponse"

    other = await aiohttp_client(create_app(await second_node(tmp_path), workers=False))
    await as_person(other, "gael", "facilitator")
    assert (await upload(other, "indicators", definitions.encode())).status == 200
    assert (await upload(other, "observations", observations)).status == 200
    assert await (await other.get("/indicators/export/observations.csv")).read() == observations
    again = await text_of(await other.get("/indicators/export/indicators.csv"))
    assert again == definitions
    async with other.app[sessions_key]() as session:
        name = await session.scalar(select(Indicator.name).where(Indicator.slug == "formule"))
    assert name == '=HYPERLINK("http://evil.example","clic")'


async def second_node(tmp_path: Path) -> Any:
    """Another node, in its own folder: where the exported files go."""
    folder = tmp_path / "second"
    folder.mkdir()
    config = config_for(folder, node={"base_url": "http://autre.example"})
    await initialise(config)
    return config


# --- pages and charts ------------------------------------------------------------------------


async def test_dashboard_draws_one_chart_per_indicator(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    await import_sample(node)
    raw = await (await node.get("/indicators", headers=HTML)).text()
    page = html.unescape(raw)
    charts = svgs(raw)
    assert len(charts) == await count(node, Indicator) == len(DEFAULT_CATALOGUE)
    by_id = {chart.get("aria-labelledby", "").split("-title")[0]: chart for chart in charts}
    for slug in SAMPLE_SLUGS:
        chart = by_id[f"chart-{slug}"]
        assert chart.get("role") == "img"
        assert chart.find(f"{SVG}title") is not None
        assert "24 observation(s)" in (chart.findtext(f"{SVG}desc") or "")
        (series,) = chart.findall(f"{SVG}polyline[@class='series']")
        assert len(series.get("points", "").split()) == 24
        assert len(chart.findall(f"{SVG}circle")) == 24
        kinds = {g.get("class") for g in chart.findall(f"{SVG}g")}
        assert {"reference baseline", "reference target"} <= kinds
        for kind in ("baseline", "target"):
            (group,) = chart.findall(f"{SVG}g[@class='reference {kind}']")
            assert group.find(f"{SVG}line") is not None
    computed = by_id["chart-active-circles"]
    assert computed.findall(f"{SVG}polyline") == []
    assert "Aucune observation pour l'instant" in ET.tostring(computed, encoding="unicode")
    # each card: the latest value, the trend over a year, the target
    card = page.split('id="card-local-energy"')[1].split("</article>")[0]
    assert '<time datetime="2026-10-31">' in card and "sur un an" in card
    assert "en progrès" in card and "<dt>Cible</dt><dd>40" in card
    isolation = page.split('id="card-felt-isolation"')[1].split("</article>")[0]
    assert "▼" in isolation and "en progrès" in isolation  # lower is better
    for theme in ("Vitalité civique", "Autonomie locale", "Entraide", "Bien-être"):
        assert f">{theme}</h2>" in page
    english = await text_of(await node.get("/indicators?lang=en", headers=HTML))
    assert "Indicators of the territory" in english and "Local food autonomy" in english
    assert "over one year" in english and "improving" in english
    assert "<script" not in page and "http://" not in re.sub(r'xmlns="[^"]+"', "", page)


async def test_indicator_page_chart_table_and_definition(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    await import_sample(node)
    raw = await (await node.get("/indicators/local-energy", headers=HTML)).text()
    page = html.unescape(raw)
    assert page.count("<h1") == 1 and "Autonomie énergétique locale</h1>" in page
    (chart,) = svgs(raw)
    assert chart.get("viewBox") == "0 0 640 300"
    assert len(chart.find(f"{SVG}polyline").get("points", "").split()) == 24  # type: ignore[union-attr]
    assert len(re.findall(r'<tr id="obs-\d{4}-\d{2}-\d{2}">', page)) == 24
    assert "toiture solaire" in page and "Relevés des installations locales" in page
    assert 'action="/indicators/local-energy/observations"' in page
    assert 'action="/indicators/local-energy/definition"' in page
    assert "/compute" not in page  # not one the node computes
    fixed = await submit(
        node,
        "/indicators/local-energy",
        "/indicators/local-energy/definition",
        name="Autonomie énergétique",
        unit="%",
        direction="increase",
        theme="local_autonomy",
        target="45",
        slug="ignored",
    )
    assert fixed.status == 302
    async with node.app[sessions_key]() as session:
        energy = await session.scalar(select(Indicator).where(Indicator.slug == "local-energy"))
    assert energy is not None and (energy.name, energy.target, energy.baseline) == (
        "Autonomie énergétique",
        45.0,
        None,
    )
    missing = await node.get("/indicators/no-such-thing", headers=HTML)
    assert missing.status == 404


async def test_the_node_computes_participation_and_active_circles(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    for name in ("ana", "bea", "cyril"):
        await add_account(node, name)
    circle = await make_circle(node)
    now = datetime.now(UTC)
    async with node.app[sessions_key].begin() as session:
        accounts = list(await session.scalars(select(Account).order_by(Account.username)))
        proposal = Proposal(
            uri=f"{BASE}/proposals/p1",
            circle_id=circle,
            author_id=accounts[0].id,
            title="Plan vélo",
            text="...",
            state="adopted",
        )
        session.add(proposal)
        await session.flush()
        decision = Decision(
            uri=f"{BASE}/decisions/d1",
            proposal_id=proposal.id,
            question="Oui ?",
            method="majority",
            opens_at=now - timedelta(days=30),
            closes_at=now - timedelta(days=2),
            created_by=accounts[0].id,
            state="closed",
        )
        old = Decision(
            uri=f"{BASE}/decisions/d0",
            proposal_id=proposal.id,
            question="Jadis ?",
            method="majority",
            opens_at=now - timedelta(days=500),
            closes_at=now - timedelta(days=490),
            created_by=accounts[0].id,
            state="closed",
        )
        session.add_all([decision, old])
        await session.flush()
        session.add_all(
            [Vote(decision_id=decision.id, account_id=a.id, choice="yes") for a in accounts[:2]]
            + [Vote(decision_id=old.id, account_id=accounts[3].id, choice="no")]
        )
        session.add(
            Need(
                uri=f"{BASE}/needs/n1",
                author_id=accounts[0].id,
                title="Abri",
                text="...",
                theme="mobility",
                circle_id=circle,
            )
        )
        assert await session.scalar(select(func.count()).select_from(Circle)) == 1
    page = await text_of(await node.get("/indicators/participation-decisions", headers=HTML))
    assert "Calculer et enregistrer la valeur du jour" in page
    response = await submit(
        node, "/indicators/participation-decisions", "/indicators/participation-decisions/compute"
    )
    assert response.status == 302 and "done=computed" in response.headers["Location"]
    response = await submit(
        node, "/indicators/active-circles", "/indicators/active-circles/compute"
    )
    assert response.status == 302
    async with node.app[sessions_key]() as session:
        values = dict(
            (
                await session.execute(
                    select(Indicator.slug, Observation.value).join(
                        Observation, Observation.indicator_id == Indicator.id
                    )
                )
            ).all()
        )
    # 2 of the 5 accounts (the admin, fanny and three residents) voted in the last 12 months
    assert values == {"participation-decisions": 40.0, "active-circles": 1.0}
    shown = await text_of(
        await node.get("/indicators/participation-decisions?lang=en", headers=HTML)
    )
    assert "Computed by the node" in shown
    not_computable = await submit(node, "/indicators/local-food", "/indicators/local-food/compute")
    assert not_computable.status == 404


# --- federation ------------------------------------------------------------------------------


async def test_definitions_and_observations_as_documents(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    await import_sample(node)
    territory = f"{BASE}/actors/territoire"
    response = await node.get("/indicators/local-food", headers=AP)
    assert response.headers["Content-Type"] == "application/activity+json"
    document = await response.json()
    assert "https://www.w3.org/ns/activitystreams" in document["@context"]
    assert document["id"] == document["url"] == f"{BASE}/indicators/local-food"
    assert (document["type"], document["additionalType"]) == ("Document", "sc:StatisticalVariable")
    assert document["attributedTo"] == territory
    assert document["name"] == "Autonomie alimentaire locale" and document["unitText"] == "%"
    assert (document["polarity"], document["direction"]) == ("higher_is_better", "increase")
    assert (document["baseline"], document["targetValue"]) == (12, 25)
    assert document["theme"] == "local_autonomy" and document["measurementMethod"]
    isolation = await (await node.get("/indicators/felt-isolation", headers=AP)).json()
    assert isolation["polarity"] == "lower_is_better"

    url = "/indicators/volunteer-hours/observations/2025-06-30"
    observation = await (await node.get(url, headers=AP)).json()
    assert observation["id"] == BASE + url and observation["type"] == "Observation"
    assert observation["observationAbout"] == territory == observation["attributedTo"]
    assert observation["variableMeasured"] == f"{BASE}/indicators/volunteer-hours"
    assert (observation["value"], observation["observationDate"]) == (917, "2025-06-30")
    assert observation["unitText"] == "heures/mois"
    assert "fête des associations" in observation["summary"]
    people = await node.get(url, headers=HTML, allow_redirects=False)
    assert people.status == 302
    assert people.headers["Location"] == "/indicators/volunteer-hours#obs-2025-06-30"
    for missing in (
        "/indicators/volunteer-hours/observations/2025-06-29",
        "/indicators/volunteer-hours/observations/2025-02-30",
        "/indicators/nothing",
    ):
        assert (await node.get(missing, headers=AP)).status == 404, missing


async def test_the_territory_publishes_paged_collections(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    await import_sample(node)
    actor = await (await node.get("/actors/territoire", headers=AP)).json()
    base = f"{BASE}/actors/territoire"
    assert actor["indicatorCatalog"] == f"{base}/indicators"
    assert actor["observations"] == f"{base}/observations"
    catalogue = await (await node.get("/actors/territoire/indicators", headers=AP)).json()
    assert catalogue["type"] == "OrderedCollection"
    assert catalogue["totalItems"] == len(DEFAULT_CATALOGUE)
    first = await (await node.get("/actors/territoire/indicators?page=1", headers=AP)).json()
    assert first["type"] == "OrderedCollectionPage" and "next" not in first
    assert {i["type"] for i in first["orderedItems"]} == {"Document"}
    assert all("@context" not in i for i in first["orderedItems"])
    assert len(first["orderedItems"]) == len(DEFAULT_CATALOGUE)
    observations = await (await node.get("/actors/territoire/observations", headers=AP)).json()
    assert observations["totalItems"] == 192
    seen: list[str] = []
    url: str | None = observations["first"]
    while url:
        page = await (await node.get(url.removeprefix(BASE), headers=AP)).json()
        assert all(item["type"] == "Observation" for item in page["orderedItems"])
        seen += [item["id"] for item in page["orderedItems"]]
        url = page.get("next")
    assert len(seen) == len(set(seen)) == 192
    assert (await node.get("/actors/fanny/observations", headers=AP)).status == 404


async def test_a_file_beyond_the_request_limit_is_refused_cleanly(node: TestClient) -> None:
    await as_person(node, "fanny", "facilitator")
    big = b"indicator,date,value\n" + b"local-food,2026-01-31,1\n" * 90_000  # about 2 MB
    response = await upload(node, "observations", big)
    assert response.status in (400, 413), response.status  # never a 500
    assert await count(node, Observation) == 0
