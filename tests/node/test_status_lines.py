"""Generated status lines (the `summary` other servers show under a title) speak the
territory's language: French by default, English on an English territory."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from node.convert.experiments import evaluation_to_as, experiment_to_as
from node.convert.needs import need_to_as
from node.convert.proposals import proposal_to_as
from node.storage.models import Evaluation, Experiment, Need, Proposal

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def objects(config: Any) -> dict[str, dict[str, Any]]:
    base = config.node.base_url
    need = Need(
        uri=f"{base}/needs/1",
        title="Abri vélo",
        text="Un abri.",
        state="in_circle",
        theme="mobility",
        place="",
        answer="",
        created_at=NOW,
        updated_at=NOW,
    )
    proposal = Proposal(
        uri=f"{base}/proposals/1",
        title="Abri",
        summary="",
        text="Texte.",
        state="in_deliberation",
        theme="mobility",
        created_at=NOW,
        updated_at=NOW,
    )
    experiment = Experiment(
        uri=f"{base}/experiments/1",
        title="Navette",
        hypothesis="",
        summary="",
        state="running",
        theme="mobility",
        starts_on=date(2026, 5, 1),
        ends_on=None,
        derived_from=None,
        adaptations="",
        created_at=NOW,
        updated_at=NOW,
    )
    evaluation = Evaluation(
        uri=f"{base}/evaluations/1",
        outcome="success",
        recommendation="generalise",
        lessons="Bien.",
        published_at=NOW,
    )
    return {
        "need": need_to_as(config, need, supports=0, circle_name="Mobilités"),
        "proposal": proposal_to_as(
            config,
            proposal,
            circle_uri=f"{base}/circles/1",
            circle_name="Mobilités",
            need_uris=[need.uri, f"{base}/needs/2"],
        ),
        "experiment": experiment_to_as(config, experiment, indicators=[]),
        "evaluation": evaluation_to_as(config, evaluation, experiment),
    }


def test_status_lines_are_french_by_default(make_config: Any) -> None:
    lines = {kind: doc["summary"] for kind, doc in objects(make_config()).items()}
    assert lines == {
        "need": "Besoin · confié au cercle Mobilités · 0 soutien",
        "proposal": "Proposition · en délibération · cercle Mobilités · répond à 2 besoins",
        "experiment": "Expérimentation · en cours · aucun indicateur",
        "evaluation": "Évaluation · succès · recommandation : généraliser",
    }


def test_status_lines_speak_english_on_an_english_territory(make_config: Any) -> None:
    documents = objects(make_config(territory={"languages": ["en"]}))
    lines = {kind: doc["summary"] for kind, doc in documents.items()}
    assert lines == {
        "need": "Need · with the Mobilités circle · 0 supports",
        "proposal": "Proposal · in deliberation · Mobilités circle · answers 2 needs",
        "experiment": "Experiment · running · no indicator",
        "evaluation": "Evaluation · success · recommendation: generalise",
    }
    assert documents["evaluation"]["name"] == "Evaluation: Navette"
