"""The open data page: every public dataset of the node, described, counted and dated, with
its licence and a stable download URL per format (CSV and JSON-LD, and GeoJSON for the
datasets on the map), plus a page per dataset that documents its columns and a DCAT
catalogue of them all.

Downloads may be read from any origin (CORS) and carry an ETag, so that scripts and portals
that poll them can ask "has it changed?" cheaply.
"""

from __future__ import annotations

import hashlib
import json

from aiohttp import web

from node.services.open_data.catalogue import (
    CSV_TYPE,
    GEOJSON_TYPE,
    JSONLD_TYPE,
    catalogue_document,
    dataset_csv,
    dataset_geojson,
    dataset_jsonld,
    find_dataset,
    open_data_catalogue,
    summary_of,
)
from node.services.open_data.datasets import Dataset
from node.web.i18n import translator
from node.web.keys import config_key, sessions_key
from node.web.negotiation import CORS_HEADERS
from node.web.render import render

routes = web.RouteTableDef()

_SLUG = "{slug:[a-z][a-z-]{0,39}}"
NO_SUCH_DATASET = "Ce jeu de données n'existe pas."
NOT_ON_THE_MAP = "Ce jeu de données n'est pas sur la carte : il n'existe pas en GeoJSON."


def _dataset(request: web.Request) -> Dataset:
    """The dataset the URL names, or a 404."""
    dataset = find_dataset(request.match_info["slug"])
    if dataset is None:
        raise web.HTTPNotFound(text=NO_SUCH_DATASET)
    return dataset


def _download(
    request: web.Request, body: bytes, content_type: str, filename: str | None = None
) -> web.Response:
    """A download: its media type, readable from any origin, with an ETag of its content
    (a matching If-None-Match gets 304 Not Modified)."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        **CORS_HEADERS,
        "Access-Control-Expose-Headers": "ETag, Content-Disposition",
        "ETag": etag,
        "Cache-Control": "no-cache",
    }
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if etag in (tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    charset = "utf-8" if content_type in (CSV_TYPE, GEOJSON_TYPE) else None
    return web.Response(body=body, content_type=content_type, charset=charset, headers=headers)


def _json(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


@routes.get("/open-data")
async def open_data_page(request: web.Request) -> web.Response:
    """The list of every public dataset, with its licence and download links."""
    summaries = await open_data_catalogue(request.app[sessions_key], request.app[config_key])
    return render(request, "open_data/index.html", {"summaries": summaries})


@routes.get("/open-data.jsonld")
async def open_data_catalogue_get(request: web.Request) -> web.Response:
    """The DCAT catalogue of every dataset, in JSON-LD."""
    config = request.app[config_key]
    summaries = await open_data_catalogue(request.app[sessions_key], config)
    document = catalogue_document(config, summaries, translator("en"))
    return _download(request, _json(document), JSONLD_TYPE)


@routes.get(f"/open-data/{_SLUG}.csv")
async def dataset_csv_get(request: web.Request) -> web.Response:
    """A dataset as CSV (UTF-8, header row), downloaded as a file."""
    dataset = _dataset(request)
    config = request.app[config_key]
    text = await dataset_csv(request.app[sessions_key], config, dataset)
    filename = f"{config.territory.handle}-{dataset.slug}.csv"
    return _download(request, text.encode("utf-8"), CSV_TYPE, filename)


@routes.get(f"/open-data/{_SLUG}.jsonld")
async def dataset_jsonld_get(request: web.Request) -> web.Response:
    """A dataset as a JSON-LD collection of its federated documents."""
    dataset = _dataset(request)
    config = request.app[config_key]
    document = await dataset_jsonld(request.app[sessions_key], config, dataset, translator("en"))
    return _download(request, _json(document), JSONLD_TYPE)


@routes.get(f"/open-data/{_SLUG}.geojson")
async def dataset_geojson_get(request: web.Request) -> web.Response:
    """A dataset of the map (places, actors, flows) as a GeoJSON FeatureCollection."""
    dataset = _dataset(request)
    config = request.app[config_key]
    text = await dataset_geojson(request.app[sessions_key], config, dataset)
    if text is None:
        raise web.HTTPNotFound(text=NOT_ON_THE_MAP)
    filename = f"{config.territory.handle}-{dataset.slug}.geojson"
    return _download(request, text.encode("utf-8"), GEOJSON_TYPE, filename)


@routes.get(f"/open-data/{_SLUG}")
async def dataset_page(request: web.Request) -> web.Response:
    """A dataset's description: what it holds, its columns, its figures and downloads."""
    dataset = _dataset(request)
    summary = await summary_of(request.app[sessions_key], request.app[config_key], dataset)
    return render(request, "open_data/dataset.html", {"summary": summary})
