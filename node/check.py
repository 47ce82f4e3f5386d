"""`maillage check`: every problem of a node in plain words, each with its fix."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.bootstrap import ensure_writable_folder
from node.domain.actors import ActorKind
from node.services.instance.setup import instance_username
from node.storage.actors import get_actor_of_kind
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.errors import DatabaseUnavailable, reporting_database_errors
from node.storage.keyring import KeyRing
from node.storage.migrate import schema_differences, schema_state


async def check_node(config: InstanceConfig) -> list[str]:
    """The node's problems (an empty list means it is ready to serve)."""
    data = config.data_dir
    problems: list[str] = []
    try:
        ensure_writable_folder(data)
    except OSError as exc:
        problems.append(f"cannot write to {data} ({exc.strerror}): give this user write access")
    engine = make_engine(config.database.url)
    try:
        async with reporting_database_errors(config.database.url):
            state = await schema_state(engine)
            if not state.is_current:
                return [
                    *problems,
                    f"the database schema is at {state.current or 'nothing'} but this "
                    f"version needs {state.head}: run `maillage db upgrade --data {data}`",
                ]
            if await schema_differences(engine):
                problems.append(
                    "the database schema differs from what this version expects: "
                    "restore a backup or ask the Maillage developers"
                )
            problems += await _actor_problems(config, make_sessionmaker(engine))
    except DatabaseUnavailable as exc:
        problems.append(str(exc))
    finally:
        await engine.dispose()
    return problems


async def _actor_problems(
    config: InstanceConfig, sessions: async_sessionmaker[AsyncSession]
) -> list[str]:
    """The instance and territory actors must exist, keep their names, and have usable keys."""
    data = config.data_dir
    problems: list[str] = []
    async with sessions() as session:
        instance = await get_actor_of_kind(session, ActorKind.INSTANCE)
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
    if instance is None or territory is None:
        return [f"the node's actors do not exist yet: run `maillage serve --data {data}` once"]
    if instance.username != instance_username(config):
        problems.append(
            f"node.base_url names host {instance_username(config)!r} but the node was created as "
            f"{instance.username!r}; everything already federated points there: put it back"
        )
    if territory.username != config.territory.handle:
        problems.append(
            f"territory.handle is {config.territory.handle!r} but the territory was created as "
            f"{territory.username!r}; followers know it by that name: set handle = "
            f'"{territory.username}"'
        )
    keyring = KeyRing()
    for actor in (instance, territory):
        try:
            keyring.keys_for(actor)
        except ValueError as exc:
            problems.append(
                f"the keys of {actor.username} cannot be loaded ({exc}): restore a backup"
            )
    return problems
