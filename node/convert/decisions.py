"""Decisions on the wire: a `Question` (vocabulary.md 5.5) that Mastodon shows as a poll.

The options are the method's French labels, so a Mastodon user's answer (a Note whose `name`
is the option) can be matched back; `replies.totalItems` carries the binding tally once the
decision is closed (zero before: residents' votes stay secret until closing), and remote
answers travel apart in `externalTally`, never mixed with the binding count.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from instance_config import InstanceConfig
from node.convert.fediverse_html import readable_content
from node.convert.fediverse_html import words as fediverse_words
from node.convert.notes import iso
from node.convert.objects import maillage_object
from node.domain.local_time import local_text
from node.domain.participation import CHOICES, DecisionMethod, DecisionState
from node.storage.models import Decision, Proposal

#: How the status line names a day: "15/04".
DAY_MONTH = "%d/%m"

#: Words of the status line and of the content, per object language (French first).
_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "decision": "Décision",
        "scheduled": "ouverture le {day}",
        "open": "ouverte jusqu'au {day}",
        "closed": "close",
        "adopted": "adoptée",
        "not_adopted": "non adoptée",
        "no_quorum": "quorum non atteint",
        "majority": "vote à la majorité",
        "consent": "consentement",
        "intro": "Décision par {method} sur la proposition « {title} ».",
        "residents": (
            "Seul·es les habitant·es inscrit·es de {territory} votent, sur {link}. "
            "Les réponses venues du fédivers sont comptées à part, à titre indicatif."
        ),
        "result": "Résultat : {outcome}. {voters} votant·es sur {eligible} habitant·es, {quorum}.",
        "quorum_reached": "quorum atteint",
    },
    "en": {
        "decision": "Decision",
        "scheduled": "opens on {day}",
        "open": "open until {day}",
        "closed": "closed",
        "adopted": "adopted",
        "not_adopted": "not adopted",
        "no_quorum": "quorum not reached",
        "majority": "majority vote",
        "consent": "consent",
        "intro": "Decision by {method} on the proposal “{title}”.",
        "residents": (
            "Only the registered residents of {territory} vote, on {link}. "
            "Answers from the fediverse are counted apart, as a non-binding signal."
        ),
        "result": "Result: {outcome}. {voters} voters out of {eligible} residents, {quorum}.",
        "quorum_reached": "quorum reached",
    },
}


def _words(config: InstanceConfig) -> dict[str, str]:
    return _WORDS.get(config.territory.default_language, _WORDS["fr"])


def decision_summary(config: InstanceConfig, decision: Decision, result: dict[str, Any]) -> str:
    """The status line, in the content and for our peers: "Décision · ouverte jusqu'au
    15/04 · consentement".

    >>> from instance_config import parse_config
    >>> from datetime import UTC, datetime
    >>> from pathlib import Path
    >>> config = parse_config({"node": {"base_url": "https://x.example"},
    ...     "territory": {"name": "X"}, "database": {"url": "sqlite:///x"}}, Path("/tmp"), {})
    >>> d = Decision(method="consent", state="open", opens_at=datetime(2026, 4, 1, tzinfo=UTC),
    ...              closes_at=datetime(2026, 4, 15, 16, tzinfo=UTC))
    >>> decision_summary(config, d, {})
    "Décision · ouverte jusqu'au 15/04 · consentement"
    """
    words, zone = _words(config), config.territory.zone
    if decision.state == DecisionState.CLOSED:
        status = f"{words['closed']} · {_outcome_words(words, result)}"
    elif decision.state == DecisionState.OPEN:
        status = words["open"].format(day=local_text(decision.closes_at, zone, DAY_MONTH))
    else:
        status = words["scheduled"].format(day=local_text(decision.opens_at, zone, DAY_MONTH))
    return f"{words['decision']} · {status} · {words[decision.method]}"


def _outcome_words(words: dict[str, str], result: dict[str, Any]) -> str:
    if result.get("adopted"):
        return words["adopted"]
    if not result.get("quorum_reached", True):
        return f"{words['not_adopted']} ({words['no_quorum']})"
    return words["not_adopted"]


def decision_outcome(result: dict[str, Any]) -> str:
    """The result in one token, as the closed `Question` carries it in `outcome`.

    >>> decision_outcome({"adopted": True, "quorum_reached": True})
    'adopted'
    >>> decision_outcome({"adopted": False, "quorum_reached": False})
    'no_quorum'
    """
    if result.get("adopted"):
        return "adopted"
    if not result.get("quorum_reached", True):
        return "no_quorum"
    return "not_adopted"


def option_labels(method: str) -> list[tuple[str, str]]:
    """The (token, French label) options of a method, in display order."""
    return list(CHOICES[DecisionMethod(method)])


def _moment_text(config: InstanceConfig, moment: datetime) -> str:
    return local_text(moment, config.territory.zone, "%d/%m/%Y %H:%M")


def _content(
    config: InstanceConfig, decision: Decision, proposal: Proposal, result: dict[str, Any]
) -> str:
    """The HTML content, readable on its own (Mastodon shows it above the poll): the
    question, the status line, what is decided and how, when the vote runs, the result once
    closed, and that only residents vote, with the link to the decision's page."""
    language = config.territory.default_language
    words = _words(config)
    shared = fediverse_words(language)
    link = f'<a href="{html.escape(decision.uri)}">{html.escape(decision.uri)}</a>'
    paragraphs = [
        html.escape(words["intro"].format(method=words[decision.method], title=proposal.title)),
    ]
    if decision.state == DecisionState.CLOSED and result:
        quorum = words["quorum_reached"] if result["quorum_reached"] else words["no_quorum"]
        counts = ", ".join(
            f"{label} : {result['counts'].get(token, 0)}"
            for token, label in option_labels(decision.method)
        )
        outcome = _outcome_words(words, result)
        summary = words["result"].format(
            outcome=outcome, voters=result["voters"], eligible=result["eligible"], quorum=quorum
        )
        paragraphs.append(html.escape(f"{summary} {counts}."))
    residents = words["residents"].format(territory=html.escape(config.territory.name), link=link)
    window = shared["between"].format(
        start=_moment_text(config, decision.opens_at),
        end=_moment_text(config, decision.closes_at),
    )
    return readable_content(
        title=decision.question,
        status=decision_summary(config, decision, result),
        body="".join(f"<p>{paragraph}</p>" for paragraph in paragraphs),
        url=decision.uri,
        language=language,
        facts=[(shared["vote"], window)],
        ending=f"<p>{residents}</p>",
    )


def decision_to_as(
    config: InstanceConfig,
    decision: Decision,
    proposal: Proposal,
    result: dict[str, Any],
    external: dict[str, int],
) -> dict[str, Any]:
    """The `Question` document of a decision.

    `result` is the stored result (empty until closing); `external` counts remote answers
    per choice token. Mastodon shows `content` above the poll it builds from `oneOf` and
    `endTime`; no `summary` (it would fold the poll behind a content warning) and no `name`
    (GoToSocial's fallback for one). No `updated` is set, so Mastodon applies tally updates
    without marking the poll as edited.
    """
    closed = decision.state == DecisionState.CLOSED
    counts: dict[str, int] = result.get("counts", {}) if closed else {}
    options = option_labels(decision.method)
    extra: dict[str, Any] = {
        "oneOf": [
            {
                "type": "Note",
                "name": label,
                "replies": {"type": "Collection", "totalItems": counts.get(token, 0)},
            }
            for token, label in options
        ],
        "endTime": iso(decision.closes_at),
        "startTime": iso(decision.opens_at),
        "decides": proposal.uri,
        "decisionMethod": decision.method,
        "binding": True,
        "eligibility": "residents",
        "quorum": decision.quorum,
        "lifecycleState": decision.state,
        "externalTally": {label: external.get(token, 0) for token, label in options},
    }
    if closed:
        # voting ended at the announced time (later votes are refused), whenever the
        # scheduler counted them; and Mastodon then keeps the same expiry as `endTime`
        extra["closed"] = iso(decision.closes_at)
        if "eligible" in result:
            extra["eligibleCount"] = result["eligible"]
        if result:  # for neighbouring territories' pages, which show the result
            extra["outcome"] = decision_outcome(result)
    return maillage_object(
        config,
        as_type="Question",
        additional_type="tc:Decision",
        uri=decision.uri,
        name=decision.question,
        status_line=decision_summary(config, decision, result),
        content=_content(config, decision, proposal, result),
        published=decision.opens_at,
        extra=extra,
    )
