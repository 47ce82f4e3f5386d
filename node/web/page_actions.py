"""One action of an object's page (support, comment, triage, a lifecycle step...): read the
form, call the service, then go back to the page; problems come back on the page, next to
their field (400), as a refusal (403) or as a limit reached (429), never as a 500."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from node.domain.forms import Form, FormInvalid
from node.services.limits.posting import PostingLimited
from node.services.participation.needs import NotAllowed, ParticipationError
from node.web.limits import retry_after

Action = Callable[[Form], Awaitable[object]]


class PageRenderer(Protocol):
    """Renders the object's page again, with what went wrong."""

    def __call__(
        self,
        request: web.Request,
        *,
        status: int = ...,
        error: str | None = ...,
        errors: dict[str, str] | None = ...,
        values: Any = ...,
    ) -> Awaitable[web.StreamResponse]: ...


async def run_page_action(
    request: web.Request,
    read: Action,
    page: PageRenderer,
    *,
    done_url: str,
    anchor: str,
    missing: str,
) -> web.StreamResponse:
    """Run `read` on the posted form; on success redirect to `done_url` at `anchor`."""
    data = await request.post()
    try:
        await read(Form(data))
    except FormInvalid as exc:
        return await page(request, status=400, errors=exc.errors, values=data)
    except PostingLimited as exc:
        return retry_after(await page(request, status=429, error=exc.message), exc.retry_after)
    except NotAllowed as exc:
        return await page(request, status=403, error=exc.message)
    except ParticipationError as exc:
        if exc.field:
            return await page(request, status=400, errors={exc.field: exc.message}, values=data)
        return await page(request, status=400, error=exc.message)
    except LookupError:
        raise web.HTTPNotFound(text=missing) from None
    raise web.HTTPFound(f"{done_url}?done={anchor}#{anchor}")
