"""Filling a node with the sample territory, through the node's own services (same rules,
same history, same federation log as if residents had done it), then dating everything back
over the last two years; then the territory's map and indicators, imported from files as a
facilitator would (see `knowledge.py`).

A node that already has residents' data is refused (NodeNotEmpty) unless forced; forced,
the sample is added beside that data, its handles suffixed where taken. A map, or indicators,
the node already has are kept, and the sample's are then not imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import CONFIG_FILE_NAME, InstanceConfig, load_config
from node.demo.chain import add_needs, add_proposals
from node.demo.clock import Backdater, Clock
from node.demo.community import add_circles, add_people, first_admin
from node.demo.context import Demo
from node.demo.data import SAMPLE
from node.demo.exchange import add_announcements, add_offers
from node.demo.experiments import add_experiments
from node.demo.knowledge import add_knowledge, give_boundary
from node.demo.model import Sample
from node.demo.report import DemoReport, breakdown
from node.demo.territory import DEFAULT_NAMES, rename_territory
from node.services.instance.profile import publish_profile_changes
from node.services.standalone import standalone_runtime
from node.storage.base import utcnow
from node.storage.models import Account, Decision, Experiment, Need, Offer, Proposal

Progress = Callable[[str], None]


class NodeNotEmpty(Exception):
    """The node already holds residents' data; the message says which."""


class NoAdmin(Exception):
    """The node has accounts but no admin to invite the sample residents."""


async def residents_data(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """What the node holds beyond its first admin: other accounts, needs, proposals, offers
    ("3 other accounts", "1 need"...); empty for a new node."""
    found = []
    async with sessions() as session:
        for model, singular, plural, beyond in (
            (Account, "other account", "other accounts", 1),
            (Need, "need", "needs", 0),
            (Proposal, "proposal", "proposals", 0),
            (Offer, "offer or request", "offers or requests", 0),
        ):
            count = int(await session.scalar(select(func.count()).select_from(model)) or 0)
            count -= beyond
            if count > 0:
                found.append(f"{count} {singular if count == 1 else plural}")
    return found


async def fill_demo(
    config: InstanceConfig,
    environ: Mapping[str, str],
    *,
    force: bool = False,
    progress: Progress = print,
    sample: Sample = SAMPLE,
) -> DemoReport:
    """Add the sample territory to the node of `config`; raises NodeNotEmpty when the node
    has residents' data and `force` is not given. Names the territory when it still has
    the default name, and gives it the sample's boundary when it has none and the sample's
    map was imported (its maillage.toml is rewritten, other lines kept)."""
    began = time.monotonic()
    async with standalone_runtime(config) as runtime:
        found = await residents_data(runtime.sessions)
    if found and not force:
        raise NodeNotEmpty(", ".join(found))
    renamed = False
    if config.territory.name in DEFAULT_NAMES:
        describe = not config.territory.description
        renamed = rename_territory(
            config.data_dir / CONFIG_FILE_NAME, sample.territory, describe=describe
        )
        config = load_config(config.data_dir, environ) if renamed else config
    async with standalone_runtime(config) as runtime:
        if renamed:
            await publish_profile_changes(runtime.sessions, config, runtime.keyring)
        admin = await first_admin(runtime.sessions)
        if admin is None:
            raise NoAdmin("the node has no admin account to invite the sample residents")
        now = utcnow()
        clock = Clock(now, config.territory.zone)
        demo = Demo(runtime, clock, Backdater(runtime.sessions, now), admin)
        await _fill(demo, sample, progress)
        counts = _counts(demo)
    boundary = give_boundary(config, sample.knowledge) if counts["places"] else None
    return DemoReport(
        territory=config.territory.name,
        base_url=config.node.base_url,
        renamed=renamed,
        boundary=boundary,
        counts=counts,
        seconds=time.monotonic() - began,
    )


async def _fill(demo: Demo, sample: Sample, progress: Progress) -> None:
    """Each kind of content in the order of the story, with a line once it is there."""
    await add_people(demo, sample.people)
    facilitators = sum(1 for p in sample.people if p.role == "facilitator")
    progress(f"Habitant·es : {len(sample.people)} (dont {facilitators} facilitateur·ices)")
    await add_circles(demo, sample.circles)
    members = demo.counts["circle members"]
    progress(f"Cercles : {len(sample.circles)} ({members} membres avec leur rôle)")
    await add_needs(demo, sample.needs)
    await add_proposals(demo, sample.proposals)
    progress(
        f"Besoins : {len(sample.needs)} ({await _breakdown(demo, 'need', Need)}) · "
        f"{demo.counts['supports']} soutiens · {demo.counts['comments']} commentaires"
    )
    progress(
        f"Décisions : {len(demo.created.get('decisions', []))} "
        f"({await _breakdown(demo, 'decision', Decision)}) · {demo.counts['votes']} votes"
    )
    await add_experiments(demo, sample.experiments, sample.seed)
    amendments = len(demo.created.get("amendments", []))
    progress(
        f"Propositions : {len(sample.proposals)} ({await _breakdown(demo, 'proposal', Proposal)})"
        f" · {amendments} amendements"
    )
    evaluations = len(demo.created.get("evaluations", []))
    progress(
        f"Expérimentations : {len(sample.experiments)} "
        f"({await _breakdown(demo, 'experiment', Experiment)}) · "
        f"{demo.counts['measurements']} mesures · {evaluations} "
        f"évaluation{'' if evaluations == 1 else 's'}"
    )
    await add_offers(demo, sample.offers)
    progress(
        f"Offres et demandes : {len(sample.offers)} ({await _breakdown(demo, 'offer', Offer)}) · "
        f"{demo.counts['replies']} réponses"
    )
    await add_announcements(demo, sample.announcements)
    progress(f"Annonces du territoire : {demo.counts['announcements']}")
    await add_knowledge(demo, sample.knowledge, progress)


async def _breakdown(demo: Demo, kind: str, model: Any) -> str:
    """How many of the objects of a kind the demo created are in each state, in words."""
    ids = demo.created.get(f"{kind}s", [])
    async with demo.runtime.sessions() as session:
        rows = await session.execute(
            select(model.state, func.count()).where(model.id.in_(ids)).group_by(model.state)
        )
        return breakdown(kind, {state: int(count) for state, count in rows})


def _counts(demo: Demo) -> dict[str, int]:
    created = {kind: len(ids) for kind, ids in demo.created.items()}
    return {
        "residents": created.get("people", 0),
        "circles": created.get("circles", 0),
        "needs": created.get("needs", 0),
        "proposals": created.get("proposals", 0),
        "amendments": created.get("amendments", 0),
        "decisions": created.get("decisions", 0),
        "experiments": created.get("experiments", 0),
        "evaluations": created.get("evaluations", 0),
        "offers": created.get("offers", 0),
        **{key: demo.counts[key] for key in _COUNTED},
    }


_COUNTED = (
    "circle members",
    "supports",
    "comments",
    "votes",
    "measurements",
    "milestones",
    "replies",
    "announcements",
    "places",
    "map actors",
    "flows",
    "indicators",
    "observations",
)
