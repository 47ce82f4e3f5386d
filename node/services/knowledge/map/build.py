"""New rows of the map's tables from checked drafts (node/services/knowledge/map/rows.py): the forms
and the imports build places, actors and flows the same way, ids and URIs minted here."""

from __future__ import annotations

from instance_config import InstanceConfig
from node.convert.mesh import flow_uri, map_actor_uri, place_uri
from node.domain.ids import new_id
from node.services.knowledge.map.rows import ActorDraft, FlowDraft, PlaceDraft
from node.storage.models import Flow, MapActor, Place


def new_place(config: InstanceConfig, draft: PlaceDraft) -> Place:
    """A new place row (id and URI minted) from a checked draft."""
    place_id = new_id()
    place = Place(id=place_id, uri=place_uri(config, place_id))
    fill_place(place, draft)
    return place


def fill_place(place: Place, draft: PlaceDraft) -> None:
    """Copy a checked draft into a place row."""
    place.name, place.kind = draft.name, draft.kind
    place.latitude, place.longitude = draft.latitude, draft.longitude
    place.geometry = draft.geometry
    place.address, place.description = draft.address, draft.description


def new_actor(config: InstanceConfig, draft: ActorDraft, place_id: str | None) -> MapActor:
    """A new map actor row (id and URI minted) from a checked draft and its place."""
    actor_id = new_id()
    actor = MapActor(id=actor_id, uri=map_actor_uri(config, actor_id))
    fill_actor(actor, draft, place_id)
    return actor


def fill_actor(actor: MapActor, draft: ActorDraft, place_id: str | None) -> None:
    """Copy a checked draft and its resolved place into a map actor row."""
    actor.name, actor.kind = draft.name, draft.kind
    actor.website, actor.description = draft.website, draft.description
    actor.place_id = place_id


def new_flow(
    config: InstanceConfig, draft: FlowDraft, source: tuple[str, str], target: tuple[str, str]
) -> Flow:
    """A new flow row (id and URI minted) from a checked draft and its resolved endpoints."""
    flow_id = new_id()
    flow = Flow(id=flow_id, uri=flow_uri(config, flow_id))
    fill_flow(flow, draft, source, target)
    return flow


def fill_flow(
    flow: Flow, draft: FlowDraft, source: tuple[str, str], target: tuple[str, str]
) -> None:
    """Copy a checked draft and its (type, id) endpoints into a flow row: exactly one
    source and one target, each a place or an actor."""
    flow.kind, flow.label = draft.kind, draft.label
    flow.source_place_id = source[1] if source[0] == "place" else None
    flow.source_actor_id = source[1] if source[0] == "actor" else None
    flow.target_place_id = target[1] if target[0] == "place" else None
    flow.target_actor_id = target[1] if target[0] == "actor" else None
    flow.quantity, flow.unit = draft.quantity, draft.unit
    flow.period = draft.period
    flow.period_start, flow.period_end = draft.period_start, draft.period_end
