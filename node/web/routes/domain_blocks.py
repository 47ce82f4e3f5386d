"""The admin's domain blocks page: add, change and lift blocks; import and export Mastodon CSV
block lists."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.domain.actors import Role
from node.services.moderation.block_lists import (
    MAX_BYTES,
    ImportSummary,
    import_block_list,
    write_block_list,
)
from node.services.moderation.domain_blocks import (
    BlockError,
    block_request,
    list_blocks,
    remove_block,
    save_block,
)
from node.web.auth import require_role
from node.web.keys import runtime_key
from node.web.render import render

routes = web.RouteTableDef()

PAGE = "/admin/domain-blocks"
IMPORT_PATH = PAGE + "/import"
#: The French reason of each refused line of a block list (translated on the page).
LINE_PROBLEMS = {
    "domain": "pas un nom de domaine",
    "severity": "sévérité inconnue (suspend, silence ou noop)",
    "flag": "pas un booléen (true ou false)",
    "comment": "commentaire trop long",
    "own_domain": "le domaine de ce nœud",
    "duplicate": "domaine déjà sur une ligne précédente",
    "header": "pas d'en-tête #domain : ce n'est pas une liste de blocage Mastodon",
    "size": "liste trop longue",
    "encoding": "le fichier n'est pas du texte UTF-8",
}


async def _page(
    request: web.Request,
    *,
    status: int = 200,
    error: str | None = None,
    summary: ImportSummary | None = None,
    values: dict[str, Any] | None = None,
) -> web.StreamResponse:
    runtime = request.app[runtime_key]
    edit = request.query.get("domain", "")
    blocks = await list_blocks(runtime.sessions)
    editing = next((block for block in blocks if block.domain == edit), None)
    context = {
        "blocks": blocks,
        "editing": editing,
        "values": values or {},
        "error": error,
        "summary": summary,
        "problems": LINE_PROBLEMS,
        "notice": request.query.get("done"),
    }
    return render(request, "moderation/domain_blocks.html", context, status=status)


@routes.get(PAGE)
async def blocks_get(request: web.Request) -> web.StreamResponse:
    """The blocks, a form to add one (or change the one named by ?domain=), import, export."""
    require_role(request, Role.ADMIN)
    return await _page(request)


@routes.post(PAGE)
async def blocks_post(request: web.Request) -> web.StreamResponse:
    """Add or change a block."""
    current = require_role(request, Role.ADMIN)
    form = await request.post()
    values = {key: str(value) for key, value in form.items() if key != "csrf"}
    try:
        request_ = block_request(
            values.get("domain", ""),
            values.get("severity", "suspend"),
            reject_media="reject_media" in values,
            reject_reports="reject_reports" in values,
            public_comment=values.get("public_comment", ""),
            private_comment=values.get("private_comment", ""),
            obfuscate="obfuscate" in values,
        )
        await save_block(request.app[runtime_key], request_, current.account)
    except BlockError as exc:
        return await _page(request, status=400, error=exc.message, values=values)
    raise web.HTTPFound(f"{PAGE}?done=saved")


@routes.post(PAGE + "/remove")
async def blocks_remove_post(request: web.Request) -> web.StreamResponse:
    """Lift a block."""
    current = require_role(request, Role.ADMIN)
    form = await request.post()
    try:
        await remove_block(request.app[runtime_key], str(form.get("domain", "")), current.account)
    except BlockError as exc:
        return await _page(request, status=400, error=exc.message)
    raise web.HTTPFound(f"{PAGE}?done=removed")


@routes.post(IMPORT_PATH)
async def blocks_import_post(request: web.Request) -> web.StreamResponse:
    """Import a Mastodon CSV block list; the page shows the summary and each refused line."""
    current = require_role(request, Role.ADMIN)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        return await _page(request, status=400, error="Choisissez un fichier CSV à importer.")
    data = upload.file.read(MAX_BYTES + 1)  # a longer list is refused whole, as too long
    summary = await import_block_list(request.app[runtime_key], data, current.account)
    return await _page(request, status=400 if summary.errors else 200, summary=summary)


@routes.get(PAGE + "/export.csv")
async def blocks_export_get(request: web.Request) -> web.StreamResponse:
    """Download the blocks as a Mastodon CSV block list."""
    require_role(request, Role.ADMIN)
    blocks = await list_blocks(request.app[runtime_key].sessions)
    return web.Response(
        text=write_block_list(blocks),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="domain_blocks.csv"'},
    )
