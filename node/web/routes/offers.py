"""Pages and forms of resource offers and requests: the listing with its filters, the form
to publish one, each offer's page (ActivityPub document at the same URL, 410 once closed)
with its replies, and the author's actions (taken, reopen, close)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from node.convert.notes import tombstone
from node.convert.offers import (
    KIND_LABELS,
    KINDS,
    PURPOSE_LABELS,
    PURPOSES,
    STATE_LABELS,
    offer_to_as,
    quantity_text,
)
from node.domain.actors import Role
from node.domain.forms import Form, FormInvalid
from node.domain.participation import OfferState, allowed_next
from node.services.limits.posting import PostingLimited
from node.services.moderation.visibility import moderation_marks
from node.services.participation.offer_replies import reply_to_offer, reply_to_remote_offer
from node.services.participation.offers import (
    MAX_TEXT,
    Neighbour,
    OfferDraft,
    OfferError,
    OfferForbidden,
    change_offer_state,
    list_offers,
    neighbour_territories,
    offer_deleted_at,
    offer_view,
    publish_offer,
)
from node.web.auth import current_account, require_role
from node.web.keys import runtime_key
from node.web.limits import retry_after
from node.web.negotiation import activity_response, wants_activitypub
from node.web.render import render
from protocols.html import text_to_html

routes = web.RouteTableDef()

#: Everyone with an account of the territory may publish and reply.
MEMBERS = (Role.RESIDENT, Role.FACILITATOR, Role.ADMIN)
_ID = r"{id:[0-9a-z]{26}}"
OFFER_GONE = "Cette offre a été supprimée avec le compte de son auteur·e."
#: The author's buttons, by the state they lead to, in the order they are shown.
ACTION_LABELS = {
    "taken": "Marquer comme pourvue",
    "open": "Rouvrir",
    "closed": "Fermer définitivement",
}
LABELS = {"purposes": PURPOSE_LABELS, "kinds": KIND_LABELS, "states": STATE_LABELS}


def read_offer_form(data: MultiDictProxy[Any], neighbours: list[Neighbour]) -> OfferDraft:
    """The offer form, checked field by field; FormInvalid names each field and the reason."""
    form = Form(data)
    purpose = form.choice("purpose", PURPOSES)
    kind = form.choice("kind", KINDS)
    title = form.text("title")
    text = form.text("text", max_length=MAX_TEXT)
    start = form.day("available_from", required=False)
    end = form.day("available_until", required=False)
    place = form.text("place", required=False)
    hours = minimum = None
    unit = ""
    if kind == "group_purchase":
        minimum = form.number("minimum_quantity", maximum=1_000_000)
        form.check(minimum is None or minimum > 0, "minimum_quantity", _POSITIVE)
        unit = form.text("unit", max_length=32)
    elif kind == "time_bank":
        hours = form.number("hours", maximum=1000)
        form.check(hours is None or hours > 0, "hours", _POSITIVE)
    if start and end:
        form.check(end >= start, "available_until", "La fin de la disponibilité précède son début.")
    territories = tuple(str(t) for t in data.getall("territories", []))
    allowed = {n.uri for n in neighbours}
    form.check(set(territories) <= allowed, "territories", "Choisissez une des valeurs proposées.")
    form.raise_if_invalid()
    return OfferDraft(
        purpose=purpose,
        kind=kind,
        title=title,
        text=text,
        available_from=start,
        available_until=end,
        place=place,
        quantity=hours,
        minimum_quantity=minimum,
        unit=unit,
        addressed_to=territories,
    )


_POSITIVE = "Entrez un nombre plus grand que zéro."


@routes.get("/offers")
async def offers_get(request: web.Request) -> web.StreamResponse:
    """Open offers and requests, ours and our neighbours', filtered by purpose and kind."""
    purpose = request.query.get("purpose", "")
    kind = request.query.get("kind", "")
    purpose = purpose if purpose in PURPOSES else ""
    kind = kind if kind in KINDS else ""
    sessions = request.app[runtime_key].sessions
    cards = await list_offers(sessions, purpose, kind)
    hidden = (await moderation_marks(sessions, [card.uri for card in cards])).hidden
    cards = [card for card in cards if card.uri not in hidden]  # moderation hid them
    return render(
        request,
        "offers/list.html",
        {"cards": cards, "purpose": purpose, "kind": kind, "labels": LABELS},
    )


async def _form_page(
    request: web.Request,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> web.Response:
    neighbours = await neighbour_territories(request.app[runtime_key])
    return render(
        request,
        "offers/form.html",
        {"values": values, "errors": errors, "neighbours": neighbours, "labels": LABELS},
        status=status,
    )


@routes.get("/offers/new")
async def offer_form_get(request: web.Request) -> web.StreamResponse:
    """The form to publish an offer or a request."""
    require_role(request, *MEMBERS)
    purpose = request.query.get("purpose", "offer")
    values = {"purpose": purpose if purpose in PURPOSES else "offer", "kind": "lend"}
    return await _form_page(request, values, {})


@routes.post("/offers")
async def offer_form_post(request: web.Request) -> web.StreamResponse:
    """Publish an offer or a request; the form comes back with each problem by its field."""
    signed = require_role(request, *MEMBERS)
    runtime = request.app[runtime_key]
    data = await request.post()
    values: dict[str, Any] = {k: str(v) for k, v in data.items() if k != "territories"}
    values["territories"] = [str(t) for t in data.getall("territories", [])]
    try:
        draft = read_offer_form(data, await neighbour_territories(runtime))
        offer = await publish_offer(runtime, signed.account, draft)
    except FormInvalid as exc:
        return await _form_page(request, values, exc.errors, status=400)
    except OfferError as exc:
        return await _form_page(request, values, {"form": str(exc)}, status=400)
    except PostingLimited as exc:
        page = await _form_page(request, values, {"form": exc.message}, status=429)
        return retry_after(page, exc.retry_after)
    raise web.HTTPFound(f"/offers/{offer.id}")


async def _missing(request: web.Request) -> web.HTTPException:
    """No such offer: 410 Gone when it was deleted with its author's account, 404 else."""
    if await offer_deleted_at(request.app[runtime_key], request.match_info["id"]) is not None:
        return web.HTTPGone(text=OFFER_GONE)
    return web.HTTPNotFound(text="Cette offre n'existe pas.")


async def _offer_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    runtime = request.app[runtime_key]
    view = await offer_view(runtime, request.match_info["id"])
    if view is None:
        raise await _missing(request)
    offer = view.offer
    me = current_account(request)
    is_author = me is not None and me.account.id == view.author_account_id
    possible = {state.value for state in allowed_next(OfferState(offer.state))}
    actions = [(state, label) for state, label in ACTION_LABELS.items() if state in possible]
    return render(
        request,
        "offers/offer.html",
        {
            "view": view,
            "offer": offer,
            "marks": await moderation_marks(
                runtime.sessions,
                [offer.uri, *(reply.uri for reply, _ in view.replies)],
                [reply.author_uri for reply, _ in view.replies],
            ),
            "text_html": text_to_html(offer.text),
            "quantity": quantity_text(offer),
            "is_author": is_author,
            "actions": actions if is_author else [],
            "errors": errors or {},
            "labels": LABELS,
        },
        status=status,
    )


@routes.get(f"/offers/{_ID}")
async def offer_get(request: web.Request) -> web.StreamResponse:
    """An offer: its Note + vf:Proposal document for servers (a Tombstone with 410 once
    closed), its page with replies and history for people."""
    if not wants_activitypub(request):
        return await _offer_page(request)
    runtime = request.app[runtime_key]
    view = await offer_view(runtime, request.match_info["id"])
    if view is None:
        deleted = await offer_deleted_at(runtime, request.match_info["id"])
        if deleted is None:
            raise web.HTTPNotFound(text="Cette offre n'existe pas.")
        uri = f"{runtime.config.node.base_url}/offers/{request.match_info['id']}"
        return activity_response(tombstone(uri, "Note", deleted), status=410)
    offer = view.offer
    if offer.state == OfferState.CLOSED:
        return activity_response(tombstone(offer.uri, "Note", offer.updated_at), status=410)
    return activity_response(offer_to_as(runtime.config, offer))


@routes.post(f"/offers/{_ID}/state")
async def offer_state_post(request: web.Request) -> web.StreamResponse:
    """The author marks the offer taken, reopens it, or closes it."""
    signed = require_role(request, *MEMBERS)
    data = await request.post()
    offer_id = request.match_info["id"]
    try:
        await change_offer_state(
            request.app[runtime_key], signed.account, offer_id, str(data.get("state", ""))
        )
    except OfferForbidden as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    except OfferError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPFound(f"/offers/{offer_id}")


@routes.post("/offers/replies")
async def remote_offer_reply_post(request: web.Request) -> web.StreamResponse:
    """A resident replies, from this node, to another territory's offer listed here."""
    signed = require_role(request, *MEMBERS)
    data = await request.post()
    try:
        await reply_to_remote_offer(
            request.app[runtime_key],
            signed.account,
            str(data.get("uri", "")),
            str(data.get("text", "")),
        )
    except OfferError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPFound("/offers?done=replied")


@routes.post(f"/offers/{_ID}/replies")
async def offer_reply_post(request: web.Request) -> web.StreamResponse:
    """A resident replies to the offer (a Note federated by their profile)."""
    signed = require_role(request, *MEMBERS)
    data = await request.post()
    offer_id = request.match_info["id"]
    try:
        await reply_to_offer(
            request.app[runtime_key], signed.account, offer_id, str(data.get("text", ""))
        )
    except OfferError as exc:
        return await _offer_page(request, {"text": str(exc)}, status=400)
    except PostingLimited as exc:
        page = await _offer_page(request, {"text": exc.message}, status=429)
        return retry_after(page, exc.retry_after)
    raise web.HTTPFound(f"/offers/{offer_id}#replies")
