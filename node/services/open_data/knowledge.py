"""Open data of the territory's knowledge: the map (actors, places, flows) and the indicators
with their observations.

Nothing is exported twice: the CSV and GeoJSON files are the map's and the dashboard's own
exports (node/services/knowledge/map/exports.py, node/services/knowledge/indicators/exports.py,
which the imports read back), and the JSON-LD items are the documents the territory actor's
collections publish
(node/convert/mesh.py, node/convert/indicators.py).
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import select

from instance_config import InstanceConfig
from node.convert.indicators import indicator_to_as, observation_to_as
from node.convert.mesh import flow_to_as, map_actor_to_as, place_to_as
from node.services.knowledge.indicators.catalogue import seed_default_catalogue
from node.services.knowledge.indicators.exports import indicators_csv, observations_csv
from node.services.knowledge.indicators.imports import INDICATOR_COLUMNS, OBSERVATION_COLUMNS
from node.services.knowledge.map.exports import (
    ACTOR_COLUMNS,
    FLOW_COLUMNS,
    PLACE_COLUMNS,
    actors_csv,
    actors_geojson,
    flows_csv,
    flows_geojson,
    places_csv,
    places_geojson,
)
from node.services.knowledge.map.rows import endpoints_of
from node.services.open_data.datasets import Dataset, Sessions, Stamp, table_stamp
from node.services.open_data.formats import Column
from node.services.open_data.participation import uris_by_id
from node.storage.models import Flow, Indicator, MapActor, Observation, Place

#: What each column of the indicators' exports holds (their names are the import's).
INDICATOR_DESCRIPTIONS = {
    "slug": "Nom court de l'indicateur : identifiant stable, dans son adresse.",
    "name": "Nom de l'indicateur.",
    "unit": "Unité de mesure.",
    "direction": "Sens où c'est mieux : increase (hausse) ou decrease (baisse).",
    "theme": "Thème, en code.",
    "source": "Source des données.",
    "method": "Méthode de mesure ou de calcul.",
    "baseline": "Valeur de départ.",
    "target": "Valeur cible.",
}
OBSERVATION_DESCRIPTIONS = {
    "indicator": "Nom court de l'indicateur observé (colonne slug du jeu « indicators »).",
    "date": "Date de l'observation (AAAA-MM-JJ).",
    "value": "Valeur observée.",
    "note": "Remarque publiée avec la valeur.",
}
#: Said of a column the exports gained before this page learnt about it.
UNDOCUMENTED = "Colonne de l'export du tableau de bord."


def _documented(groups: tuple[tuple[str, ...], ...], texts: dict[str, str]) -> tuple[Column, ...]:
    """The columns of an indicators export, in its order, with what each holds."""
    return tuple(Column(name, texts.get(name, UNDOCUMENTED)) for name in chain(*groups))


async def _places(sessions: Sessions, config: InstanceConfig) -> str:
    return await places_csv(sessions)


async def _actors(sessions: Sessions, config: InstanceConfig) -> str:
    return await actors_csv(sessions)


async def _flows(sessions: Sessions, config: InstanceConfig) -> str:
    return await flows_csv(sessions)


async def _places_geojson(sessions: Sessions, config: InstanceConfig) -> str:
    return await places_geojson(sessions)


async def _actors_geojson(sessions: Sessions, config: InstanceConfig) -> str:
    return await actors_geojson(sessions)


async def _flows_geojson(sessions: Sessions, config: InstanceConfig) -> str:
    return await flows_geojson(sessions)


async def _observations(sessions: Sessions, config: InstanceConfig) -> str:
    return await observations_csv(sessions)


async def place_items(sessions: Sessions, config: InstanceConfig) -> list[dict[str, Any]]:
    """Every place as its `Place` document, by name (as the CSV)."""
    async with sessions() as session:
        places = await session.scalars(select(Place).order_by(Place.name, Place.id))
        return [place_to_as(config, place) for place in places]


async def map_actor_items(sessions: Sessions, config: InstanceConfig) -> list[dict[str, Any]]:
    """Every map actor as its `Profile` document, by name, its place by id."""
    async with sessions() as session:
        actors = list(await session.scalars(select(MapActor).order_by(MapActor.name, MapActor.id)))
        places = await uris_by_id(session, Place)
    return [map_actor_to_as(config, actor, places.get(actor.place_id or "")) for actor in actors]


async def flow_items(sessions: Sessions, config: InstanceConfig) -> list[dict[str, Any]]:
    """Every flow as its `Relationship` document, between its endpoints' ids."""
    async with sessions() as session:
        flows = list(await session.scalars(select(Flow).order_by(Flow.kind, Flow.label, Flow.id)))
        uris = {
            "place": await uris_by_id(session, Place),
            "actor": await uris_by_id(session, MapActor),
        }
    items = []
    for flow in flows:
        (source_kind, source), (target_kind, target) = endpoints_of(flow)
        items.append(flow_to_as(config, flow, uris[source_kind][source], uris[target_kind][target]))
    return items


async def indicator_items(sessions: Sessions, config: InstanceConfig) -> list[dict[str, Any]]:
    """The catalogue (the default one on first use) as `Document` definitions, by slug."""
    await seed_default_catalogue(sessions, config)
    async with sessions() as session:
        indicators = await session.scalars(select(Indicator).order_by(Indicator.slug))
        return [indicator_to_as(config, indicator, context=False) for indicator in indicators]


async def observation_items(sessions: Sessions, config: InstanceConfig) -> list[dict[str, Any]]:
    """Every observation as a schema.org `Observation`, by indicator then date."""
    async with sessions() as session:
        rows = await session.execute(
            select(Indicator, Observation)
            .join(Observation, Observation.indicator_id == Indicator.id)
            .order_by(Indicator.slug, Observation.observed_on)
        )
        return [observation_to_as(config, i, o, context=False) for i, o in rows]


_indicator_table = table_stamp(Indicator, Indicator.created_at)


async def indicator_stamp(sessions: Sessions, config: InstanceConfig) -> Stamp:
    """The catalogue's size and last addition, once the default catalogue is seeded (as the
    export and the dashboard do on first use)."""
    await seed_default_catalogue(sessions, config)
    return await _indicator_table(sessions, config)


KNOWLEDGE: tuple[Dataset, ...] = (
    Dataset(
        "map-actors",
        "Acteurs du territoire",
        "Collectifs, entreprises, associations, collectivités, acteurs agricoles et naturels.",
        ACTOR_COLUMNS,
        table_stamp(MapActor, MapActor.updated_at),
        _actors,
        map_actor_items,
        _actors_geojson,
    ),
    Dataset(
        "places",
        "Lieux",
        "Lieux de la carte, par type, avec leurs coordonnées ou leur contour (GeoJSON).",
        PLACE_COLUMNS,
        table_stamp(Place, Place.updated_at),
        _places,
        place_items,
        _places_geojson,
    ),
    Dataset(
        "flows",
        "Flux",
        "Flux de ressources, d'information et de personnes : quantité, unité, période.",
        FLOW_COLUMNS,
        table_stamp(Flow, Flow.created_at),
        _flows,
        flow_items,
        _flows_geojson,
    ),
    Dataset(
        "indicators",
        "Indicateurs du territoire",
        "Indicateurs au-delà du PIB : unité, sens souhaité, source, méthode, départ et cible.",
        _documented(INDICATOR_COLUMNS, INDICATOR_DESCRIPTIONS),
        indicator_stamp,
        indicators_csv,
        indicator_items,
    ),
    Dataset(
        "observations",
        "Observations des indicateurs",
        "Valeurs des indicateurs du territoire au fil du temps.",
        _documented(OBSERVATION_COLUMNS, OBSERVATION_DESCRIPTIONS),
        table_stamp(Observation, Observation.created_at),
        _observations,
        observation_items,
    ),
)
