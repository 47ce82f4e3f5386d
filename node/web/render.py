"""Rendering server-side pages with the visitor's language."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from node import __version__
from node.domain.actors import FORMER_RESIDENT
from node.domain.local_time import DAY_TIME, local_iso, local_text
from node.services.pages.activity_feed import state_label
from node.web.auth import csrf_key, signed_in_key
from node.web.i18n import LANGUAGE_COOKIE, choose_language, translator
from node.web.keys import config_key, templates_key
from protocols.links import safe_link

ONE_YEAR = 365 * 24 * 3600
STATIC_DIR = Path(__file__).parent / "static"


def make_templates(zone: tzinfo) -> Environment:
    """The Jinja environment: packaged templates, HTML autoescaping on, and the filters that
    show stored UTC moments on the territory's clock (`zone`):
    `{{ moment | local_time }}` (or `local_time("%Y-%m-%d")`) and `{{ moment | local_iso }}`
    for <time datetime>; and the `safe_url` filter that every href, src and action fed by a
    value goes through (only http(s) URLs and this site's paths survive it: stored data may
    hold javascript: links); and the `person` filter for a name that may be a former
    resident's (`{{ page.author | person }}`), which is then said in the page's language."""
    environment = Environment(
        loader=PackageLoader("node.web", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["state_label"] = state_label

    def local_time(moment: datetime, pattern: str = DAY_TIME) -> str:
        return local_text(moment, zone, pattern)

    def local_iso_time(moment: datetime) -> str:
        return local_iso(moment, zone)

    environment.filters["local_time"] = local_time
    environment.filters["local_iso"] = local_iso_time
    environment.filters["safe_url"] = safe_link
    environment.filters["person"] = person_name
    return environment


@pass_context
def person_name(context: Context, name: str) -> str:
    """A person's name as a page shows it: names are never translated, except the one that
    stands for a resident who deleted their account."""
    return str(context["_"](name)) if name == FORMER_RESIDENT else name


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """An HTML page in the visitor's language; ?lang= also remembers the choice in a cookie."""
    config = request.app[config_key]
    language = choose_language(request, config.territory.default_language)
    page = (
        request.app[templates_key]
        .get_template(template)
        .render(
            {
                **context,
                "_": translator(language),
                "lang": language,
                "config": config,
                "version": __version__,
                "path": request.path,
                "csrf": request.get(csrf_key, ""),
                "me": request.get(signed_in_key),
            }
        )
    )
    response = web.Response(text=page, status=status, content_type="text/html")
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    if request.query.get("lang") == language:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=ONE_YEAR, samesite="Lax")
    return response
