"""The sample's territorial knowledge: the commune's map (places, areas, actors, flows) and its
indicators (the catalogue and two years of monthly observations), imported by facilitators
from the files in `territory_data/` through the same services as the import pages, and its
boundary given to maillage.toml when the node has none.

Unlike the rest of the sample, nothing here is moved back in time: the files are imported at
the moment the demo runs, as a facilitator loading spreadsheets would, and the observations
carry their own dates (2024-11-30 to 2026-10-31).

A node that already has a map keeps it (the sample's would collide with it or blur it), and
one that already has its own observations or indicator definitions keeps them: that part of
the sample is skipped with a line saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import CONFIG_FILE_NAME, InstanceConfig
from node.demo.context import Demo, SampleInconsistent
from node.demo.model import KnowledgeSample
from node.demo.territory import set_boundary
from node.domain.indicators import DEFAULT_CATALOGUE
from node.services.knowledge.indicators.catalogue import seed_default_catalogue, territory_today
from node.services.knowledge.indicators.imports import (
    ImportReport,
    import_indicators,
    import_observations,
)
from node.services.knowledge.map.imports import Upload, import_mesh
from node.storage.models import Flow, Indicator, MapActor, Observation, Place

#: The map's files, in the order the import page takes them.
MAP_FILES = (
    ("places", "places.csv"),
    ("geojson", "places.geojson"),
    ("actors", "actors.csv"),
    ("flows", "flows.csv"),
)
BOUNDARY_FILE = "boundary.geojson"


def sample_file(sample: KnowledgeSample, name: str) -> bytes:
    """One file of the sample's folder (part of the installed package)."""
    return resources.files("node.demo").joinpath(sample.folder, name).read_bytes()


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def map_data(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    """How many places, actors and flows the node's map already has."""
    async with sessions() as session:
        return (
            await _count(session, Place),
            await _count(session, MapActor),
            await _count(session, Flow),
        )


async def own_indicators(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """How many observations the node has, and how many indicator definitions it made its
    own (a slug outside the default catalogue, or a baseline or a target set)."""
    defaults = [definition.slug for definition in DEFAULT_CATALOGUE]
    async with sessions() as session:
        observations = await _count(session, Observation)
        definitions = await session.scalar(
            select(func.count())
            .select_from(Indicator)
            .where(
                or_(
                    Indicator.slug.not_in(defaults),
                    Indicator.baseline.is_not(None),
                    Indicator.target.is_not(None),
                )
            )
        )
    return observations, int(definitions or 0)


async def add_map(demo: Demo, sample: KnowledgeSample) -> str:
    """Import the map (places, areas, actors, flows) unless the node has one; the line
    saying what was done."""
    runtime = demo.runtime
    places, actors, flows = await map_data(runtime.sessions)
    if places or actors or flows:
        return (
            f"Carte : le nœud en a déjà une ({places} lieux, {actors} acteurs, {flows} flux), "
            "gardée telle quelle ; celle de l'exemple n'est pas importée"
        )
    uploads = [Upload(role, name, sample_file(sample, name)) for role, name in MAP_FILES]
    report = await import_mesh(
        runtime.sessions, runtime.config, demo.accounts[sample.map_by], uploads
    )
    if not report.stored:
        reasons = "; ".join(
            f"{r.file} {r.unit} {r.row} {r.field}: {r.reason}" for r in report.rejections[:5]
        )
        raise SampleInconsistent(f"the sample map was refused ({report.rejected}): {reasons}")
    demo.counts["places"] += report.places
    demo.counts["map actors"] += report.actors
    demo.counts["flows"] += report.flows
    return f"Carte : {report.places} lieux, {report.actors} acteurs, {report.flows} flux"


def _refused(report: ImportReport, name: str) -> SampleInconsistent:
    reasons = "; ".join(f"row {p.row} {p.column} {p.value!r}: {p.reason}" for p in report.problems)
    return SampleInconsistent(f"the sample's {name} was refused: {reasons[:1000]}")


async def add_indicators(demo: Demo, sample: KnowledgeSample) -> str:
    """Import the indicators' definitions, then their observations, unless the node has its
    own; the line saying what was done."""
    runtime = demo.runtime
    await seed_default_catalogue(runtime.sessions, runtime.config)
    observations, definitions = await own_indicators(runtime.sessions)
    if observations or definitions:
        return (
            f"Indicateurs : le nœud a déjà les siens ({observations} observations, "
            f"{definitions} définitions), gardés tels quels ; "
            "ceux de l'exemple ne sont pas importés"
        )
    facilitator = demo.accounts[sample.indicators_by]
    sessions, config = runtime.sessions, runtime.config
    name = "indicators.csv"
    defined = await import_indicators(sessions, config, facilitator, sample_file(sample, name))
    if not defined.ok:
        raise _refused(defined, name)
    name = "observations.csv"
    observed = await import_observations(
        sessions, config, facilitator, sample_file(sample, name), territory_today(config)
    )
    if not observed.ok:
        raise _refused(observed, name)
    demo.counts["indicators"] += defined.rows
    demo.counts["observations"] += observed.created
    return f"Indicateurs : {defined.rows}, {observed.created} observations"


async def add_knowledge(
    demo: Demo, sample: KnowledgeSample, progress: Callable[[str], None]
) -> None:
    """The map, then the indicators, each with its line."""
    progress(await add_map(demo, sample))
    progress(await add_indicators(demo, sample))


def give_boundary(config: InstanceConfig, sample: KnowledgeSample) -> Path | None:
    """Copy the sample's boundary into the node's data folder and name it in maillage.toml,
    when the node has no boundary; the copied file, or None when nothing was done (a
    boundary already set, or another file already under that name, left untouched)."""
    if config.territory.boundary is not None:
        return None
    data = sample_file(sample, BOUNDARY_FILE)
    target = config.data_dir / BOUNDARY_FILE
    if target.exists() and target.read_bytes() != data:
        return None
    copied = not target.exists()
    if copied:
        target.write_bytes(data)
    if set_boundary(config.data_dir / CONFIG_FILE_NAME, BOUNDARY_FILE):
        return target
    if copied:
        target.unlink()
    return None
