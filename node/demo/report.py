"""What the demo says: a progress line per kind of content (French, like the sample), and
the closing summary for the command line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from instance_config import CONFIG_FILE_NAME

#: (singular, plural) of each state, as the progress lines say them
STATE_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "need": {
        "submitted": ("à trier", "à trier"),
        "in_circle": ("confié à un cercle", "confiés à un cercle"),
        "in_proposal": ("repris dans une proposition", "repris dans une proposition"),
        "answered": ("répondu", "répondus"),
        "merged": ("fusionné", "fusionnés"),
    },
    "proposal": {
        "draft": ("brouillon", "brouillons"),
        "in_deliberation": ("en délibération", "en délibération"),
        "adopted": ("adoptée", "adoptées"),
        "not_adopted": ("non adoptée", "non adoptées"),
        "in_project": ("en projet", "en projet"),
        "implemented": ("mise en œuvre", "mises en œuvre"),
        "evaluated": ("évaluée", "évaluées"),
        "withdrawn": ("retirée", "retirées"),
    },
    "decision": {
        "scheduled": ("programmée", "programmées"),
        "open": ("ouverte", "ouvertes"),
        "closed": ("close", "closes"),
    },
    "experiment": {
        "proposed": ("proposée", "proposées"),
        "running": ("en cours", "en cours"),
        "paused": ("en pause", "en pause"),
        "evaluating": ("en évaluation", "en évaluation"),
        "concluded": ("terminée", "terminées"),
    },
    "offer": {
        "open": ("ouverte", "ouvertes"),
        "taken": ("pourvue", "pourvues"),
        "closed": ("fermée", "fermées"),
    },
}


def breakdown(kind: str, states: Mapping[str, int]) -> str:
    """ "3 à trier, 1 répondu": the count of each state, in the lifecycle's order."""
    words = STATE_WORDS[kind]
    order = list(words) + sorted(set(states) - set(words))
    parts = []
    for state in order:
        count = states.get(state, 0)
        if count:
            singular, plural = words.get(state, (state, state))
            parts.append(f"{count} {singular if count == 1 else plural}")
    return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What the demo created, for the closing summary."""

    territory: str
    base_url: str
    #: whether the node got the sample's name and description
    renamed: bool
    #: the boundary file the node got (copied into its folder, named in maillage.toml)
    boundary: Path | None
    #: residents, circles, needs, proposals, decisions, experiments, measurements, offers,
    #: places, map actors, flows, indicators, observations...
    counts: Mapping[str, int]
    seconds: float


def _knowledge(report: DemoReport) -> str:
    """Where the map and the indicators are, with what the demo added to them."""
    c, base = report.counts, report.base_url
    on_map = (
        f"{c['places']} places, {c['map actors']} actors and {c['flows']} flows"
        if c["places"]
        else "the node's own map, kept as it was"
    )
    indicators = (
        f"{c['indicators']} indicators, {c['observations']} observations"
        if c["indicators"]
        else "the node's own indicators, kept as they were"
    )
    return f"Map: {base}/map ({on_map}); indicators: {base}/indicators ({indicators})."


def describe_demo(report: DemoReport, data: Path, node_created: bool) -> list[str]:
    """The closing summary: counts, how to start and open the node, and how to log in."""
    c = report.counts
    lines = [
        f"Sample territory ready in {report.seconds:.1f} s: {report.territory}, with "
        f"{c['residents']} residents, {c['circles']} circles, {c['needs']} needs, "
        f"{c['proposals']} proposals, {c['decisions']} decisions, {c['experiments']} "
        f"experiments ({c['measurements']} measurements), {c['offers']} offers and requests, "
        f"{c['announcements']} announcements.",
    ]
    lines.append(_knowledge(report))
    if report.renamed:
        lines.append(f"The territory is now named {report.territory} in {data / CONFIG_FILE_NAME}.")
    if report.boundary is not None:
        lines.append(
            f"The territory's boundary is now {report.boundary}, set in {data / CONFIG_FILE_NAME}."
        )
    lines.append(f"Start it with `maillage serve --data {data}` and open {report.base_url}/")
    if node_created:
        lines.append("Log in as admin with the one-time password printed above.")
    else:
        lines.append("Log in with the node's admin account.")
    lines.append(
        "The sample residents' passwords are random and not shown: to act as one of them, "
        "issue them a password-reset link from the members page (/members)."
    )
    return lines
