"""The map: the SVG renderer alone on small hand-made data, the filters, and the map page of
a node with the sample territory imported (counts of drawn elements, legend, no network
reference without a tile server, tiles with one)."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.domain.mesh import FLOW_KINDS, PLACE_KINDS
from node.services.knowledge.map.imports import Upload, import_mesh
from node.services.knowledge.map.records import (
    ActorView,
    Endpoint,
    FlowView,
    MeshSnapshot,
    PlaceView,
    mesh_snapshot,
)
from node.storage.models import Account
from node.web.app import create_app
from node.web.i18n import translator
from node.web.keys import config_key, sessions_key
from node.web.mapsvg import MapData, MapFlow, MapPlace, render_map, stroke_width
from node.web.mapsvg.geometry import Box, WebMercator, fit, polygons_from_geojson, tiles_for
from node.web.routes.map import Filters, filter_snapshot, load_boundary, map_data, read_filters
from tests.conftest import initialise
from tests.testrig.people import HTML, HTTP_NODE, as_person

SQUARE = (((5.50, 45.05), (5.56, 45.05), (5.56, 45.09), (5.50, 45.09), (5.50, 45.05)),)


def classes(element: ET.Element) -> set[str]:
    """The element's class tokens."""
    return set(element.get("class", "").split())


def find_all(svg: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    """Every `tag` element of the SVG that has the class."""
    return [e for e in svg.iter(tag) if css_class in classes(e)]


def parse(markup: str) -> ET.Element:
    """The SVG as an element tree (it must be well-formed XML)."""
    return ET.fromstring(str(markup))


def numbers(d: str) -> list[float]:
    """The numbers of a path's `d`."""
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]


def sample() -> MapData:
    """One place of each kind (one an area), flows in kilograms and one in kilowatt-hours."""
    places = (
        MapPlace("mairie", "Mairie", "service_equipment", (5.52, 45.07)),
        MapPlace("ferme", "Ferme des Aulnes", "production_site", (5.54, 45.08)),
        MapPlace("cafe", "Café associatif", "living_meeting_place", (5.53, 45.06)),
        MapPlace("foret", "Forêt communale", "natural_space_resource", (5.51, 45.085), (SQUARE,)),
    )
    ferme, cafe, foret, mairie = (5.54, 45.08), (5.53, 45.06), (5.51, 45.085), (5.52, 45.07)
    flows = (
        MapFlow("f1", "resources_goods_energy", "Légumes", 1200, "kg", ferme, cafe,
                "Ferme des Aulnes", "Café associatif", "ferme", "cafe"),
        MapFlow("f2", "resources_goods_energy", "Fromages", 300, "kg", ferme, mairie,
                "Ferme des Aulnes", "Mairie", "ferme", "mairie"),
        MapFlow("f3", "resources_goods_energy", "Œufs", 40, "kg", ferme, cafe,
                "Ferme des Aulnes", "Café associatif", "ferme", "cafe"),
        MapFlow("f4", "resources_goods_energy", "Bois-énergie", 90000, "kWh", foret, mairie,
                "Forêt communale", "Mairie", "foret", "mairie"),
        MapFlow("f5", "information_services", "Bulletin", 12, "numéros", mairie, cafe,
                "Mairie", "Café associatif", "mairie", "cafe"),
        MapFlow("f6", "people_mobility", "Navette", 800, "trajets", cafe, ferme,
                "Café associatif", "Ferme des Aulnes", "cafe", "ferme"),
    )  # fmt: skip
    boundary = (tuple((lon - 0.01, lat - 0.01) for lon, lat in SQUARE[0]),)
    return MapData(places, flows, (boundary,))


def test_one_element_per_place_and_per_flow_and_widths_follow_quantity() -> None:
    svg = parse(render_map(sample(), title="Carte de Saint-X"))
    places = find_all(svg, "g", "place")
    assert sorted(p.get("data-id") for p in places) == ["cafe", "ferme", "foret", "mairie"]
    assert {p.get("data-kind") for p in places} == set(PLACE_KINDS)
    assert all(p.find("title") is not None and p.find("title").text for p in places)  # type: ignore[union-attr]
    assert [a.get("data-id") for a in find_all(svg, "path", "area")] == ["foret"]
    flows = find_all(svg, "path", "flow")
    assert sorted(f.get("data-id") for f in flows) == ["f1", "f2", "f3", "f4", "f5", "f6"]
    for flow in flows:
        assert flow.get("marker-end", "").startswith("url(#map-arrow-")
        assert flow.find("title") is not None
    width = {f.get("data-id"): float(f.get("stroke-width", "0")) for f in flows}
    assert width["f3"] < width["f2"] < width["f1"]  # same unit: ordered by quantity
    assert width["f4"] == width["f1"]  # each unit's largest flow is the widest
    markers = {m.get("id") for m in svg.iter("marker")}
    assert {f.get("marker-end", "")[5:-1] for f in flows} <= markers


def test_legend_names_every_kind_with_its_symbol_and_the_width_scale() -> None:
    svg = parse(render_map(sample(), title="Carte"))
    entries = find_all(svg, "g", "legend-entry")
    by_group = {(e.get("data-group"), e.get("data-kind")) for e in entries}
    assert {("place", k) for k in PLACE_KINDS} | {("flow", k) for k in FLOW_KINDS} <= by_group
    assert ("boundary", None) in by_group
    for entry in entries:
        assert entry.find("path") is not None or entry.find("rect") is not None
    units = {s.get("data-unit") for s in find_all(svg, "g", "legend-scale")}
    assert units == {"kg", "kWh", "numéros", "trajets"}


def test_text_is_escaped_and_the_svg_is_accessible() -> None:
    data = MapData((MapPlace("x", 'Le "Pré" <script>&', "production_site", (5.5, 45.0)),))
    svg = parse(render_map(data, title="Carte <b>"))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "map-title map-desc"
    assert svg.findtext("title") == "Carte <b>"
    assert "1 lieux et 0 flux" in (svg.findtext("desc") or "")
    assert find_all(svg, "text", "place-label")[0].text == 'Le "Pré" <script>&'
    assert not list(svg.iter("script")) and "href" not in ET.tostring(svg, encoding="unicode")


def test_projection_keeps_every_point_inside_the_map() -> None:
    svg = parse(render_map(sample(), title="Carte"))
    width = float((svg.get("viewBox") or "").split()[2])
    height = float(find_all(svg, "rect", "map-background")[0].get("height", "0"))
    symbols = [p.find("path") for p in find_all(svg, "g", "place")]
    starts = [numbers(s.get("d", ""))[:2] for s in symbols if s is not None]  # then relative
    assert len(starts) == 4
    drawn = find_all(svg, "path", "flow") + find_all(svg, "path", "boundary-area")
    drawn += find_all(svg, "path", "area")
    for values in starts + [numbers(e.get("d", "")) for e in drawn]:
        xs, ys = values[0::2], values[1::2]
        assert all(0 <= x <= width for x in xs) and all(0 <= y <= height for y in ys)
    # the frame keeps its margin for any box shape, here very wide, very tall and a point
    for box in (Box(0.0, 45.0, 3.0, 45.01), Box(5.0, 40.0, 5.001, 48.0), Box.around([(5, 45)])):
        assert box is not None
        frame = fit(box, WebMercator(), width=960, margin=36, min_height=320, max_height=720)
        for lon in (box.west, box.east):
            for lat in (box.south, box.north):
                x, y = frame.point(lon, lat)
                assert 35.9 <= x <= 924.1 and 35.9 <= y <= frame.height - 35.9


def test_empty_data_gives_a_valid_svg_with_a_message() -> None:
    svg = parse(render_map(MapData(), title="Carte", translate=translator("en")))
    assert not find_all(svg, "g", "place") and not find_all(svg, "path", "flow")
    message = find_all(svg, "text", "map-empty")
    assert message and message[0].text == "Nothing to show on the map yet."
    assert len(find_all(svg, "g", "legend-entry")) == len(PLACE_KINDS) + len(FLOW_KINDS)


def test_flows_without_positions_are_not_drawn_and_same_spot_gives_a_loop() -> None:
    spot = (5.5, 45.0)
    flows = (
        MapFlow("lost", "people_mobility", "?", 1, "trajets", None, spot),
        MapFlow("loop", "information_services", "Réunions", 3, "réunions", spot, spot),
    )
    svg = parse(
        render_map(MapData((MapPlace("a", "A", "service_equipment", spot),), flows), title="C")
    )
    assert [f.get("data-id") for f in find_all(svg, "path", "flow")] == ["loop"]
    assert " C" in find_all(svg, "path", "flow")[0].get("d", "")


def test_stroke_width_grows_with_quantity_within_bounds() -> None:
    widths = [stroke_width(q, 1000) for q in (0, 1, 10, 100, 1000, 5000)]
    assert widths == sorted(widths) and widths[0] == 2.0 and widths[-1] == 7.0
    assert stroke_width(5, 0) == 2.0 and stroke_width(math.nan, 10) == 2.0


def test_tiles_use_web_mercator_and_only_the_configured_server() -> None:
    assert WebMercator().project(0, 0) == (0.5, 0.5)
    template = "https://tiles.example/{z}/{x}/{y}.png"
    svg = parse(render_map(sample(), title="Carte", tile_url=template))
    tiles = [i for i in svg.iter("image") if "tile" in classes(i)]
    assert 1 <= len(tiles) <= 64
    zoom = int(next(g for g in find_all(svg, "g", "tiles")).get("data-zoom", "0"))
    assert 12 <= zoom <= 16  # a village a few kilometres wide
    for tile in tiles:
        z, x, y = (int(n) for n in re.findall(r"\d+", tile.get("href", ""))[-3:])
        assert tile.get("href", "").startswith("https://tiles.example/") and z == zoom
        assert 0 <= x < 2**z and 0 <= y < 2**z
    # the tiles cover the whole map: the first is at or before the top-left corner
    assert min(float(t.get("x", "0")) for t in tiles) <= 0
    assert min(float(t.get("y", "0")) for t in tiles) <= 0
    box = Box.around(sample().positions())
    assert box is not None
    frame = fit(box, WebMercator(), width=960, margin=36, min_height=320, max_height=720)
    assert len(tiles_for(frame, template, max_tiles=4)[1]) <= 4
    # a place lies in the tile that tile servers number for it (slippy map tile names)
    lon, lat = 5.54, 45.08
    n = 2**zoom
    column = int((lon + 180) / 360 * n)
    row = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    x, y = frame.point(lon, lat)
    tile = next(t for t in tiles if t.get("href", "").endswith(f"/{zoom}/{column}/{row}.png"))
    left, top, size = (float(tile.get(k, "0")) for k in ("x", "y", "width"))
    assert left <= x <= left + size and top <= y <= top + size
    assert not list(parse(render_map(sample(), title="Carte")).iter("image"))


def test_boundary_files_read_defensively(tmp_path: Path) -> None:
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [SQUARE[0]]}}
    path = tmp_path / "boundary.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    assert load_boundary(path) == (SQUARE,)
    assert load_boundary(None) == ()
    path.write_text("{not json")
    assert load_boundary(path) == ()
    assert load_boundary(tmp_path / "missing.geojson") == ()
    # a boundary traced to the metre is drawn with the positions that show
    ring = [(5.5 + 0.05 * math.cos(i / 3000), 45 + 0.04 * math.sin(i / 3000)) for i in range(18850)]
    svg = parse(render_map(MapData(boundary=((tuple(ring),),)), title="Carte"))
    assert len(find_all(svg, "path", "boundary-area")[0].get("d", "").split("L")) < 2500
    bad = {"type": "Polygon", "coordinates": [[[500, 45], [5, 45], [5, 46]]]}
    assert polygons_from_geojson(bad) == ()
    assert polygons_from_geojson({"type": "Point", "coordinates": [5, 45]}) == ()


def _snapshot() -> MeshSnapshot:
    """Two places, one actor at the farm, flows between them (for the filters)."""
    farm = PlaceView("p1", "u1", "Ferme", "production_site", 45.08, 5.54, None, "", "")
    hall = PlaceView("p2", "u2", "Mairie", "service_equipment", 45.07, 5.52, None, "", "")
    coop = ActorView("a1", "u3", "Coop", "company", "", "", "p1", "Ferme", 45.08, 5.54)
    ends = {
        "p1": Endpoint("place", "p1", "u1", "Ferme", "production_site", 45.08, 5.54),
        "p2": Endpoint("place", "p2", "u2", "Mairie", "service_equipment", 45.07, 5.52),
        "a1": Endpoint("actor", "a1", "u3", "Coop", "company", 45.08, 5.54),
    }

    def flow(ident: str, kind: str, source: str, target: str) -> FlowView:
        return FlowView(
            ident, ident, kind, ident, ends[source], ends[target], 10, "kg", "", None, None
        )

    return MeshSnapshot(
        (farm, hall),
        (coop,),
        (
            flow("f1", "resources_goods_energy", "p1", "p2"),
            flow("f2", "information_services", "p2", "p1"),
            flow("f3", "resources_goods_energy", "a1", "p2"),
        ),
    )


def test_filters_remove_places_flows_and_flows_to_hidden_ends() -> None:
    from multidict import MultiDict

    snapshot = _snapshot()
    everything = read_filters(MultiDict())
    assert everything.complete and filter_snapshot(snapshot, everything) == snapshot
    query = MultiDict(
        [("filtered", "1"), ("place", "production_site"), ("place", "service_equipment"),
         ("flow", "resources_goods_energy"), ("place", "<bogus>")]
    )  # fmt: skip
    goods = read_filters(query)
    assert goods == Filters(
        frozenset({"production_site", "service_equipment"}),
        frozenset(),
        frozenset({"resources_goods_energy"}),
    )
    shown = filter_snapshot(snapshot, goods)
    assert [f.id for f in shown.flows] == ["f1"]  # f2: its kind; f3: its actor's kind
    assert shown.actors == ()
    svg = parse(render_map(map_data(shown, ()), title="Carte"))
    assert [f.get("data-id") for f in find_all(svg, "path", "flow")] == ["f1"]
    only_hall = filter_snapshot(
        snapshot, Filters(frozenset({"service_equipment"}), frozenset(), frozenset(FLOW_KINDS))
    )
    svg = parse(render_map(map_data(only_hall, ()), title="Carte"))
    assert [p.get("data-id") for p in find_all(svg, "g", "place")] == ["p2"]
    assert find_all(svg, "path", "flow") == []


def test_actor_ends_stand_at_their_place() -> None:
    data = map_data(_snapshot(), ())
    f3 = next(f for f in data.flows if f.id == "f3")
    assert f3.source == (5.54, 45.08) and f3.source_id == "p1"  # the actor's place


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_text_of_the_svg_is_translated(language: str) -> None:
    svg = parse(render_map(sample(), title="Carte", translate=translator(language)))
    headings = [t.text for t in find_all(svg, "text", "legend-heading")]
    expected = {"fr": "Lieux", "en": "Places"}[language]
    assert headings[0] == expected


# -- the page, with the sample territory imported -------------------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "territory"
TILES = "https://tiles.example/{z}/{x}/{y}.png"


async def import_sample(client: TestClient) -> None:
    """The sample territory's places, actors and flows, through the import service."""
    config = client.app[config_key]
    sessions = client.app[sessions_key]
    async with sessions() as session:
        admin = (await session.scalars(select(Account).where(Account.role == "admin"))).one()
    files = [("places", "places.csv"), ("geojson", "places.geojson")]
    files += [("actors", "actors.csv"), ("flows", "flows.csv")]
    uploads = [Upload(role, name, (SAMPLE / name).read_bytes()) for role, name in files]
    report = await import_mesh(sessions, config, admin, uploads)
    assert report.stored, report.rejections


async def sample_node(aiohttp_client: Any, make_config: Any, **sections: Any) -> TestClient:
    """A node of the sample commune, its boundary configured and its map imported."""
    territory = {"name": "Saint-Aubin-sur-Loire", "boundary": str(SAMPLE / "boundary.geojson")}
    config = make_config(node=HTTP_NODE, territory=territory, **sections)
    await initialise(config)
    client = await aiohttp_client(create_app(config, workers=False))
    await import_sample(client)
    return client


async def page_of(client: TestClient, path: str) -> str:
    """A page as a browser gets it."""
    response = await client.get(path, headers=HTML)
    assert response.status == 200, await response.text()
    return await response.text()


def svgs_of(page: str) -> list[ET.Element]:
    """The maps of a page, parsed (the main map first, then the enlarged view if any)."""
    return [parse(m) for m in re.findall(r"<svg class=\"map[^\"]*\"[\s\S]*?</svg>", page)]


async def test_map_page_draws_every_place_and_flow_of_the_sample(
    aiohttp_client: Any, make_config: Any
) -> None:
    client = await sample_node(aiohttp_client, make_config)
    snapshot = await mesh_snapshot(client.app[sessions_key])
    assert (len(snapshot.places), len(snapshot.actors), len(snapshot.flows)) == (30, 40, 60)
    located = {p.id for p in snapshot.places if p.latitude is not None}
    drawable = {
        f.id
        for f in snapshot.flows
        if f.source.latitude is not None and f.target.latitude is not None
    }
    assert len(drawable) >= 50
    page = await page_of(client, "/map")
    main, *zoom = svgs_of(page)
    assert {p.get("data-id") for p in find_all(main, "g", "place")} == located
    assert len(find_all(main, "g", "place")) == len(located)
    assert sorted(f.get("data-id") or "" for f in find_all(main, "path", "flow")) == sorted(
        drawable
    )
    assert {a.get("data-id") for a in find_all(main, "path", "area")} == {
        p.id for p in snapshot.places if p.geometry
    }
    kinds = {(e.get("data-group"), e.get("data-kind")) for e in find_all(main, "g", "legend-entry")}
    assert {("place", k) for k in PLACE_KINDS} | {("flow", k) for k in FLOW_KINDS} <= kinds
    assert len(find_all(main, "path", "boundary-area")) == 1
    assert find_all(main, "g", "legend-scale")
    # the village centre is crowded: an enlarged view names its places, outlined on the map
    assert len(zoom) == 1 and zoom[0].get("id") == "map-zoom"
    assert find_all(main, "rect", "zoom-outline")
    enlarged = {p.get("data-id") for p in find_all(zoom[0], "g", "place")}
    assert 4 <= len(enlarged) < len(located) and enlarged <= located
    assert len(find_all(zoom[0], "text", "place-label")) == len(enlarged)
    # the tables list the same data, one row per object
    assert f"Lieux ({len(snapshot.places)})" in page and "Acteurs (40)" in page
    assert "Flux (60)" in page and page.count('href="/flows/') == 60
    assert page.count("<h1>") == 1 and "/map/data" not in page  # not a facilitator
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # the two maps' ids do not collide
    for path in ("/map/export/map.geojson", "/map/export/flows.csv"):
        assert f'href="{path}"' in page


async def test_map_page_has_no_network_reference_without_a_tile_server(
    aiohttp_client: Any, make_config: Any
) -> None:
    client = await sample_node(aiohttp_client, make_config)
    page = await page_of(client, "/map")
    references = re.findall(r"https?://[^\s\"'<>)]+", page)
    assert [r for r in references if not r.startswith(HTTP_NODE["base_url"])] == []
    assert "<image" not in page and "<script" not in page and "@import" not in page


async def test_map_page_draws_tiles_of_the_configured_server(
    aiohttp_client: Any, make_config: Any
) -> None:
    sections = {"map": {"tile_url": TILES, "tile_attribution": "© Tuiles Exemple"}}
    client = await sample_node(aiohttp_client, make_config, **sections)
    page = await page_of(client, "/map")
    main, zoom = svgs_of(page)
    for svg in (main, zoom):
        tiles = [i for i in svg.iter("image") if "tile" in classes(i)]
        assert tiles and all(t.get("href", "").startswith("https://tiles.example/") for t in tiles)
    assert int(find_all(zoom, "g", "tiles")[0].get("data-zoom", "0")) > int(
        find_all(main, "g", "tiles")[0].get("data-zoom", "0")
    )
    assert "© Tuiles Exemple" in page
    foreign = {r.split("/")[2] for r in re.findall(r"https?://[^\s\"'<>)]+", page)}
    assert foreign <= {"tiles.example", HTTP_NODE["base_url"].split("/")[2]}


async def test_filters_by_kind_and_their_form(aiohttp_client: Any, make_config: Any) -> None:
    client = await sample_node(aiohttp_client, make_config)
    query = "filtered=1&place=production_site&place=service_equipment&flow=resources_goods_energy"
    page = await page_of(client, f"/map?{query}&actor=company&actor=agricultural_environmental")
    main = svgs_of(page)[0]
    places = find_all(main, "g", "place")
    assert places and {p.get("data-kind") for p in places} == {
        "production_site",
        "service_equipment",
    }
    flows = find_all(main, "path", "flow")
    assert flows and {f.get("data-kind") for f in flows} == {"resources_goods_energy"}
    expected = filter_snapshot(
        await mesh_snapshot(client.app[sessions_key]),
        Filters(
            frozenset({"production_site", "service_equipment"}),
            frozenset({"company", "agricultural_environmental"}),
            frozenset({"resources_goods_energy"}),
        ),
    )
    assert len(places) == len(expected.places)
    assert f"Flux ({len(expected.flows)})" in page and f"Acteurs ({len(expected.actors)})" in page
    assert 'value="production_site" checked' in page
    assert 'value="living_meeting_place">' in page  # unchecked
    assert 'href="/map">' in page  # "show everything"
    # nothing checked: nothing drawn, a valid page; bogus values are ignored, never echoed
    page = await page_of(client, "/map?filtered=1&place=%3Cscript%3E")
    main = svgs_of(page)[0]
    assert not find_all(main, "g", "place") and "<script>" not in page
    assert find_all(main, "text", "map-empty")


async def test_facilitators_see_the_data_entry_link(aiohttp_client: Any, make_config: Any) -> None:
    client = await sample_node(aiohttp_client, make_config)
    await as_person(client, "camille", "facilitator")
    assert 'href="/map/data"' in await page_of(client, "/map")


async def test_english_map_page(aiohttp_client: Any, make_config: Any) -> None:
    client = await sample_node(aiohttp_client, make_config)
    page = await page_of(client, "/map?lang=en")
    assert "<h1>Map of the territory</h1>" in page
    main = svgs_of(page)[0]
    assert main.findtext("title") == "Map of Saint-Aubin-sur-Loire"
    assert [t.text for t in find_all(main, "text", "legend-heading")][:2] == ["Places", "Flows"]
    labels = [e.findtext("text") or "" for e in find_all(main, "g", "legend-entry")]
    french = [*PLACE_KINDS.values(), *FLOW_KINDS.values()]
    assert labels and not [text for text in labels if text.split(" (")[0] in french]
    assert "places and" in (main.findtext("desc") or "")


async def test_map_of_a_new_node_says_there_is_nothing_yet(client: TestClient) -> None:
    page = await page_of(client, "/map")
    main = svgs_of(page)[0]
    assert find_all(main, "text", "map-empty") and not find_all(main, "g", "place")
    assert "Aucun lieu à montrer." in page and "Aucun flux à montrer." in page
