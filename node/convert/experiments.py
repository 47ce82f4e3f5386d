"""Experiments and their evaluations to and from ActivityStreams (vocabulary.md 5.6, 5.7).

An experiment is an `Article` with `additionalType: tc:Experiment` (hypothesis, dates,
lifecycle state, progress, indicators as `IndicatorTarget`s, its `replications` collection,
and `wasDerivedFrom` + `adaptations` when it replicates another territory's); its evaluation
is another `Article` (`tc:Evaluation`) that `evaluates` it. Received documents are hostile:
`experiment_from_as` keeps only well-formed values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from instance_config import InstanceConfig
from node.convert.fediverse_html import period, readable_content, words
from node.convert.objects import maillage_object
from node.convert.status_words import count_in, label_in, status_words
from node.storage.models import Evaluation, Experiment, ExperimentIndicator, Measurement
from protocols.activitystreams import id_of, ids_of, origin_of
from protocols.html import html_to_text, text_to_html
from protocols.jsonld.project_context import document_context

OUTCOMES = ("success", "partial", "failure", "inconclusive")
RECOMMENDATIONS = ("generalise", "adapt", "stop")
DIRECTIONS = ("increase", "decrease")

#: French labels (the English ones are in locales/en/experiments.json).
STATE_LABELS = {
    "proposed": "proposée",
    "running": "en cours",
    "paused": "en pause",
    "evaluating": "en évaluation",
    "concluded": "terminée",
}
OUTCOME_LABELS = {
    "success": "succès",
    "partial": "partiel",
    "failure": "échec",
    "inconclusive": "non concluant",
}
OUTCOME_PLURALS = {
    "success": "succès",
    "partial": "partiels",
    "failure": "échecs",
    "inconclusive": "non concluants",
}
RECOMMENDATION_LABELS = {"generalise": "généraliser", "adapt": "adapter", "stop": "arrêter"}
DIRECTION_LABELS = {"increase": "à la hausse", "decrease": "à la baisse"}
#: what a facilitator may ask for, by target state (concluded comes with the evaluation)
STATE_ACTIONS = {
    "running": "Démarrer ou reprendre",
    "paused": "Mettre en pause",
    "evaluating": "Passer en évaluation",
}
#: Every label the pages show, by kind (the templates translate them with `_()`).
PAGE_LABELS = {
    "states": STATE_LABELS,
    "outcomes": OUTCOME_LABELS,
    "outcome_plurals": OUTCOME_PLURALS,
    "recommendations": RECOMMENDATION_LABELS,
    "directions": DIRECTION_LABELS,
    "actions": STATE_ACTIONS,
}

#: The most indicators read from a received experiment (what a page can reasonably show).
MAX_REMOTE_INDICATORS = 20


def experiment_url(config: InstanceConfig, experiment_id: str) -> str:
    """The id (and page) of a local experiment."""
    return f"{config.node.base_url}/experiments/{experiment_id}"


def evaluation_url(config: InstanceConfig, evaluation_id: str) -> str:
    """The id (and page) of a local evaluation."""
    return f"{config.node.base_url}/evaluations/{evaluation_id}"


def replications_url(experiment_uri: str) -> str:
    """The collection of the experiments other territories derived from this one."""
    return f"{experiment_uri}/replications"


def status_line(state: str, indicator_count: int, language: str = "fr") -> str:
    """The status line, the `summary` Mastodon shows under the title.

    >>> status_line("running", 3)
    'Expérimentation · en cours · 3 indicateurs'
    >>> status_line("proposed", 1), status_line("paused", 0)
    ('Expérimentation · proposée · 1 indicateur', 'Expérimentation · en pause · aucun indicateur')
    """
    said = status_words(language)
    if indicator_count == 0:
        count = said["no_indicator"]
    else:
        count = count_in(language, indicator_count, said["indicator"], said["indicators"])
    return f"{said['experiment']} · {label_in(language, STATE_LABELS.get(state, state))} · {count}"


def evaluation_status_line(outcome: str, recommendation: str, language: str = "fr") -> str:
    """The summary of an evaluation.

    >>> evaluation_status_line("success", "generalise")
    'Évaluation · succès · recommandation : généraliser'
    """
    said = status_words(language)
    advice = label_in(language, RECOMMENDATION_LABELS.get(recommendation, recommendation))
    return " · ".join(
        (
            said["evaluation"],
            label_in(language, OUTCOME_LABELS.get(outcome, outcome)),
            said["recommendation"].format(value=advice),
        )
    )


def _moment(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _shown(value: float) -> str:
    """A number as written in French: 14, 16,5."""
    return str(int(value)) if value == int(value) else f"{value:g}".replace(".", ",")


def indicator_fact(indicator: ExperimentIndicator, latest: Measurement | None) -> str:
    """What the content says of one indicator, after its name: "de 12 à 30 passagers (à la
    hausse), dernière mesure 18".

    >>> indicator_fact(ExperimentIndicator(name="Passagers", unit="p.", baseline=12.0,
    ...     target=30.5, direction="increase"), None)
    'de 12 à 30,5 p. (à la hausse)'
    """
    unit = f" {indicator.unit}" if indicator.unit else ""
    direction = DIRECTION_LABELS.get(indicator.direction, indicator.direction)
    line = f"de {_shown(indicator.baseline)} à {_shown(indicator.target)}{unit} ({direction})"
    if latest is not None:
        line += f", dernière mesure {_shown(latest.value)}"
    return line


def indicator_target(
    indicator: ExperimentIndicator, latest: Measurement | None, starts_on: date | None
) -> dict[str, Any]:
    """One indicator as an IndicatorTarget: baseline, target, direction, latest value."""
    baseline: dict[str, Any] = {
        "type": "Observation",
        "value": indicator.baseline,
        "unitText": indicator.unit,
    }
    if starts_on is not None:
        baseline["observationDate"] = starts_on.isoformat()
    target: dict[str, Any] = {
        "type": "IndicatorTarget",
        "name": indicator.name,
        "baseline": baseline,
        "targetValue": {
            "type": "QuantitativeValue",
            "value": indicator.target,
            "unitText": indicator.unit,
        },
        "direction": indicator.direction,
    }
    if latest is not None:
        target["latest"] = {
            "type": "Observation",
            "value": latest.value,
            "observationDate": latest.measured_on.isoformat(),
            "unitText": indicator.unit,
        }
    return target


def experiment_to_as(
    config: InstanceConfig,
    experiment: Experiment,
    indicators: Sequence[tuple[ExperimentIndicator, Measurement | None]],
    *,
    proposal_uri: str | None = None,
    evaluation_uri: str | None = None,
    addressed_to: Sequence[str] = (),
) -> dict[str, Any]:
    """The Article served at the experiment's id and sent in its Create and Updates: its
    hypothesis, dates, indicators and origin are also in `content`."""
    language = config.territory.default_language
    extra: dict[str, Any] = {
        "hypothesis": {language: experiment.hypothesis},
        "lifecycleState": experiment.state,
        "progress": experiment.progress,
        "indicators": [
            indicator_target(indicator, latest, experiment.starts_on)
            for indicator, latest in indicators
        ],
        "replications": replications_url(experiment.uri),
    }
    if experiment.theme:  # what coordinators group their statistics by
        extra["theme"] = experiment.theme
    if experiment.starts_on is not None:
        extra["startTime"] = _moment(experiment.starts_on)
    if experiment.ends_on is not None:
        extra["endTime"] = _moment(experiment.ends_on)
    if proposal_uri:
        extra["originProposals"] = [proposal_uri]
    if experiment.derived_from:
        extra["wasDerivedFrom"] = experiment.derived_from
        extra["adaptations"] = experiment.adaptations
    if evaluation_uri:
        extra["evaluation"] = evaluation_uri
    chosen = words(language)
    facts = [(chosen["dates"], period(experiment.starts_on, experiment.ends_on, language))]
    facts += [(i.name, indicator_fact(i, latest)) for i, latest in indicators]
    if experiment.derived_from:
        facts += [
            (chosen["replicates"], experiment.derived_from),
            (chosen["adaptations"], " ".join(experiment.adaptations.split())),
        ]
    status = status_line(experiment.state, len(indicators), language)
    content = readable_content(
        title=experiment.title,
        status=status,
        body=text_to_html(experiment.hypothesis),
        url=experiment.uri,
        language=language,
        facts=facts,
    )
    return maillage_object(
        config,
        as_type="Article",
        additional_type="tc:Experiment",
        uri=experiment.uri,
        name=experiment.title,
        status_line=status,
        content=content,
        published=experiment.created_at,
        updated=experiment.updated_at,
        extra=extra,
        addressed_to=list(addressed_to),
    )


def evaluation_to_as(
    config: InstanceConfig,
    evaluation: Evaluation,
    experiment: Experiment,
    addressed_to: Sequence[str] = (),
) -> dict[str, Any]:
    """The Article of an evaluation: what it evaluates, outcome, recommendation, lessons."""
    language = config.territory.default_language
    lessons = [line.strip() for line in evaluation.lessons.splitlines() if line.strip()]
    name = f"{status_words(language)['evaluation']}{words(language)['separator']}{experiment.title}"
    status = evaluation_status_line(evaluation.outcome, evaluation.recommendation, language)
    content = readable_content(
        title=name,
        status=status,
        body=text_to_html(evaluation.lessons),
        url=evaluation.uri,
        language=language,
        facts=[(words(language)["evaluates"], experiment.uri)],
    )
    return maillage_object(
        config,
        as_type="Article",
        additional_type="tc:Evaluation",
        uri=evaluation.uri,
        name=name,
        status_line=status,
        content=content,
        published=evaluation.published_at,
        extra={
            "evaluates": experiment.uri,
            "outcome": evaluation.outcome,
            "recommendation": evaluation.recommendation,
            "lessons": lessons,
        },
        addressed_to=list(addressed_to),
    )


def replications_collection(url: str, replica_uris: Sequence[str]) -> dict[str, Any]:
    """The replications collection: every replica's id, oldest first (it stays small)."""
    return {
        "@context": document_context(),
        "id": url,
        "type": "OrderedCollection",
        "totalItems": len(replica_uris),
        "orderedItems": list(replica_uris),
    }


@dataclass(frozen=True, slots=True)
class IndicatorCopy:
    """An indicator read from another territory's experiment, to start a replica with."""

    name: str
    unit: str
    baseline: float
    target: float
    direction: str


@dataclass(frozen=True, slots=True)
class RemoteExperiment:
    """What a replica takes from another territory's experiment."""

    uri: str
    name: str
    hypothesis: str
    theme: str
    indicators: tuple[IndicatorCopy, ...]
    derived_from: tuple[str, ...]
    evaluation: str | None


def _language_text(value: Any, language: str) -> str:
    """A plain string, or the best entry of a language map ({"fr": "..."})."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in (language, *sorted(value)):
            if isinstance(value.get(key), str):
                return str(value[key])
    return ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _value_of(node: Any) -> tuple[float | None, str]:
    """The value and unit of an Observation or QuantitativeValue."""
    if not isinstance(node, dict):
        return _number(node), ""
    unit = node.get("unitText")
    return _number(node.get("value")), unit if isinstance(unit, str) else ""


def indicator_from_as(node: Any) -> IndicatorCopy | None:
    """An IndicatorTarget of a received experiment, or None when malformed."""
    if not isinstance(node, dict) or node.get("direction") not in DIRECTIONS:
        return None
    baseline, unit = _value_of(node.get("baseline"))
    target, target_unit = _value_of(node.get("targetValue"))
    name = html_to_text(node["name"]).strip() if isinstance(node.get("name"), str) else ""
    if baseline is None or target is None or not name:
        return None
    return IndicatorCopy(
        name=name[:200],
        unit=html_to_text(unit or target_unit).strip()[:64],
        baseline=baseline,
        target=target,
        direction=str(node["direction"]),
    )


def experiment_from_as(document: dict[str, Any], language: str = "fr") -> RemoteExperiment:
    """The parts of another territory's experiment a replica starts from (text made plain)."""
    raw_indicators = document.get("indicators")
    indicators = (
        [c for n in raw_indicators if (c := indicator_from_as(n)) is not None]
        if isinstance(raw_indicators, list)
        else []
    )
    name = _language_text(document.get("name"), language) or _language_text(
        document.get("nameMap"), language
    )
    theme = document.get("theme")
    return RemoteExperiment(
        uri=str(document.get("id", "")),
        name=html_to_text(name).strip()[:200],
        hypothesis=html_to_text(_language_text(document.get("hypothesis"), language)).strip(),
        theme=html_to_text(theme).strip()[:64] if isinstance(theme, str) else "",
        indicators=tuple(indicators[:MAX_REMOTE_INDICATORS]),
        derived_from=tuple(ids_of(document.get("wasDerivedFrom"))),
        evaluation=id_of(document.get("evaluation")),
    )


def evaluation_from_as(document: dict[str, Any]) -> tuple[str, str] | None:
    """(evaluated experiment, outcome) of a received evaluation, or None when malformed."""
    evaluated = id_of(document.get("evaluates"))
    outcome = document.get("outcome")
    if evaluated is None or outcome not in OUTCOMES:
        return None
    return evaluated, str(outcome)


@dataclass(frozen=True, slots=True)
class IndicatorChange:
    """Where an indicator of a received experiment went: from its baseline to its latest
    value (None before the first measurement), against its target."""

    name: str
    unit: str
    baseline: float
    latest: float | None
    target: float
    direction: str

    @property
    def reached(self) -> bool | None:
        """Whether the latest value meets the target (None before any measurement)."""
        if self.latest is None:
            return None
        if self.direction == "decrease":
            return self.latest <= self.target
        return self.latest >= self.target


def indicator_changes_from_as(document: dict[str, Any]) -> list[IndicatorChange]:
    """Each well-formed indicator of a received experiment, baseline -> latest.

    >>> doc = {"indicators": [{"name": "Trajets", "direction": "increase",
    ...     "baseline": {"value": 0, "unitText": "trajets"}, "targetValue": {"value": 40},
    ...     "latest": {"value": 52}}, {"name": "x"}]}
    >>> [(c.name, c.unit, c.baseline, c.latest, c.reached) for c in indicator_changes_from_as(doc)]
    [('Trajets', 'trajets', 0.0, 52.0, True)]
    """
    raw = document.get("indicators")
    changes = []
    for node in raw[:MAX_REMOTE_INDICATORS] if isinstance(raw, list) else []:
        copy = indicator_from_as(node)
        if copy is None:
            continue
        latest, _ = _value_of(node.get("latest"))
        changes.append(
            IndicatorChange(
                copy.name, copy.unit, copy.baseline, latest, copy.target, copy.direction
            )
        )
    return changes


@dataclass(frozen=True, slots=True)
class ReceivedEvaluation:
    """The evaluation of another territory's experiment, as received."""

    uri: str
    #: the experiment it evaluates
    evaluates: str
    outcome: str
    #: generalise, adapt or stop; "" when the document gives none we know
    recommendation: str


def received_evaluation_from_as(document: dict[str, Any]) -> ReceivedEvaluation | None:
    """A received evaluation of an experiment on the evaluation's own server, or None.

    >>> received_evaluation_from_as({"id": "https://a.example/evaluations/1",
    ...     "evaluates": "https://a.example/experiments/1", "outcome": "success",
    ...     "recommendation": "generalise"}).recommendation
    'generalise'
    >>> received_evaluation_from_as({"id": "https://a.example/evaluations/1",
    ...     "evaluates": "https://b.example/experiments/1", "outcome": "success"}) is None
    True
    """
    parsed = evaluation_from_as(document)
    uri = id_of(document)
    if parsed is None or uri is None or origin_of(parsed[0]) != origin_of(uri):
        return None
    recommendation = document.get("recommendation")
    return ReceivedEvaluation(
        uri=uri,
        evaluates=parsed[0],
        outcome=parsed[1],
        recommendation=str(recommendation) if recommendation in RECOMMENDATIONS else "",
    )
