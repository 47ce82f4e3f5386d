"""The coordinator's digest: a public post from its actor, which Mastodon users can follow,
saying what the followed territories tried and learnt since the last one."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from node.convert.experiments import OUTCOME_LABELS
from node.convert.needs import THEMES
from node.services.coordination.statistics import all_entries
from node.services.federation.announcements import announce
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import CoordinationDigest, CoordinationEntry

#: new experiments named one by one in a digest
NAMED = 5


def _theme(theme: str) -> str:
    return THEMES.get(theme, theme) or "sans thème"


def digest_text(base_url: str, entries: list[CoordinationEntry], since: datetime | None) -> str:
    """The digest's text: counts since the last digest, the new experiments by name, themes,
    outcomes, and the link to the coordinator's pages (French, the network's language)."""
    new = [e for e in entries if since is None or e.published >= since]
    experiments = sorted(
        (e for e in new if e.kind == "experiment"), key=lambda e: (e.published, e.uri)
    )
    evaluations = [e for e in new if e.kind == "evaluation"]
    replications = [e for e in experiments if e.derived_from not in ("", "[]")]
    territories = {e.territory_uri for e in new}
    period = f"depuis le {since:%d/%m/%Y}" if since else "jusqu'ici"
    lines = [
        f"Réseau des territoires, {period} : {len(experiments)} nouvelles expérimentations "
        f"(dont {len(replications)} réplications) et {len(evaluations)} évaluations, "
        f"dans {len(territories)} territoires.",
    ]
    for experiment in experiments[:NAMED]:
        lines.append(
            f"• {experiment.title} ({experiment.territory_name}, {_theme(experiment.theme)})"
        )
    outcomes = sorted({e.outcome for e in evaluations if e.outcome})
    if outcomes:
        counted = ", ".join(
            f"{OUTCOME_LABELS.get(o, o)} : {sum(1 for e in evaluations if e.outcome == o)}"
            for o in outcomes
        )
        lines.append(f"Résultats des évaluations : {counted}.")
    lines.append(f"Chercher et comparer : {base_url}/coordination")
    lines.append(f"Statistiques par thème : {base_url}/coordination/statistics")
    return "\n".join(lines)


async def last_digest(runtime: Runtime) -> datetime | None:
    """When the previous digest was published, if ever."""
    async with runtime.sessions() as session:
        return await session.scalar(select(func.max(CoordinationDigest.published_at)))


async def publish_digest(runtime: Runtime, now: datetime | None = None) -> str:
    """Publish a digest now (`maillage coordinate digest`); returns its post's id."""
    now = now or utcnow()
    since = await last_digest(runtime)
    async with runtime.sessions() as session:
        entries = await all_entries(session)
    note = await announce(runtime, digest_text(runtime.config.node.base_url, entries, since))
    async with runtime.sessions.begin() as session:
        session.add(CoordinationDigest(note_uri=note.uri, since=since, published_at=now))
    return note.uri


async def publish_digest_when_due(runtime: Runtime) -> str | None:
    """The scheduled digest: every `coordination.digest_days` days (0: never by itself), and
    only when something new was indexed since the last one."""
    days = runtime.config.coordination.digest_days
    if days <= 0:
        return None
    last = await last_digest(runtime)
    if last is not None and utcnow() - last < timedelta(days=days):
        return None
    async with runtime.sessions() as session:
        newer = (
            select(CoordinationEntry.id).where(CoordinationEntry.published >= last)
            if last
            else select(CoordinationEntry.id)
        )
        if await session.scalar(newer.limit(1)) is None:
            return None  # nothing new to tell: no empty digest
    return await publish_digest(runtime)
