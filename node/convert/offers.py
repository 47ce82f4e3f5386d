"""Resource offers and requests on the wire (vocabulary.md 5.8, FEP-0837): a `Note` carrying
a ValueFlows `Proposal` that publishes one `Intent`, and the cards the listing shows for local
offers and for offers received from other Maillage nodes.

Mastodon shows a Note's text, so `content` is self-sufficient: what, its status line ("Offre
· prêt · disponible jusqu'au 31/10", in the territory's language), when, where and how to
answer. There is no `summary`: Mastodon would show it as a content warning hiding the offer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from instance_config import InstanceConfig
from node.convert.fediverse_html import period, readable_content
from node.convert.objects import maillage_object, territory_uri
from node.storage.models import Offer, RemoteObject
from protocols.activitystreams import id_of
from protocols.html import stored_html_to_text, text_to_html

PURPOSES = ("offer", "request")
KINDS = ("lend", "give", "group_purchase", "time_bank")
STATES = ("open", "taken", "closed")

#: French labels shown on pages (translated there with `_()`, see locales/en/offers.json).
PURPOSE_LABELS = {"offer": "Offre", "request": "Demande"}
KIND_LABELS = {
    "lend": "Prêt ou mise à disposition",
    "give": "Don, réemploi",
    "group_purchase": "Achat groupé",
    "time_bank": "Heures de banque de temps",
}
STATE_LABELS = {"open": "ouverte", "taken": "pourvue", "closed": "fermée"}

#: The ValueFlows action of each kind's Intent (FEP-0837).
ACTIONS = {"lend": "use", "give": "transfer", "group_purchase": "transfer", "time_bank": "work"}
HOUR = "hour"

#: The words of the wire texts (status line and content), per language of the territory.
_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "offer": "Offre",
        "request": "Demande",
        "lend": "prêt",
        "give": "don",
        "group_purchase": "achat groupé",
        "time_bank": "banque de temps",
        "taken": "pourvue",
        "closed": "fermée",
        "available": "disponible",
        "until": "jusqu'au {day}",
        "from": "à partir du {day}",
        "minimum": "minimum {quantity}",
        "hours": "{quantity} h",
        "when": "Quand",
        "where": "Où",
        "how_much": "Quantité",
        "answer": "Pour répondre : répondez à ce message depuis le fédivers, ou sur {url}",
    },
    "en": {
        "offer": "Offer",
        "request": "Request",
        "lend": "loan",
        "give": "gift",
        "group_purchase": "group purchase",
        "time_bank": "time bank",
        "taken": "taken",
        "closed": "closed",
        "available": "available",
        "until": "until {day}",
        "from": "from {day}",
        "minimum": "minimum {quantity}",
        "hours": "{quantity} h",
        "when": "When",
        "where": "Where",
        "how_much": "Quantity",
        "answer": "To answer: reply to this post from the fediverse, or on {url}",
    },
}


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["fr"])


def format_quantity(value: float | None) -> str:
    """A quantity without a useless decimal part: 3.0 -> "3", 2.5 -> "2.5".

    >>> format_quantity(3.0), format_quantity(2.5), format_quantity(None)
    ('3', '2.5', '')
    """
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else f"{value:g}"


def quantity_text(offer: Offer, language: str = "fr") -> str:
    """The quantity part of an offer: "minimum 20 kg" for a group purchase, "3 h" of time."""
    words = _words(language)
    if offer.kind == "group_purchase" and offer.minimum_quantity is not None:
        amount = f"{format_quantity(offer.minimum_quantity)} {offer.unit}".strip()
        return words["minimum"].format(quantity=amount)
    if offer.kind == "time_bank" and offer.quantity is not None:
        return words["hours"].format(quantity=format_quantity(offer.quantity))
    return ""


def status_line(offer: Offer, language: str = "fr") -> str:
    """The generated status line: purpose, kind, quantity, then availability or state.

    "Offre · prêt · disponible jusqu'au 31/10", "Demande · achat groupé · minimum 20 kg ·
    jusqu'au 15/06", "Offre · don · pourvue".
    """
    words = _words(language)
    parts = [words[offer.purpose], words[offer.kind]]
    if quantity := quantity_text(offer, language):
        parts.append(quantity)
    if offer.state in ("taken", "closed"):
        parts.append(words[offer.state])
        return " · ".join(parts)
    if offer.available_until is not None:
        when = words["until"].format(day=offer.available_until.strftime("%d/%m"))
    elif offer.available_from is not None:
        when = words["from"].format(day=offer.available_from.strftime("%d/%m"))
    else:
        when = ""
    if offer.purpose == "offer":
        when = f"{words['available']} {when}".strip()
    if when:
        parts.append(when)
    return " · ".join(parts)


def offer_content(offer: Offer, language: str = "fr") -> str:
    """The Note's HTML, readable on its own in Mastodon: title, status line, text, when,
    where, how much, and how to answer (with the link to the offer's page)."""
    words = _words(language)
    return readable_content(
        title=offer.title,
        status=status_line(offer, language),
        body=text_to_html(offer.text),
        url=offer.uri,
        language=language,
        facts=[
            (words["when"], period(offer.available_from, offer.available_until, language)),
            (words["where"], offer.place),
            (words["how_much"], quantity_text(offer, language)),
        ],
        ending=text_to_html(words["answer"].format(url=offer.uri)),
    )


def _measure(unit: str, value: float | None) -> dict[str, str]:
    return {"hasUnit": unit or "one", "hasNumericalValue": format_quantity(value)}


def _intent(config: InstanceConfig, offer: Offer) -> dict[str, Any]:
    """The Intent the Proposal publishes: its action, and the territory as provider (offer)
    or receiver (request)."""
    party = "provider" if offer.purpose == "offer" else "receiver"
    intent: dict[str, Any] = {
        "id": f"{offer.uri}#primary",
        "type": "Intent",
        "action": ACTIONS[offer.kind],
        party: territory_uri(config),
    }
    if offer.kind == "group_purchase" and offer.minimum_quantity is not None:
        intent["minimumQuantity"] = _measure(offer.unit, offer.minimum_quantity)
    if offer.kind == "time_bank" and offer.quantity is not None:
        intent["effortQuantity"] = _measure(HOUR, offer.quantity)
    return intent


def addressed_territories(offer: Offer) -> list[str]:
    """The neighbouring territory actors the offer is also addressed to."""
    try:
        value = json.loads(offer.addressed_to or "[]")
    except ValueError:
        return []
    return [uri for uri in value if isinstance(uri, str)] if isinstance(value, list) else []


def offer_to_as(config: InstanceConfig, offer: Offer) -> dict[str, Any]:
    """The Note + vf:Proposal document of a local offer (a Tombstone is served once closed)."""
    language = config.territory.default_language
    neighbours = addressed_territories(offer)
    extra: dict[str, Any] = {
        "purpose": offer.purpose,
        "publishes": _intent(config, offer),
        "proposedTo": [territory_uri(config), *neighbours],
        "lifecycleState": offer.state,
    }
    if offer.kind == "group_purchase":
        extra["unitBased"] = True
    if offer.available_from is not None:
        extra["hasBeginning"] = f"{offer.available_from.isoformat()}T00:00:00Z"
    if offer.available_until is not None:
        extra["hasEnd"] = f"{offer.available_until.isoformat()}T23:59:59Z"
    if offer.place:
        extra["location"] = {"type": "Place", "name": offer.place}
    return maillage_object(
        config,
        as_type="Note",
        additional_type="vf:Proposal",
        uri=offer.uri,
        name=offer.title,
        status_line=status_line(offer, language),
        content=offer_content(offer, language),
        published=offer.created_at,
        updated=offer.updated_at if offer.updated_at != offer.created_at else None,
        extra=extra,
        addressed_to=neighbours,
    )


@dataclass(frozen=True, slots=True)
class OfferCard:
    """One line of the offers listing, local or received from another node."""

    uri: str
    #: where people read it: our page for a local offer, the publisher's page else
    url: str
    title: str
    purpose: str
    kind: str
    state: str
    place: str
    available_from: date | None
    available_until: date | None
    #: the quantity part ("minimum 20 kg", "3 h"), in French
    quantity: str
    #: the publishing territory's name for a remote offer, "" for ours
    origin: str
    #: the status line the publisher wrote (remote offers)
    summary: str
    published: datetime

    @property
    def local(self) -> bool:
        """Whether the offer was published on this node."""
        return not self.origin


def card_of_offer(offer: Offer) -> OfferCard:
    """The listing card of a local offer."""
    return OfferCard(
        uri=offer.uri,
        url=offer.uri,
        title=offer.title,
        purpose=offer.purpose,
        kind=offer.kind,
        state=offer.state,
        place=offer.place,
        available_from=offer.available_from,
        available_until=offer.available_until,
        quantity=quantity_text(offer),
        origin="",
        summary=status_line(offer),
        published=offer.created_at,
    )


def kind_of_intent(intent: Any, unit_based: Any = None) -> str:
    """Our kind for a received Intent: use -> lend, work -> time bank, transfer -> give, or
    group purchase when it has a minimum quantity (or the Proposal is unit based).

    >>> kind_of_intent({"action": "work"}), kind_of_intent({"action": "transfer"})
    ('time_bank', 'give')
    >>> kind_of_intent({"action": "transfer", "minimumQuantity": {}})
    'group_purchase'
    """
    action = intent.get("action") if isinstance(intent, dict) else None
    action = action.rsplit(":", 1)[-1].rsplit("#", 1)[-1] if isinstance(action, str) else ""
    if action in ("use", "transferCustody"):
        return "lend"
    if action in ("work", "deliverService"):
        return "time_bank"
    if isinstance(intent, dict) and ("minimumQuantity" in intent or unit_based is True):
        return "group_purchase"
    return "give"


def _remote_day(value: Any) -> date | None:
    """The day of a received date-time, or None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def card_of_remote(row: RemoteObject, origin: str) -> OfferCard:
    """The listing card of an offer received from another node; every field is checked (the
    raw JSON is hostile input); its title, place and status line are the text stored on
    receipt, its content the HTML sanitised then."""
    try:
        document = json.loads(row.raw)
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    purpose = document.get("purpose")
    url = id_of(row.url) or ""
    return OfferCard(
        uri=row.uri,
        url=url if url.startswith(("https://", "http://")) else row.uri,
        title=row.name or stored_html_to_text(row.content)[:80],
        purpose=purpose if purpose in PURPOSES else "offer",
        kind=kind_of_intent(document.get("publishes"), document.get("unitBased")),
        state=row.state if row.state in STATES else "open",
        place=row.place,
        available_from=_remote_day(document.get("hasBeginning")),
        available_until=_remote_day(document.get("hasEnd")),
        quantity="",
        origin=origin or row.actor_uri,
        summary=row.summary,
        published=row.published,
    )
