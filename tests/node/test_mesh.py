"""The map's data on a real node: the sample territory imported through the import page, the
CSV and GeoJSON exports imported back into an empty node, bad files refused whole with a
report naming each row and reason, the facilitators' forms, refusals for residents, and the
territory's places, map-actors and flows collections in the vocabulary's shape."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from node.services.instance.setup import initialise_node
from node.services.knowledge.map.imports import MAX_FILE_BYTES, TOO_BIG, Upload, import_mesh
from node.services.knowledge.map.records import FACILITATORS_ONLY, mesh_snapshot
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.migrate import upgrade_database
from node.storage.models import Account, Flow, MapActor, OutboxEntry, Place
from node.web.app import create_app
from node.web.keys import config_key, sessions_key
from tests.conftest import config_for, initialise
from tests.testrig.people import HTML, HTTP_NODE, as_person, csrf_of, submit

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "territory"
BASE = HTTP_NODE["base_url"]
TERRITORY = f"{BASE}/actors/territoire"
AP = {"Accept": "application/activity+json"}
SAMPLE_FILES = {
    "places": ("places.csv", (SAMPLE / "places.csv").read_bytes()),
    "geojson": ("places.geojson", (SAMPLE / "places.geojson").read_bytes()),
    "actors": ("actors.csv", (SAMPLE / "actors.csv").read_bytes()),
    "flows": ("flows.csv", (SAMPLE / "flows.csv").read_bytes()),
}
PLACES_HEADER = "name,kind,latitude,longitude,address,description\n"
GOOD_PLACES = (
    PLACES_HEADER
    + "Mairie,service_equipment,47.285,0.124,1 place de la Mairie,\n"
    + "Gare TER,service_equipment,47.293,0.116,,\n"
)


def fresh_config(data_dir: Path) -> Any:
    data_dir.mkdir(parents=True, exist_ok=True)
    return config_for(data_dir, node=HTTP_NODE)


async def new_node(aiohttp_client: Any, data_dir: Path) -> TestClient:
    config = fresh_config(data_dir)
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


@pytest.fixture
async def node(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    return await new_node(aiohttp_client, tmp_path / "node")


@pytest.fixture
async def keeper(node: TestClient) -> TestClient:
    """The node, with a facilitator logged in."""
    await as_person(node, "margot", "facilitator")
    return node


async def upload(node: TestClient, **files: tuple[str, bytes]) -> Any:
    """Post files through the import page, as a browser's multipart form does."""
    page = await (await node.get("/map/import", headers=HTML)).text()
    form = FormData()
    form.add_field("csrf", csrf_of(page))
    for role, (filename, content) in files.items():
        form.add_field(role, content, filename=filename, content_type="text/csv")
    return await node.post("/map/import", data=form, headers=HTML, allow_redirects=False)


async def counts(node: TestClient) -> tuple[int, int, int]:
    async with node.app[sessions_key]() as session:
        return tuple(  # type: ignore[return-value]
            [
                await session.scalar(select(func.count()).select_from(m))
                for m in (Place, MapActor, Flow)
            ]
        )


async def download(node: TestClient, name: str) -> bytes:
    response = await node.get(f"/map/export/{name}")
    assert response.status == 200, name
    return await response.read()


def local(url: str) -> str:
    """The path of one of the node's URLs (the test client speaks to paths)."""
    return url.removeprefix(BASE)


def rows_of(content: bytes) -> list[dict[str, str]]:
    """CSV rows without the node-specific uri column, in a stable order."""
    rows = [
        {k: v for k, v in row.items() if k != "uri"}
        for row in csv.DictReader(io.StringIO(content.decode("utf-8")))
    ]
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))


def report_rows(page: str) -> list[str]:
    """The report's table rows as text: file, row, column, reason."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in body.split("</tr>")[:-1]
    ]


async def test_the_sample_territory_imports_through_the_page(keeper: TestClient) -> None:
    response = await upload(keeper, **SAMPLE_FILES)
    page = await response.text()
    assert response.status == 200, page
    assert "Import réussi" in page and "30 lieu(x), 40 acteur(s), 60 flux" in page
    assert await counts(keeper) == (30, 40, 60)
    snapshot = await mesh_snapshot(keeper.app[sessions_key])
    forest = next(p for p in snapshot.places if p.name == "Forêt des Varennes")
    assert forest.geometry is not None and forest.geometry["type"] == "Polygon"
    assert 47.25 < forest.latitude < 47.28 and 0.05 < forest.longitude < 0.09  # type: ignore[operator]
    bike = next(a for a in snapshot.actors if a.name == "Collectif Vélo Saint-Aubin")
    assert bike.place_id is None and bike.latitude is None
    gaec = next(a for a in snapshot.actors if a.name == "GAEC des Sablons")
    assert gaec.place_name == "Ferme des Sablons" and gaec.latitude == pytest.approx(47.3021)
    milk = next(f for f in snapshot.flows if f.label == "Lait et fromages")
    assert (milk.source.type, milk.source.name) == ("actor", "GAEC des Sablons")
    assert milk.quantity == 9800 and milk.unit == "litres" and str(milk.period_end) == "2025-12-31"
    # the same files again: every row is a duplicate, and nothing more is stored
    again = await upload(keeper, **SAMPLE_FILES)
    assert again.status == 400
    assert "Un autre lieu porte déjà ce nom." in await again.text()
    assert await counts(keeper) == (30, 40, 60)


async def test_csv_exports_import_back_into_an_empty_node(
    keeper: TestClient, aiohttp_client: Any, tmp_path: Path
) -> None:
    assert (await upload(keeper, **SAMPLE_FILES)).status == 200
    exports = {
        name: await download(keeper, name) for name in ("places.csv", "actors.csv", "flows.csv")
    }
    fresh = await new_node(aiohttp_client, tmp_path / "fresh")
    await as_person(fresh, "ines", "admin")
    response = await upload(
        fresh,
        places=("places.csv", exports["places.csv"]),
        actors=("actors.csv", exports["actors.csv"]),
        flows=("flows.csv", exports["flows.csv"]),
    )
    assert response.status == 200, await response.text()
    assert await counts(fresh) == (30, 40, 60)
    for name, content in exports.items():
        assert rows_of(await download(fresh, name)) == rows_of(content), name
    # values, not only text: coordinates, areas, quantities and periods are identical
    before = await mesh_snapshot(keeper.app[sessions_key])
    after = await mesh_snapshot(fresh.app[sessions_key])
    assert [(p.name, p.kind, p.latitude, p.longitude, p.geometry) for p in before.places] == [
        (p.name, p.kind, p.latitude, p.longitude, p.geometry) for p in after.places
    ]
    assert sorted(
        (f.label, f.source.name, f.target.name, f.quantity, f.period_start) for f in before.flows
    ) == sorted(
        (f.label, f.source.name, f.target.name, f.quantity, f.period_start) for f in after.flows
    )


async def test_geojson_export_imports_back_into_an_empty_node(
    keeper: TestClient, aiohttp_client: Any, tmp_path: Path
) -> None:
    assert (await upload(keeper, **SAMPLE_FILES)).status == 200
    geojson = await download(keeper, "map.geojson")
    collection = json.loads(geojson)
    kinds = [feature["properties"]["feature_type"] for feature in collection["features"]]
    assert kinds.count("place") == 30 and kinds.count("flow") == 60
    line = next(f for f in collection["features"] if f["properties"].get("label") == "Pain")
    assert line["geometry"]["type"] == "LineString"
    fresh = await new_node(aiohttp_client, tmp_path / "fresh")
    await as_person(fresh, "ines", "admin")
    response = await upload(
        fresh,
        geojson=("map.geojson", geojson),
        actors=("actors.csv", await download(keeper, "actors.csv")),
    )
    assert response.status == 200, await response.text()
    assert await counts(fresh) == (30, 40, 60)
    for name in ("places.csv", "actors.csv", "flows.csv"):
        assert rows_of(await download(fresh, name)) == rows_of(await download(keeper, name)), name


def _bad_files() -> list[Any]:
    flows_header = "kind,label,source_type,source,target_type,target,quantity,unit,period\n"
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [0.12, 47.28]},
                "properties": {"name": "Lavoir", "kind": "living_meeting_place"},
            },
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0.1, 47.2], [0.2, 47.2], [0.2, 47.3], [0.15, 47.31]]],
                },
                "properties": {"name": "Bois", "kind": "natural_space_resource"},
            },
        ],
    }
    return [
        pytest.param(
            {"places": ("lieux.csv", b"nom,type,lat,lon\nMairie,service_equipment,47.2,0.1\n")},
            [
                "lieux.csv ligne 1 Colonnes inconnues : nom, type, lat, lon",
                "obligatoires absentes : name, kind",
            ],
            id="wrong-columns",
        ),
        pytest.param(
            {"places": ("places.csv", (GOOD_PLACES + "Château,castle,47.28,0.12,,\n").encode())},
            ["places.csv ligne 4 kind Type inconnu « castle »"],
            id="unknown-kind",
        ),
        pytest.param(
            {"geojson": ("lieux.geojson", json.dumps(geojson).encode())},
            ["lieux.geojson objet 2 geometry Un contour de polygone doit être fermé"],
            id="invalid-geometry",
        ),
        pytest.param(
            {
                "places": (
                    "places.csv",
                    (GOOD_PLACES + "Pôle,natural_space_resource,95,0.1,,\n").encode(),
                )
            },
            ["places.csv ligne 4 latitude La latitude doit être comprise entre -90 et 90"],
            id="latitude-95",
        ),
        pytest.param(
            {
                "places": ("places.csv", GOOD_PLACES.encode()),
                "flows": (
                    "flows.csv",
                    (
                        flows_header
                        + "people_mobility,Navette,place,Mairie,place,Gare TER,300,trajets,2025\n"
                        + "people_mobility,Navette,place,Mairie,place,Château,12,trajets,2025\n"
                    ).encode(),
                ),
            },
            ["flows.csv ligne 3 target Aucun lieu ne porte ce nom"],
            id="flow-to-unknown-place",
        ),
        pytest.param(
            {
                "places": (
                    "places.csv",
                    (GOOD_PLACES + "Église,living_meeting_place,47.2,0.1,,\n").encode("latin-1"),
                )
            },
            ["places.csv ligne 4 Le fichier n'est pas encodé en UTF-8"],
            id="not-utf8",
        ),
    ]


@pytest.mark.parametrize(("files", "expected"), _bad_files())
async def test_a_bad_file_is_refused_whole_with_its_rows_and_reasons(
    keeper: TestClient, files: dict[str, tuple[str, bytes]], expected: list[str]
) -> None:
    response = await upload(keeper, **files)
    page = html.unescape(await response.text())
    assert response.status == 400
    assert "Import refusé" in page and "Rien n'a été importé" in page and 'role="alert"' in page
    rows = " | ".join(report_rows(page))
    for text in expected:
        assert text in rows, rows
    assert await counts(keeper) == (0, 0, 0)  # not even the valid rows of the same files


async def test_a_file_too_big_is_reported_and_nothing_stored(keeper: TestClient) -> None:
    sessions = keeper.app[sessions_key]
    async with sessions() as session:
        margot = await session.scalar(select(Account).where(Account.username == "margot"))
    assert margot is not None
    big = GOOD_PLACES.encode() + b"#" * MAX_FILE_BYTES
    uploads = [Upload("places", "enorme.csv", big), Upload("flows", "flows.csv", b"")]
    report = await import_mesh(sessions, keeper.app[config_key], margot, uploads)
    assert not report.stored
    assert [(r.file, r.row, r.reason) for r in report.rejections] == [
        ("enorme.csv", None, TOO_BIG),
        ("flows.csv", None, "Le fichier est vide."),
    ]
    assert await counts(keeper) == (0, 0, 0)
    # through the page (upload forms accept bodies above the node's 1 MB limit), the
    # import's own cap answers with its report: a refusal, not a crash, nothing stored
    response = await upload(keeper, places=("enorme.csv", big))
    assert response.status == 400
    assert await counts(keeper) == (0, 0, 0)


async def test_residents_and_visitors_cannot_change_the_map(node: TestClient) -> None:
    anonymous = await node.get("/map/data", headers=HTML, allow_redirects=False)
    assert anonymous.status == 302 and anonymous.headers["Location"].startswith("/login")
    await as_person(node, "louise")
    for path in ("/map/data", "/map/import"):
        response = await node.get(path, headers=HTML)
        assert response.status == 403 and FACILITATORS_ONLY in await response.text(), path
    refused = await upload(node, **SAMPLE_FILES)
    assert refused.status == 403 and FACILITATORS_ONLY in await refused.text()
    place = await submit(
        node,
        "/",
        "/map/data/places",
        name="Lavoir",
        kind="living_meeting_place",
        latitude="47.28",
        longitude="0.12",
    )
    assert place.status == 403
    assert await counts(node) == (0, 0, 0)
    # the exports and the objects' pages stay public
    csv_export = await node.get("/map/export/places.csv")
    assert csv_export.status == 200 and csv_export.content_type == "text/csv"
    assert csv_export.headers["Content-Disposition"] == 'attachment; filename="places.csv"'
    geojson_export = await node.get("/map/export/map.geojson")
    assert geojson_export.content_type == "application/geo+json"
    assert json.loads(await geojson_export.text()) == {"type": "FeatureCollection", "features": []}


async def test_facilitators_add_edit_and_delete_with_the_forms(keeper: TestClient) -> None:
    page = await (await keeper.get("/map/data", headers=HTML)).text()
    assert page.count("<h1>") == 1 and 'for="new-place-name"' in page
    bad = await submit(
        keeper,
        "/map/data",
        "/map/data/places",
        name="Lavoir",
        kind="living_meeting_place",
        latitude="95",
        longitude="0.12",
    )
    text = await bad.text()
    assert bad.status == 400
    assert 'role="alert" id="new-place-latitude-error">La latitude doit être comprise' in text
    assert 'aria-invalid="true" aria-describedby="new-place-latitude-error"' in text
    ok = await submit(
        keeper,
        "/map/data",
        "/map/data/places",
        name="Lavoir",
        kind="Lieu de vie ou de rencontre",
        latitude="47,2811",
        longitude="0.1203",
        address="Rue du Lavoir",
    )
    assert ok.status == 302 and ok.headers["Location"].startswith("/map/data?done=saved")
    snapshot = await mesh_snapshot(keeper.app[sessions_key])
    lavoir = snapshot.places[0]
    assert (lavoir.kind, lavoir.latitude) == ("living_meeting_place", 47.2811)
    duplicate = await submit(
        keeper,
        "/map/data",
        "/map/data/places",
        name=" lavoir ",
        kind="service_equipment",
        latitude="47.28",
        longitude="0.12",
    )
    assert duplicate.status == 400 and "Un autre lieu porte déjà ce nom." in await duplicate.text()
    actor = await submit(
        keeper,
        "/map/data",
        "/map/data/actors",
        name="Amis du lavoir",
        kind="association",
        place=lavoir.id,
        website="https://lavoir.example",
    )
    assert actor.status == 302
    snapshot = await mesh_snapshot(keeper.app[sessions_key])
    friends = snapshot.actors[0]
    assert friends.place_name == "Lavoir"
    flow = await submit(
        keeper,
        "/map/data",
        "/map/data/flows",
        kind="information_services",
        label="Visites",
        source=f"actor:{friends.id}",
        target=f"place:{lavoir.id}",
        quantity="120",
        unit="visites",
        period="2025",
        period_start="2025-01-01",
        period_end="2025-12-31",
    )
    assert flow.status == 302, await flow.text()
    snapshot = await mesh_snapshot(keeper.app[sessions_key])
    visits = snapshot.flows[0]
    edit_path = f"/map/data/flows/{visits.id}"
    form = await (await keeper.get(edit_path, headers=HTML)).text()
    assert f'value="actor:{friends.id}" selected' in form and 'value="120"' in form
    edited = await submit(
        keeper,
        edit_path,
        edit_path,
        kind="information_services",
        label="Visites guidées",
        source=f"actor:{friends.id}",
        target=f"place:{lavoir.id}",
        quantity="140",
        unit="visites",
        period="2025",
    )
    assert edited.status == 302 and edited.headers["Location"] == f"/flows/{visits.id}"
    looped = await submit(
        keeper,
        edit_path,
        edit_path,
        kind="information_services",
        label="Visites",
        source=f"place:{lavoir.id}",
        target=f"place:{lavoir.id}",
        quantity="1",
        unit="visites",
    )
    assert looped.status == 400 and "doivent être différentes" in await looped.text()
    snapshot = await mesh_snapshot(keeper.app[sessions_key])
    assert (snapshot.flows[0].label, snapshot.flows[0].quantity) == ("Visites guidées", 140)
    place_path = f"/map/data/places/{lavoir.id}"
    deleted = await submit(keeper, place_path, f"{place_path}/delete")
    assert deleted.status == 302
    snapshot = await mesh_snapshot(keeper.app[sessions_key])
    assert snapshot.places == () and snapshot.flows == ()  # its flow went with it
    assert snapshot.actors[0].place_id is None  # the actor stays, without a place


async def test_imports_accept_semicolons_decimal_commas_french_kinds_and_quoted_cells(
    keeper: TestClient,
) -> None:
    places = (
        "name;kind;latitude;longitude\n"
        "Halle;Service ou équipement;47,2851;0,1243\n"
        "'=Jardin;natural_space_resource;47.28;-0.5\n"
    )
    response = await upload(keeper, places=("places.csv", places.encode()))
    assert response.status == 200, await response.text()
    names = {p.name: p for p in (await mesh_snapshot(keeper.app[sessions_key])).places}
    assert names["Halle"].latitude == 47.2851 and names["Halle"].kind == "service_equipment"
    assert names["=Jardin"].longitude == -0.5
    exported = (await download(keeper, "places.csv")).decode()
    assert "'=Jardin" in exported and ",-0.5," in exported  # formulas quoted, numbers not


async def test_collections_and_documents_have_the_vocabulary_shape(keeper: TestClient) -> None:
    async with keeper.app[sessions_key]() as session:
        outbox_before = await session.scalar(select(func.count()).select_from(OutboxEntry))
    assert (await upload(keeper, **SAMPLE_FILES)).status == 200
    territory = await (await keeper.get(local(TERRITORY), headers=AP)).json()
    assert territory["places"] == f"{TERRITORY}/places"
    assert territory["mapActors"] == f"{TERRITORY}/map-actors"
    assert territory["flows"] == f"{TERRITORY}/flows"

    async def items(name: str) -> list[dict[str, Any]]:
        collection = await (await keeper.get(f"/actors/territoire/{name}", headers=AP)).json()
        assert collection["type"] == "OrderedCollection"
        found: list[dict[str, Any]] = []
        url = local(collection["first"])
        while url:
            page = await (await keeper.get(url, headers=AP)).json()
            assert page["type"] == "OrderedCollectionPage" and page["partOf"] == collection["id"]
            found += page["orderedItems"]
            url = local(page.get("next", ""))
        assert len(found) == collection["totalItems"]
        return found

    places, actors, flows = await items("places"), await items("map-actors"), await items("flows")
    assert (len(places), len(actors), len(flows)) == (30, 40, 60)
    for place in places:
        assert (place["type"], place["additionalType"]) == ("Place", "tc:Place")
        assert place["audience"] == TERRITORY and place["attributedTo"] == TERRITORY
        assert place["placeKind"] in {
            "service_equipment",
            "production_site",
            "living_meeting_place",
            "natural_space_resource",
        }
        assert isinstance(place["latitude"], float) and isinstance(place["longitude"], float)
    areas = [p for p in places if "geometry" in p]
    assert len(areas) == 4
    assert json.loads(areas[0]["geometry"]["asGeoJSON"])["type"] == "Polygon"
    place_ids = {p["id"] for p in places}
    actor_ids = {a["id"] for a in actors}
    for actor in actors:
        assert (actor["type"], actor["additionalType"]) == ("Profile", "vf:Organization")
        assert (
            actor["actorKind"] and actor.get("primaryLocation", next(iter(place_ids))) in place_ids
        )
    for flow in flows:
        assert (flow["type"], flow["additionalType"]) == ("Relationship", "tc:Flow")
        assert flow["subject"] in place_ids | actor_ids and flow["object"] in place_ids | actor_ids
        assert flow["relationship"] == f"tc:{flow['flowKind']}"
        assert set(flow["quantity"]) == {"hasUnit", "hasNumericalValue"}
        assert float(flow["quantity"]["hasNumericalValue"]) >= 0
        assert flow["audience"] == TERRITORY
    heat = next(f for f in flows if f["name"] == "Biodéchets de cantine")
    assert heat["quantity"] == {"hasUnit": "t", "hasNumericalValue": "14.5"}
    assert (heat["startTime"], heat["endTime"]) == ("2025-01-01T00:00:00Z", "2025-12-31T23:59:59Z")

    # each object at its own URL: the document for servers, a page for people
    document = await (await keeper.get(local(heat["id"]), headers=AP)).json()
    assert document["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert {k: v for k, v in document.items() if k != "@context"} == heat
    page = await keeper.get(local(heat["id"]), headers=HTML)
    assert page.status == 200 and "Biodéchets de cantine" in await page.text()
    place_page = await keeper.get(local(areas[0]["id"]), headers=HTML)
    assert place_page.status == 200 and "<h1>" in await place_page.text()
    missing = await keeper.get(f"/places/{'0' * 26}", headers=AP)
    assert missing.status == 404
    # only the territory has them, and nothing was pushed to followers
    assert (await keeper.get("/actor/places", headers=AP)).status == 404
    async with keeper.app[sessions_key]() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxEntry)) == outbox_before


async def test_flows_may_name_their_ends_by_id_or_uri_and_pages_speak_english(
    keeper: TestClient,
) -> None:
    assert (await upload(keeper, places=("places.csv", GOOD_PLACES.encode()))).status == 200
    places = {p.name: p for p in (await mesh_snapshot(keeper.app[sessions_key])).places}
    town_hall, station = places["Mairie"], places["Gare TER"]
    flows = (
        "kind,label,source_type,source,target_type,target,quantity,unit\n"
        f"people_mobility,Navette,place,{town_hall.uri},lieu,{station.id},300,trajets\n"
    )
    response = await upload(keeper, flows=("flows.csv", flows.encode()))
    assert response.status == 200, await response.text()
    flow = (await mesh_snapshot(keeper.app[sessions_key])).flows[0]
    assert (flow.source.name, flow.target.name) == ("Mairie", "Gare TER")
    for path in ("/map/data", "/map/import", f"/flows/{flow.id}", f"/places/{station.id}"):
        page = await (await keeper.get(f"{path}?lang=en", headers=HTML)).text()
        assert '<html lang="en">' in page and page.count("<h1") == 1, path
    english = html.unescape(await (await keeper.get("/map/import?lang=en", headers=HTML)).text())
    assert "Import the map's data" in english and "File format" in english


async def test_import_and_snapshot_on_each_backend(database_url: str, tmp_path: Path) -> None:
    config = config_for(tmp_path, database={"url": database_url.replace("+asyncpg", "")})
    engine = make_engine(config.database.url)
    try:
        await upgrade_database(engine)
        sessions = make_sessionmaker(engine)
        await initialise_node(sessions, config)
        async with sessions() as session:
            admin = await session.scalar(select(Account))
        assert admin is not None
        uploads = [Upload(role, name, content) for role, (name, content) in SAMPLE_FILES.items()]
        report = await import_mesh(sessions, config, admin, uploads)
        assert (report.places, report.actors, report.flows) == (30, 40, 60)
        snapshot = await mesh_snapshot(sessions)
        assert len(snapshot.flows) == 60
        assert all(f.source.id and f.target.id for f in snapshot.flows)
        # a second import of the same files is refused whole on this backend too
        again = await import_mesh(sessions, config, admin, uploads)
        assert not again.stored and again.rejected == 30 + 40 + 60
    finally:
        await engine.dispose()
