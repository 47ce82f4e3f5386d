"""The words of generated status lines (the `summary` other servers show under a title), in
the territory's language: French, or English on an English territory."""

from __future__ import annotations

#: French label -> English label, for every state, outcome and recommendation a status line
#: names (needs, proposals, experiments, evaluations).
_ENGLISH_LABELS = {
    "à trier": "to triage",
    "confié à un cercle": "with a circle",
    "repris dans une proposition": "taken up in a proposal",
    "répondu": "answered",
    "fusionné": "merged",
    "brouillon": "draft",
    "en délibération": "in deliberation",
    "adoptée": "adopted",
    "non adoptée": "not adopted",
    "en projet": "in project",
    "mise en œuvre": "implemented",
    "évaluée": "evaluated",
    "retirée": "withdrawn",
    "proposée": "proposed",
    "en cours": "running",
    "en pause": "paused",
    "en évaluation": "being evaluated",
    "terminée": "concluded",
    "succès": "success",
    "partiel": "partial",
    "échec": "failure",
    "non concluant": "inconclusive",
    "généraliser": "generalise",
    "adapter": "adapt",
    "arrêter": "stop",
}

_WORDS = {
    "fr": {
        "need": "Besoin",
        "proposal": "Proposition",
        "experiment": "Expérimentation",
        "evaluation": "Évaluation",
        "support": "soutien",
        "supports": "soutiens",
        "need_answered": "besoin",
        "needs_answered": "besoins",
        "answers": "répond à {count}",
        "indicator": "indicateur",
        "indicators": "indicateurs",
        "no_indicator": "aucun indicateur",
        "recommendation": "recommandation : {value}",
        "in_circle": "confié au {circle}",
    },
    "en": {
        "need": "Need",
        "proposal": "Proposal",
        "experiment": "Experiment",
        "evaluation": "Evaluation",
        "support": "support",
        "supports": "supports",
        "need_answered": "need",
        "needs_answered": "needs",
        "answers": "answers {count}",
        "indicator": "indicator",
        "indicators": "indicators",
        "no_indicator": "no indicator",
        "recommendation": "recommendation: {value}",
        "in_circle": "with the {circle}",
    },
}


def status_words(language: str) -> dict[str, str]:
    """The fixed words of status lines in `language` (French when it has none of its own).

    >>> status_words("en")["need"], status_words("de")["need"]
    ('Need', 'Besoin')
    """
    return _WORDS.get(language, _WORDS["fr"])


def label_in(language: str, french: str) -> str:
    """A state, outcome or recommendation label (given in French) in `language`.

    >>> label_in("en", "en délibération"), label_in("fr", "en délibération")
    ('in deliberation', 'en délibération')
    """
    return _ENGLISH_LABELS.get(french, french) if language == "en" else french


def count_in(language: str, count: int, singular: str, plural: str) -> str:
    """ "1 soutien", "12 soutiens"; in English only 1 takes the singular ("0 supports").

    >>> count_in("fr", 0, "soutien", "soutiens"), count_in("en", 0, "support", "supports")
    ('0 soutien', '0 supports')
    """
    one = count < 2 if language != "en" else count == 1
    return f"{count} {singular if one else plural}"
