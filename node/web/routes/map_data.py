"""The map's data (issue "territorial knowledge", items 1 and 4): the facilitators' page that
lists places, actors and flows with their forms (/map/data), the import of CSV and GeoJSON
files with its report (/map/import), the public exports (/map/export/...), and each object's
own URL (/places/<id>, /map-actors/<id>, /flows/<id>): its ActivityPub document when asked
for JSON, a small page otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from instance_config import InstanceConfig
from node.domain.forms import FormInvalid
from node.domain.mesh import ACTOR_KINDS, ENDPOINT_TYPES, FLOW_KINDS, PLACE_KINDS
from node.services.knowledge.map.documents import object_document
from node.services.knowledge.map.exports import (
    ACTOR_COLUMNS,
    FLOW_COLUMNS,
    PLACE_COLUMNS,
    actors_csv,
    flows_csv,
    map_geojson,
    places_csv,
)
from node.services.knowledge.map.imports import (
    ALL_OR_NOTHING,
    MAX_FILE_BYTES,
    NOTHING_STORED,
    ROLES,
    ImportReport,
    Upload,
    import_mesh,
)
from node.services.knowledge.map.records import (
    FACILITATORS_ONLY,
    MeshNotFound,
    MeshRefused,
    MeshSnapshot,
    Sessions,
    delete_object,
    may_edit_mesh,
    mesh_snapshot,
    save_actor,
    save_flow,
    save_place,
)
from node.storage.models import Account, Flow, MapActor, Place
from node.web.auth import current_account, require_role
from node.web.charts import format_number
from node.web.keys import config_key, sessions_key
from node.web.mesh_forms import actor_values, flow_values, form_errors, place_values, posted_fields
from node.web.negotiation import activity_response, cors, wants_activitypub
from node.web.render import render
from node.web.routes.members import refuse

routes = web.RouteTableDef()

_ID = "{id:[0-9a-z]{26}}"
#: the kinds of objects, as the facilitators' URLs name them (/map/data/<segment>)
SEGMENTS = {"places": "place", "actors": "actor", "flows": "flow"}
_SEGMENT = "{segment:places|actors|flows}"
Save = Callable[
    [Sessions, InstanceConfig, Account, Mapping[str, Any], str | None],
    Awaitable[Place | MapActor | Flow],
]
SAVE: dict[str, Save] = {"place": save_place, "actor": save_actor, "flow": save_flow}
LABELS = {
    "place": PLACE_KINDS,
    "actor": ACTOR_KINDS,
    "flow": FLOW_KINDS,
    "endpoint": ENDPOINT_TYPES,
}
COLUMNS = {"places": PLACE_COLUMNS, "actors": ACTOR_COLUMNS, "flows": FLOW_COLUMNS}
SAVED = "Enregistré."
DELETED = "Supprimé."


async def _map_keeper(request: web.Request) -> Account | None:
    """The signed-in facilitator or admin; None (after login) for anyone else."""
    signed = require_role(request)
    if await may_edit_mesh(request.app[sessions_key], signed.account):
        return signed.account
    return None


async def _data_page(
    request: web.Request,
    kind: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The facilitators' page: the lists and the three forms (one of them with problems)."""
    snapshot = await mesh_snapshot(request.app[sessions_key])
    forms: dict[str, dict[str, Any]] = {k: {"values": {}, "errors": {}} for k in SAVE}
    if kind is not None:
        forms[kind] = {"values": values or {}, "errors": errors or {}}
    notice = {"saved": SAVED, "deleted": DELETED}.get(request.query.get("done", ""), "")
    return render(
        request,
        "mesh/data.html",
        {
            "snapshot": snapshot,
            "forms": forms,
            "labels": LABELS,
            "notice": notice,
            "number": format_number,
        },
        status=status,
    )


@routes.get("/map/data")
async def data_get(request: web.Request) -> web.StreamResponse:
    """Places, actors and flows with the forms that add them (facilitators and admins)."""
    if await _map_keeper(request) is None:
        return refuse(request, FACILITATORS_ONLY)
    return await _data_page(request)


def _find(snapshot: MeshSnapshot, kind: str, object_id: str) -> Any:
    found = {"place": snapshot.place, "actor": snapshot.actor, "flow": snapshot.flow}[kind]
    view = found(object_id)
    if view is None:
        raise web.HTTPNotFound(text="Cet élément de la carte n'existe pas.")
    return view


async def _edit_page(
    request: web.Request,
    kind: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """One object's form, filled with its values (or with what was posted)."""
    snapshot = await mesh_snapshot(request.app[sessions_key])
    view = _find(snapshot, kind, request.match_info["id"])
    if values is None:
        values = (
            place_values(view)
            if kind == "place"
            else actor_values(view)
            if kind == "actor"
            else flow_values(view)
        )
    return render(
        request,
        "mesh/edit.html",
        {
            "kind": kind,
            "view": view,
            "segment": request.match_info["segment"],
            "snapshot": snapshot,
            "form": {"values": values, "errors": errors or {}},
            "labels": LABELS,
            "flows": snapshot.flows_of(view.id) if kind != "flow" else (),
        },
        status=status,
    )


@routes.get(f"/map/data/{_SEGMENT}/{_ID}")
async def edit_get(request: web.Request) -> web.StreamResponse:
    """The form that edits (or deletes) a place, an actor or a flow."""
    if await _map_keeper(request) is None:
        return refuse(request, FACILITATORS_ONLY)
    return await _edit_page(request, SEGMENTS[request.match_info["segment"]])


@routes.post(f"/map/data/{_SEGMENT}")
@routes.post(f"/map/data/{_SEGMENT}/{_ID}")
async def save_post(request: web.Request) -> web.StreamResponse:
    """Add (no id) or edit a place, an actor or a flow; problems come back by their field."""
    account = await _map_keeper(request)
    if account is None:
        return refuse(request, FACILITATORS_ONLY)
    kind = SEGMENTS[request.match_info["segment"]]
    object_id = request.match_info.get("id")
    data = await request.post()
    fields = posted_fields(kind, data)
    config, sessions = request.app[config_key], request.app[sessions_key]
    try:
        saved = await SAVE[kind](sessions, config, account, fields, object_id)
    except MeshRefused as exc:
        return refuse(request, str(exc))
    except MeshNotFound:
        raise web.HTTPNotFound(text="Cet élément de la carte n'existe pas.") from None
    except FormInvalid as exc:
        values = {key: str(value) for key, value in data.items() if key != "csrf"}
        errors = form_errors(exc.errors)
        if object_id is not None:
            return await _edit_page(request, kind, values, errors, status=400)
        return await _data_page(request, kind, values, errors, status=400)
    if object_id is not None:
        raise web.HTTPFound(OBJECT_PATHS[kind].format(id=saved.id))
    raise web.HTTPFound(f"/map/data?done=saved#{request.match_info['segment']}")


@routes.post(f"/map/data/{_SEGMENT}/{_ID}/delete")
async def delete_post(request: web.Request) -> web.StreamResponse:
    """Delete a place, an actor or a flow (a place's or actor's flows go with it)."""
    account = await _map_keeper(request)
    if account is None:
        return refuse(request, FACILITATORS_ONLY)
    segment = request.match_info["segment"]
    try:
        await delete_object(
            request.app[sessions_key], account, SEGMENTS[segment], request.match_info["id"]
        )
    except MeshRefused as exc:
        return refuse(request, str(exc))
    except MeshNotFound:
        raise web.HTTPNotFound(text="Cet élément de la carte n'existe pas.") from None
    raise web.HTTPFound(f"/map/data?done=deleted#{segment}")


# -- import -----------------------------------------------------------------------------------


def _import_page(
    request: web.Request, report: ImportReport | None = None, status: int = 200
) -> web.Response:
    """The import form and its documentation, with the last import's report if any."""
    return render(
        request,
        "mesh/import.html",
        {
            "report": report,
            "columns": COLUMNS,
            "labels": LABELS,
            "max_megabytes": MAX_FILE_BYTES // 1_000_000,
            "nothing_stored": NOTHING_STORED,
            "all_or_nothing": ALL_OR_NOTHING,
        },
        status=status,
    )


@routes.get("/map/import")
async def import_get(request: web.Request) -> web.StreamResponse:
    """The upload form, with the columns each file may have."""
    if await _map_keeper(request) is None:
        return refuse(request, FACILITATORS_ONLY)
    return _import_page(request)


async def _uploads(data: MultiDictProxy[Any]) -> list[Upload]:
    """The files of the form (an empty file input sends no file), read up to the cap + 1
    byte so that a file too big is reported as such."""
    uploads = []
    for role in ROLES:
        field = data.get(role)
        if isinstance(field, web.FileField) and field.filename:
            content = field.file.read(MAX_FILE_BYTES + 1)
            uploads.append(Upload(role, field.filename[:200], content))
    return uploads


@routes.post("/map/import")
async def import_post(request: web.Request) -> web.StreamResponse:
    """Import the files: everything or, with the reason for each rejected row, nothing."""
    account = await _map_keeper(request)
    if account is None:
        return refuse(request, FACILITATORS_ONLY)
    uploads = await _uploads(await request.post())
    try:
        report = await import_mesh(
            request.app[sessions_key], request.app[config_key], account, uploads
        )
    except MeshRefused as exc:
        return refuse(request, str(exc))
    return _import_page(request, report, status=200 if report.stored else 400)


# -- exports (public) -------------------------------------------------------------------------


def _download(text: str, filename: str, content_type: str) -> web.StreamResponse:
    response = web.Response(
        body=text.encode("utf-8"),
        headers={
            "Content-Type": f"{content_type}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )
    return cors(response)


@routes.get("/map/export/places.csv")
async def places_csv_get(request: web.Request) -> web.StreamResponse:
    """Every place, as CSV (the import's columns)."""
    return _download(await places_csv(request.app[sessions_key]), "places.csv", "text/csv")


@routes.get("/map/export/actors.csv")
async def actors_csv_get(request: web.Request) -> web.StreamResponse:
    """Every map actor, as CSV (the import's columns)."""
    return _download(await actors_csv(request.app[sessions_key]), "actors.csv", "text/csv")


@routes.get("/map/export/flows.csv")
async def flows_csv_get(request: web.Request) -> web.StreamResponse:
    """Every flow, as CSV (the import's columns)."""
    return _download(await flows_csv(request.app[sessions_key]), "flows.csv", "text/csv")


@routes.get("/map/export/map.geojson")
async def map_geojson_get(request: web.Request) -> web.StreamResponse:
    """Places and flows as a GeoJSON FeatureCollection."""
    text = await map_geojson(request.app[sessions_key])
    return _download(text, "map.geojson", "application/geo+json")


# -- each object's own URL --------------------------------------------------------------------

#: the object's URL path, by kind (the id of its ActivityPub document)
OBJECT_PATHS = {"place": "/places/{id}", "actor": "/map-actors/{id}", "flow": "/flows/{id}"}


async def _object_get(request: web.Request, kind: str) -> web.StreamResponse:
    """The object's document for servers, its page for people."""
    object_id = request.match_info["id"]
    sessions = request.app[sessions_key]
    if wants_activitypub(request):
        document = await object_document(sessions, request.app[config_key], kind, object_id)
        if document is None:
            raise web.HTTPNotFound(text="Cet élément de la carte n'existe pas.")
        return activity_response(document)
    snapshot = await mesh_snapshot(sessions)
    view = _find(snapshot, kind, object_id)
    signed = current_account(request)
    return render(
        request,
        "mesh/object.html",
        {
            "kind": kind,
            "view": view,
            "labels": LABELS,
            "flows": snapshot.flows_of(object_id) if kind != "flow" else (),
            "actors_here": [a for a in snapshot.actors if a.place_id == object_id],
            "can_edit": await may_edit_mesh(sessions, signed.account if signed else None),
            "edit_path": f"/map/data/{_segment_of(kind)}/{object_id}",
            "number": format_number,
        },
    )


def _segment_of(kind: str) -> str:
    return next(segment for segment, k in SEGMENTS.items() if k == kind)


@routes.get(f"/places/{_ID}")
async def place_get(request: web.Request) -> web.StreamResponse:
    """A place: `Place` document or page."""
    return await _object_get(request, "place")


@routes.get(f"/map-actors/{_ID}")
async def map_actor_get(request: web.Request) -> web.StreamResponse:
    """A map actor: `Profile` document or page."""
    return await _object_get(request, "actor")


@routes.get(f"/flows/{_ID}")
async def flow_get(request: web.Request) -> web.StreamResponse:
    """A flow: `Relationship` document or page."""
    return await _object_get(request, "flow")
