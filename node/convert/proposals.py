"""Proposals and amendments on the wire (vocabulary.md 5.4): `Page` documents with
`additionalType: tc:Proposal` and `proposalKind: proposal` or `amendment` (with `amends`),
plus the French labels of their states."""

from __future__ import annotations

from typing import Any

from instance_config import InstanceConfig
from node.convert.fediverse_html import readable_content, words
from node.convert.needs import author_fact, circle_label, status_line, theme_tag
from node.convert.objects import maillage_object
from node.convert.status_words import count_in, label_in, status_words
from node.storage.models import Amendment, Proposal
from protocols.html import text_to_html

#: A proposal's states as people read them (ProposalState token -> French label).
PROPOSAL_STATE_LABELS: dict[str, str] = {
    "draft": "brouillon",
    "in_deliberation": "en délibération",
    "adopted": "adoptée",
    "not_adopted": "non adoptée",
    "in_project": "en projet",
    "implemented": "mise en œuvre",
    "evaluated": "évaluée",
    "withdrawn": "retirée",
}

#: An amendment's states as people read them.
AMENDMENT_STATE_LABELS: dict[str, str] = {
    "proposed": "proposé",
    "accepted": "accepté",
    "rejected": "rejeté",
}


def proposal_summary(proposal: Proposal, circle_name: str, needs: int, language: str = "fr") -> str:
    """ "Proposition · en délibération · Cercle Mobilités · répond à 2 besoins" (in the
    territory's language)."""
    said = status_words(language)
    answered = count_in(language, needs, said["need_answered"], said["needs_answered"])
    return status_line(
        said["proposal"],
        label_in(language, PROPOSAL_STATE_LABELS.get(proposal.state, proposal.state)),
        circle_label(circle_name, language),
        said["answers"].format(count=answered) if needs else "",
    )


def proposal_to_as(
    config: InstanceConfig,
    proposal: Proposal,
    *,
    circle_uri: str,
    circle_name: str,
    need_uris: list[str],
    author_left: bool = False,
) -> dict[str, Any]:
    """The document served at a proposal's URL and sent in its Create and Updates (saying
    so when its author deleted their account: `author_left`).

    The circle that drafts it is `assignedTo`; the needs it answers are `wasDerivedFrom`
    (PROV: the proposal is derived from them). The written summary opens the text, since
    `summary` is the generated status line.
    """
    language = config.territory.default_language
    status = proposal_summary(proposal, circle_name, len(need_uris), language)
    content = readable_content(
        title=proposal.title,
        status=status,
        body=text_to_html(proposal.summary) + text_to_html(proposal.text),
        url=proposal.uri,
        language=language,
        facts=author_fact(language, author_left),
    )
    extra: dict[str, Any] = {
        "proposalKind": "proposal",
        "lifecycleState": proposal.state,
        "assignedTo": circle_uri,
        "wasDerivedFrom": need_uris,
    }
    if proposal.theme:
        extra["theme"] = proposal.theme
        extra["tag"] = [theme_tag(config, proposal.theme)]
    return maillage_object(
        config,
        as_type="Page",
        additional_type="tc:Proposal",
        uri=proposal.uri,
        name=proposal.title,
        status_line=status,
        content=content,
        published=proposal.created_at,
        updated=proposal.updated_at,
        extra=extra,
    )


def amendment_name(proposal: Proposal) -> str:
    """An amendment's title: "Amendement à « Navette du samedi »"."""
    return f"Amendement à « {proposal.title} »"


def amendment_to_as(
    config: InstanceConfig, amendment: Amendment, proposal: Proposal, author_left: bool = False
) -> dict[str, Any]:
    """The document of an amendment: the proposed text, then its rationale, and a link to
    the proposal it amends (and, when its author deleted their account, that it was a
    former resident: `author_left`)."""
    language = config.territory.default_language
    chosen = words(language)
    body = text_to_html(amendment.text)
    if amendment.rationale:
        body += f"<p><strong>{chosen['rationale']}</strong></p>" + text_to_html(amendment.rationale)
    state = AMENDMENT_STATE_LABELS.get(amendment.state, amendment.state)
    status = status_line("Amendement", state)
    name = amendment_name(proposal)
    content = readable_content(
        title=name,
        status=status,
        body=body,
        url=amendment.uri,
        language=language,
        facts=[(chosen["amends"], proposal.uri), *author_fact(language, author_left)],
    )
    return maillage_object(
        config,
        as_type="Page",
        additional_type="tc:Proposal",
        uri=amendment.uri,
        name=name,
        status_line=status,
        content=content,
        published=amendment.created_at,
        updated=amendment.decided_at,
        extra={
            "proposalKind": "amendment",
            "lifecycleState": amendment.state,
            "amends": proposal.uri,
            "inReplyTo": proposal.uri,
        },
    )
