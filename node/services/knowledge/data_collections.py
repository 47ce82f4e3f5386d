"""The territory actor's data collections (places, map actors, flows, indicators,
observations): one registry, read by the collection route of `node/web/routes/actors.py`.

These collections hold data objects for peers, coordinators and map UIs (vocabulary.md
sections 5.7-5.11). They are read by pulling pages; nothing of them is pushed to followers.

To serve a new collection, two steps (the collection route accepts every name registered here,
for the territory actor only; other actors answer 404):
1. write an async function `(sessions, config, page) -> (total, items)`: `page` is None when
   only the collection's size is asked (items are then ignored), else the 1-based page number;
   `items` are the wire documents of that page without their `@context`, at most `PAGE_SIZE`
   of them (node/services/pages/timeline.py), oldest first so that pages stay stable;
2. add one line to `DATA_COLLECTIONS` below, keyed by the path under the actor that
   `TERRITORY_DATA_COLLECTIONS` (node/convert/actors.py) advertises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.services.knowledge.indicators.exports import indicator_collection, observation_collection
from node.services.knowledge.map.documents import flows_page, map_actors_page, places_page

#: (sessions, config, page or None) -> (total number of items, the page's documents)
DataPage = Callable[
    [async_sessionmaker[AsyncSession], InstanceConfig, int | None],
    Awaitable[tuple[int, list[dict[str, Any]]]],
]

#: collection name (path under /actors/<territory>/) -> the function that reads it
DATA_COLLECTIONS: dict[str, DataPage] = {
    # the map (node/services/knowledge/map/documents.py)
    "places": places_page,
    "map-actors": map_actors_page,
    "flows": flows_page,
    # indicators and observations (node/services/knowledge/indicators/exports.py)
    "indicators": indicator_collection,
    "observations": observation_collection,
}


def data_collection(name: str) -> DataPage | None:
    """The reader of one of the territory's data collections, or None for other names."""
    return DATA_COLLECTIONS.get(name)
