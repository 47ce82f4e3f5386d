"""Importing the map's data from files (issue item 1): places, actors and flows from CSV,
places (points and areas) and flows (lines) from GeoJSON.

Everything is read and checked first; every rejected row is reported with its file, its row
and the reason, and then NOTHING is stored, not even the valid rows: an import is one
transaction, stored whole or not at all. Uploaded files are hostile: size cap, UTF-8 only,
no control characters, strict columns, every value checked by the same rules as the forms
(node/services/knowledge/map/rows.py).

CSV files (UTF-8; separated by commas, semicolons or tabs; one header row; a cell that starts
with a quote followed by = + - @ loses the quote, as the exports write such cells):

- places: name, kind, latitude, longitude, address, description, geometry, uri. Required:
  name and kind, and either latitude and longitude or geometry (a GeoJSON Polygon or
  MultiPolygon, whose centre becomes the point when latitude and longitude are empty).
- actors: name, kind, place, website, description, uri. Required: name, kind. `place` names
  a place (its name, or its id or URI on this node) of the node or of the same import.
- flows: kind, label, source_type, source, target_type, target, quantity, unit, period,
  period_start, period_end, uri. Required: the first eight. `source_type` and `target_type`
  are `place` or `actor`; `source` and `target` name one (name, id or URI); `quantity` is a
  number >= 0 (a decimal comma is accepted); the period's dates are YYYY-MM-DD.

`uri` is what the exports write (the object's id on its node): it is accepted and ignored
(the imported object gets a new id). Kinds are tokens (`production_site`) or their French
names ("Site de production"). Rows are numbered like a spreadsheet's: the header is row 1.

GeoJSON: a FeatureCollection (or one Feature). A feature whose property `feature_type` is
`flow` is a flow (properties named like the flows' columns; its geometry, a LineString or
null, is drawn from its endpoints and ignored); any other feature is a place: a Point, or a
Polygon/MultiPolygon area, with the places' columns as properties (others are ignored).
Features are numbered from 1. The map export (map.geojson) imports back as it is.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from instance_config import InstanceConfig
from node.domain.forms import FormInvalid
from node.domain.mesh import AREA_TYPES, POINT_TYPES, GeometryInvalid, parse_geometry
from node.services.knowledge.map.build import (
    new_actor,
    new_flow,
    new_place,
)
from node.services.knowledge.map.records import Sessions, require_map_keeper
from node.services.knowledge.map.rows import (
    ACTOR_COLUMNS,
    ACTOR_REQUIRED,
    FLOW_COLUMNS,
    FLOW_REQUIRED,
    PLACE_COLUMNS,
    PLACE_REQUIRED,
    MeshIndex,
    flow_key,
    load_index,
    read_actor,
    read_flow,
    read_place,
)
from node.services.open_data.formats import FORMULA_STARTS
from node.services.participation.history import record_change
from node.storage.models import Account, Flow, MapActor, Place
from protocols.json_input import JsonRefused, parse_json

#: Largest file accepted (a commune's places with detailed areas stay far below).
MAX_FILE_BYTES = 5_000_000
#: The column every export adds and every import ignores.
URI_COLUMN = "uri"
#: The uploads of the import form, by what they hold.
ROLES = ("places", "actors", "flows", "geojson")
COLUMNS = {"places": PLACE_COLUMNS, "actors": ACTOR_COLUMNS, "flows": FLOW_COLUMNS}
REQUIRED = {"places": PLACE_REQUIRED, "actors": ACTOR_REQUIRED, "flows": FLOW_REQUIRED}
#: How many rejections the report lists (the count says how many there were in all).
REPORT_LIMIT = 300
#: the history step of imported objects
IMPORTED = "imported"

NOTHING_STORED = (
    "Rien n'a été importé : corrigez les lignes signalées, puis envoyez à nouveau les fichiers."
)
ALL_OR_NOTHING = "Un import est enregistré en entier ou pas du tout."
TOO_BIG = "Le fichier dépasse 5 Mo : découpez-le en plusieurs fichiers."
NOT_UTF8 = "Le fichier n'est pas encodé en UTF-8 : enregistrez-le au format « CSV UTF-8 »."
CONTROL = "Le fichier contient des caractères de contrôle (octets nuls…) : ce n'est pas un texte."
EMPTY = "Le fichier est vide."
NO_FILE = "Choisissez au moins un fichier à importer."
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file: what it holds (one of ROLES), its name and its bytes."""

    role: str
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a row (or a whole file, `row` None) is refused."""

    file: str
    #: "ligne" (CSV rows, header = 1) or "objet" (GeoJSON features, from 1)
    unit: str
    row: int | None
    #: the column or property concerned, if one is
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: the numbers stored, or every rejection (and nothing stored)."""

    places: int = 0
    actors: int = 0
    flows: int = 0
    rejections: tuple[Rejection, ...] = ()
    #: how many rejections there were (the report lists at most REPORT_LIMIT)
    rejected: int = 0

    @property
    def stored(self) -> bool:
        """Whether the import was stored (no rejection)."""
        return not self.rejected


@dataclass
class ImportRows:
    """The rows read from the uploads, each with where it came from."""

    places: list[tuple[str, str, int, dict[str, str]]] = field(default_factory=list)
    actors: list[tuple[str, str, int, dict[str, str]]] = field(default_factory=list)
    flows: list[tuple[str, str, int, dict[str, str]]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def reject(self, upload: Upload, unit: str, row: int | None, name: str, reason: str) -> None:
        self.rejections.append(Rejection(upload.filename, unit, row, name, reason))


def _text_of(upload: Upload, rows: ImportRows) -> str | None:
    """The file's text, or None after rejecting it (too big, not UTF-8, not text, empty)."""
    if len(upload.data) > MAX_FILE_BYTES:
        rows.reject(upload, "ligne", None, "", TOO_BIG)
        return None
    try:
        text = upload.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = upload.data[: exc.start].count(b"\n") + 1
        rows.reject(upload, "ligne", line, "", NOT_UTF8)
        return None
    bad = _CONTROL.search(text)
    if bad is not None:
        rows.reject(upload, "ligne", text.count("\n", 0, bad.start()) + 1, "", CONTROL)
        return None
    if not text.strip():
        rows.reject(upload, "ligne", None, "", EMPTY)
        return None
    return text


def _unquote(cell: str) -> str:
    """A cell as meant: trimmed, without the quote the exports put before = + - @."""
    cell = cell.strip()
    if cell.startswith("'") and cell[1:2] and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _delimiter(text: str) -> str:
    """The separator of the header row: the commonest of comma, semicolon and tab."""
    header = text.lstrip().split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)


def _read_csv(upload: Upload, rows: ImportRows) -> None:
    """Check the header of a CSV upload and collect its rows (numbered as a spreadsheet)."""
    text = _text_of(upload, rows)
    if text is None:
        return
    allowed, required = COLUMNS[upload.role], REQUIRED[upload.role]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    target = getattr(rows, upload.role)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        problems = _header_problems(header, allowed, required)
        for problem in problems:
            rows.reject(upload, "ligne", 1, "", problem)
        if problems:
            return
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue  # blank lines are not rows
            if len(record) != len(header):
                rows.reject(
                    upload,
                    "ligne",
                    number,
                    "",
                    f"{len(record)} valeurs au lieu de {len(header)} (un séparateur ou un "
                    "guillemet de trop ou de moins ?).",
                )
                continue
            values = {
                name: _unquote(cell)
                for name, cell in zip(header, record, strict=True)
                if name != URI_COLUMN
            }
            target.append((upload.filename, "ligne", number, values))
    except csv.Error as exc:
        rows.reject(upload, "ligne", reader.line_num, "", f"CSV illisible : {exc}.")


def _header_problems(
    header: list[str], allowed: tuple[str, ...], required: tuple[str, ...]
) -> list[str]:
    """What is wrong with a header row: unknown, repeated or missing columns."""
    problems = []
    known = (*allowed, URI_COLUMN)
    unknown = [name for name in header if name not in known]
    if unknown:
        problems.append(
            f"Colonnes inconnues : {', '.join(unknown) or '(sans nom)'}. "
            f"Colonnes possibles : {', '.join(known)}."
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(f"Colonnes en double : {', '.join(repeated)}.")
    missing = [name for name in required if name not in header]
    if missing:
        problems.append(f"Colonnes obligatoires absentes : {', '.join(missing)}.")
    return problems


def _property(value: Any) -> str:
    """A GeoJSON property as the readers take it (numbers written exactly)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _read_geojson(upload: Upload, rows: ImportRows) -> None:
    """Collect the places (points, areas) and flows of a GeoJSON upload."""
    text = _text_of(upload, rows)
    if text is None:
        return
    try:
        document = parse_json(text)
    except JsonRefused as exc:
        line = getattr(exc.__context__, "lineno", None)
        rows.reject(upload, "ligne", line, "", "Ce n'est pas du JSON lisible.")
        return
    kind = document.get("type") if isinstance(document, dict) else None
    features = document.get("features") if kind == "FeatureCollection" else [document]
    if kind not in ("FeatureCollection", "Feature") or not isinstance(features, list):
        rows.reject(upload, "objet", None, "", "Attendu : une FeatureCollection GeoJSON.")
        return
    for number, feature in enumerate(features, start=1):
        _read_feature(upload, rows, number, feature)


def _read_feature(upload: Upload, rows: ImportRows, number: int, feature: Any) -> None:
    """One feature: a flow (feature_type "flow") or a place."""
    properties = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        rows.reject(upload, "objet", number, "", "Attendu : un objet GeoJSON de type Feature.")
        return
    if not isinstance(properties, dict):
        properties = {}
    values = {name: _property(properties.get(name)).strip() for name in FLOW_COLUMNS}
    geometry = feature.get("geometry")
    if str(properties.get("feature_type", "")).strip() == "flow":
        if geometry is not None:
            try:
                parse_geometry(geometry, ("LineString",))
            except GeometryInvalid as exc:
                rows.reject(upload, "objet", number, "geometry", str(exc))
                return
        rows.flows.append((upload.filename, "objet", number, values))
        return
    values = {name: _property(properties.get(name)).strip() for name in PLACE_COLUMNS}
    if geometry is None:
        rows.reject(upload, "objet", number, "geometry", "Le lieu n'a pas de géométrie.")
        return
    try:
        checked = parse_geometry(geometry, POINT_TYPES + AREA_TYPES)
    except GeometryInvalid as exc:
        rows.reject(upload, "objet", number, "geometry", str(exc))
        return
    if checked["type"] == "Point":
        longitude, latitude = checked["coordinates"][:2]
        values |= {"latitude": repr(float(latitude)), "longitude": repr(float(longitude))}
        values["geometry"] = ""
    else:
        values["geometry"] = json.dumps(checked)
    rows.places.append((upload.filename, "objet", number, values))


def read_uploads(uploads: list[Upload]) -> ImportRows:
    """Every row of the uploads, and the rejections of whole files and malformed rows."""
    rows = ImportRows()
    for upload in uploads:
        if upload.role == "geojson":
            _read_geojson(upload, rows)
        else:
            _read_csv(upload, rows)
    return rows


def _problems(rows: ImportRows, where: tuple[str, str, int], errors: Mapping[str, str]) -> None:
    for name, reason in errors.items():
        rows.rejections.append(Rejection(where[0], where[1], where[2], name, reason))


def check_rows(
    config: InstanceConfig, rows: ImportRows, index: MeshIndex
) -> list[Place | MapActor | Flow]:
    """Check every row against the rules and the index (which learns each accepted row, so
    actors may name new places and flows new places and actors): the new objects, valid
    only if `rows.rejections` stays empty."""
    objects: list[Place | MapActor | Flow] = []
    for file, unit, number, values in rows.places:
        try:
            place_draft = read_place(values)
        except FormInvalid as exc:
            _problems(rows, (file, unit, number), exc.errors)
            continue
        errors = index.check_place(place_draft)
        _problems(rows, (file, unit, number), errors)
        if not errors:
            place = new_place(config, place_draft)
            index.places.add(place.id, place.uri, place.name)
            objects.append(place)
    for file, unit, number, values in rows.actors:
        try:
            actor_draft = read_actor(values)
        except FormInvalid as exc:
            _problems(rows, (file, unit, number), exc.errors)
            continue
        place_id, errors = index.check_actor(actor_draft)
        _problems(rows, (file, unit, number), errors)
        if not errors:
            actor = new_actor(config, actor_draft, place_id)
            index.actors.add(actor.id, actor.uri, actor.name)
            objects.append(actor)
    for file, unit, number, values in rows.flows:
        try:
            flow_draft = read_flow(values)
        except FormInvalid as exc:
            _problems(rows, (file, unit, number), exc.errors)
            continue
        source, target, errors = index.check_flow(flow_draft)
        _problems(rows, (file, unit, number), errors)
        if not errors and source and target:
            index.flows.add(flow_key(source, target, flow_draft))
            objects.append(new_flow(config, flow_draft, source, target))
    return objects


async def import_mesh(
    sessions: Sessions, config: InstanceConfig, account: Account, uploads: list[Upload]
) -> ImportReport:
    """Import the uploads in one transaction: all their rows, or none and every reason.
    MeshRefused (before reading anything) for anyone but facilitators and admins."""
    async with sessions() as session:
        await require_map_keeper(session, account)
    if not uploads:
        rejection = Rejection("", "ligne", None, "", NO_FILE)
        return ImportReport(rejections=(rejection,), rejected=1)
    rows = read_uploads(uploads)
    async with sessions.begin() as session:
        by = await require_map_keeper(session, account)
        objects = check_rows(config, rows, await load_index(session))
        if rows.rejections:
            return ImportReport(
                rejections=tuple(rows.rejections[:REPORT_LIMIT]),
                rejected=len(rows.rejections),
            )
        files = ", ".join(upload.filename for upload in uploads)
        for model in (Place, MapActor, Flow):  # in the order their foreign keys need
            for item in objects:
                if isinstance(item, model):
                    session.add(item)
                    record_change(session, item.uri, None, IMPORTED, by, files)
            await session.flush()
    return ImportReport(
        places=sum(isinstance(item, Place) for item in objects),
        actors=sum(isinstance(item, MapActor) for item in objects),
        flows=sum(isinstance(item, Flow) for item in objects),
    )
