"""Objects received from other Maillage nodes, read back for pages: the raw JSON kept with
each RemoteObject is hostile input, so every field is checked before it is used."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from node.storage.models import RemoteObject

#: RemoteObject.kind -> what pages call it (a need and a proposal share tc:Proposal)
_KINDS = {
    "tc:Decision": "decision",
    "tc:Experiment": "experiment",
    "tc:Evaluation": "evaluation",
}
_PROPOSAL_KINDS = ("need", "proposal", "amendment")


def json_object(raw: str) -> dict[str, Any]:
    """A stored JSON text as an object, or {} when it is not one.

    >>> json_object('{"a": 1}'), json_object("[1]"), json_object("{")
    ({'a': 1}, {}, {})
    """
    try:
        document = json.loads(raw)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def raw_document(row: RemoteObject) -> dict[str, Any]:
    """The object as received, or {} when its JSON is not an object."""
    return json_object(row.raw)


def received_kind(row: RemoteObject) -> str:
    """need, proposal, amendment, decision, experiment, evaluation, offer or request.

    >>> received_kind(RemoteObject(kind="tc:Proposal", raw='{"proposalKind": "need"}'))
    'need'
    >>> received_kind(RemoteObject(kind="vf:Proposal", raw='{"purpose": "request"}'))
    'request'
    >>> received_kind(RemoteObject(kind="tc:Proposal", raw='[]'))
    'proposal'
    """
    if row.kind in _KINDS:
        return _KINDS[row.kind]
    document = raw_document(row)
    if row.kind == "vf:Proposal":
        return "request" if document.get("purpose") == "request" else "offer"
    kind = document.get("proposalKind")
    return kind if kind in _PROPOSAL_KINDS else "proposal"


def moment_of(value: Any) -> datetime | None:
    """An xsd:dateTime with its zone ("2026-04-15T18:00:00Z"), or None when it is not one.

    >>> moment_of("2026-04-15T18:00:00Z").isoformat(), moment_of("demain"), moment_of(3)
    ('2026-04-15T18:00:00+00:00', None, None)
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
