"""Open data of the participation chain: needs, proposals, amendments and decisions with their
results, read in a few queries each and given in both formats (CSV rows, federated documents).

Only what the public pages show, and less: no author names (open data is copied and kept
forever; a page can be corrected), no supporter or voter lists, no account ids. Counts are
public; a decision's binding counts appear once it is closed, as on its page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from instance_config import InstanceConfig
from node.convert.decisions import decision_to_as
from node.convert.needs import need_to_as
from node.convert.proposals import amendment_to_as, proposal_to_as
from node.convert.urls import actor_id
from node.domain.participation import CHOICES, DecisionMethod, DecisionState
from node.services.open_data.formats import Cell, Column, Entry, joined
from node.services.participation.decision_views import stored_result
from node.storage.models import (
    Amendment,
    Circle,
    Decision,
    ExternalAnswer,
    LocalActor,
    Need,
    NeedSupport,
    Proposal,
    ProposalNeed,
)

#: Every choice token of every decision method, in display order, once each.
CHOICE_TOKENS: tuple[str, ...] = tuple(
    dict.fromkeys(token for choices in CHOICES.values() for token, _ in choices)
)

ID = Column("id", "Identifiant stable de l'enregistrement sur ce nœud.")
URL = Column("url", "Adresse de sa page, qui sert aussi son document fédéré (ActivityPub).")
CREATED = Column("created_at", "Date et heure de création (ISO 8601, heure du territoire).")
UPDATED = Column(
    "updated_at", "Date et heure de la dernière modification (ISO 8601, heure du territoire)."
)
THEME = Column("theme", "Thème, en code : mobility, food, energy, housing, health…")
CIRCLE = Column("circle", "Nom du cercle qui s'en occupe, s'il y en a un.")
CIRCLE_URL = Column("circle_url", "Adresse du cercle (acteur fédéré), s'il y en a un.")

NEED_COLUMNS = (
    ID,
    URL,
    Column("title", "Titre du besoin."),
    Column("text", "Texte du besoin, tel que publié."),
    THEME,
    Column("place", "Lieu concerné, tel qu'écrit par la personne (facultatif)."),
    Column(
        "state",
        "État : submitted (à trier), in_circle, in_proposal, answered ou merged.",
    ),
    Column("supports", "Nombre d'habitant·es qui le soutiennent."),
    CIRCLE,
    CIRCLE_URL,
    Column("merged_into", "Adresse du besoin dans lequel il a été fusionné."),
    Column("answer", "Réponse publiée quand le besoin a été clos avec une réponse."),
    CREATED,
    UPDATED,
)

PROPOSAL_COLUMNS = (
    ID,
    URL,
    Column("title", "Titre de la proposition."),
    Column("summary", "Résumé écrit par le cercle."),
    Column("text", "Texte de la proposition (après les amendements acceptés)."),
    THEME,
    Column(
        "state",
        "État : draft, in_deliberation, adopted, not_adopted, in_project, implemented…",
    ),
    Column("circle", "Nom du cercle qui la rédige."),
    Column("circle_url", "Adresse du cercle (acteur fédéré)."),
    Column(
        "needs",
        "Adresses des besoins auxquels elle répond, séparées par des espaces.",
    ),
    CREATED,
    UPDATED,
)

AMENDMENT_COLUMNS = (
    ID,
    URL,
    Column("proposal_url", "Adresse de la proposition amendée."),
    Column("proposal_title", "Titre de la proposition amendée."),
    Column("text", "Texte proposé pour remplacer celui de la proposition."),
    Column("rationale", "Motif de l'amendement."),
    Column("state", "État : proposed (proposé), accepted (accepté), rejected (rejeté)."),
    CREATED,
    Column(
        "decided_at", "Moment où le cercle l'a accepté ou rejeté (ISO 8601, heure du territoire)."
    ),
)

#: The description of each choice's columns: binding votes, then remote answers.
VOTE_DESCRIPTIONS = {
    "for": "Voix « pour » des habitant·es, à la clôture.",
    "against": "Voix « contre » des habitant·es, à la clôture.",
    "abstain": "Abstentions des habitant·es, à la clôture.",
    "consent": "Consentements des habitant·es, à la clôture.",
    "objection": "Objections des habitant·es, à la clôture.",
}
EXTERNAL_DESCRIPTIONS = {
    "for": "Réponses « pour » venues du fédivers (non décisives).",
    "against": "Réponses « contre » venues du fédivers (non décisives).",
    "abstain": "Abstentions venues du fédivers (non décisives).",
    "consent": "Consentements venus du fédivers (non décisifs).",
    "objection": "Objections venues du fédivers (non décisives).",
}
OTHER_VOTES = "Voix des habitant·es pour ce choix, à la clôture."
OTHER_EXTERNAL = "Réponses venues du fédivers pour ce choix (non décisives)."

DECISION_COLUMNS = (
    ID,
    URL,
    Column("question", "Question posée aux habitant·es."),
    Column("proposal_url", "Adresse de la proposition décidée."),
    Column("proposal_title", "Titre de la proposition décidée."),
    Column("method", "Méthode : majority (majorité) ou consent (consentement)."),
    Column("state", "État : scheduled (programmée), open (ouverte), closed (close)."),
    Column("opens_at", "Ouverture du vote (ISO 8601, heure du territoire)."),
    Column("closes_at", "Clôture du vote (ISO 8601, heure du territoire)."),
    Column("quorum", "Part des habitant·es qui doivent participer (de 0 à 1)."),
    Column("eligible", "Habitant·es appelé·es à voter, à la clôture."),
    Column("voters", "Votant·es, à la clôture."),
    Column("participation", "Votant·es / habitant·es à la clôture (de 0 à 1)."),
    Column("quorum_needed", "Nombre de votant·es que le quorum demandait."),
    Column("quorum_reached", "Quorum atteint : true ou false (vide avant la clôture)."),
    Column("outcome", "Issue à la clôture : adopted (adoptée) ou not_adopted."),
    *(Column(f"votes_{t}", VOTE_DESCRIPTIONS.get(t, OTHER_VOTES)) for t in CHOICE_TOKENS),
    *(Column(f"external_{t}", EXTERNAL_DESCRIPTIONS.get(t, OTHER_EXTERNAL)) for t in CHOICE_TOKENS),
    Column("external_total", "Total des réponses venues du fédivers (non décisives)."),
)


@dataclass(frozen=True, slots=True)
class CircleRef:
    """A circle as open data names it: its name and its actor's URL."""

    name: str
    url: str


async def circle_index(session: AsyncSession, config: InstanceConfig) -> dict[str, CircleRef]:
    """Every circle by id, with its name and actor URL (one query)."""
    rows = await session.execute(
        select(Circle.id, Circle.name, LocalActor).join(
            LocalActor, LocalActor.id == Circle.actor_id
        )
    )
    return {circle_id: CircleRef(name, actor_id(config, actor)) for circle_id, name, actor in rows}


async def uris_by_id(session: AsyncSession, model: Any) -> dict[str, str]:
    """id -> URL of every row of a table that has both (proposals, places, map actors)."""
    return {row_id: uri for row_id, uri in await session.execute(select(model.id, model.uri))}


async def need_entries(session: AsyncSession, config: InstanceConfig) -> list[Entry]:
    """Every need of the node, oldest first."""
    needs = list(await session.scalars(select(Need).order_by(Need.created_at, Need.id)))
    supports = {
        need_id: int(count)
        for need_id, count in await session.execute(
            select(NeedSupport.need_id, func.count()).group_by(NeedSupport.need_id)
        )
    }
    circles = await circle_index(session, config)
    uris = {need.id: need.uri for need in needs}
    entries = []
    for need in needs:
        circle = circles.get(need.circle_id) if need.circle_id else None
        merged_into = uris.get(need.merged_into_id) if need.merged_into_id else None
        count = supports.get(need.id, 0)
        row: dict[str, Cell] = {
            "id": need.id,
            "url": need.uri,
            "title": need.title,
            "text": need.text,
            "theme": need.theme,
            "place": need.place,
            "state": need.state,
            "supports": count,
            "circle": circle.name if circle else "",
            "circle_url": circle.url if circle else "",
            "merged_into": merged_into or "",
            "answer": need.answer,
            "created_at": need.created_at,
            "updated_at": need.updated_at,
        }
        item = need_to_as(
            config,
            need,
            supports=count,
            circle_uri=circle.url if circle else None,
            circle_name=circle.name if circle else None,
            merged_into_uri=merged_into,
        )
        entries.append(Entry(row, item))
    return entries


async def proposal_entries(session: AsyncSession, config: InstanceConfig) -> list[Entry]:
    """Every proposal of the node, oldest first, with the needs it answers."""
    proposals = list(
        await session.scalars(select(Proposal).order_by(Proposal.created_at, Proposal.id))
    )
    needs: dict[str, list[str]] = defaultdict(list)
    for proposal_id, need_uri in await session.execute(
        select(ProposalNeed.proposal_id, Need.uri)
        .join(Need, Need.id == ProposalNeed.need_id)
        .order_by(Need.created_at)
    ):
        needs[proposal_id].append(need_uri)
    circles = await circle_index(session, config)
    entries = []
    for proposal in proposals:
        circle = circles.get(proposal.circle_id, CircleRef("", ""))
        row: dict[str, Cell] = {
            "id": proposal.id,
            "url": proposal.uri,
            "title": proposal.title,
            "summary": proposal.summary,
            "text": proposal.text,
            "theme": proposal.theme,
            "state": proposal.state,
            "circle": circle.name,
            "circle_url": circle.url,
            "needs": joined(needs[proposal.id]),
            "created_at": proposal.created_at,
            "updated_at": proposal.updated_at,
        }
        item = proposal_to_as(
            config,
            proposal,
            circle_uri=circle.url,
            circle_name=circle.name,
            need_uris=needs[proposal.id],
        )
        entries.append(Entry(row, item))
    return entries


async def amendment_entries(session: AsyncSession, config: InstanceConfig) -> list[Entry]:
    """Every amendment of the node, oldest first, with the proposal it amends."""
    rows = await session.execute(
        select(Amendment, Proposal)
        .join(Proposal, Proposal.id == Amendment.proposal_id)
        .order_by(Amendment.created_at, Amendment.id)
    )
    entries = []
    for amendment, proposal in rows:
        row: dict[str, Cell] = {
            "id": amendment.id,
            "url": amendment.uri,
            "proposal_url": proposal.uri,
            "proposal_title": proposal.title,
            "text": amendment.text,
            "rationale": amendment.rationale,
            "state": amendment.state,
            "created_at": amendment.created_at,
            "decided_at": amendment.decided_at,
        }
        entries.append(Entry(row, amendment_to_as(config, amendment, proposal)))
    return entries


async def external_tallies(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Remote answers per decision and choice token: the non-binding tallies (one query)."""
    tallies: dict[str, dict[str, int]] = defaultdict(dict)
    for decision_id, choice, count in await session.execute(
        select(ExternalAnswer.decision_id, ExternalAnswer.choice, func.count()).group_by(
            ExternalAnswer.decision_id, ExternalAnswer.choice
        )
    ):
        tallies[decision_id][choice] = int(count)
    return tallies


def method_tokens(method: str) -> list[str]:
    """The choice tokens of a decision method (none for a method this node does not know)."""
    try:
        return [token for token, _ in CHOICES[DecisionMethod(method)]]
    except ValueError:
        return []


def _result_columns(decision: Decision) -> dict[str, Cell]:
    """The result columns of a closed decision (empty cells before closing)."""
    result = stored_result(decision)
    if decision.state != DecisionState.CLOSED or not result:
        return {}
    counts = result.get("counts", {})
    return {
        "eligible": result.get("eligible"),
        "voters": result.get("voters"),
        "participation": result.get("participation"),
        "quorum_needed": result.get("quorum_needed"),
        "quorum_reached": result.get("quorum_reached"),
        "outcome": "adopted" if result.get("adopted") else "not_adopted",
        **{f"votes_{token}": int(counts.get(token, 0)) for token in method_tokens(decision.method)},
    }


async def decision_entries(session: AsyncSession, config: InstanceConfig) -> list[Entry]:
    """Every decision of the node, by opening time, with its result once closed and the
    separate tally of answers from the fediverse."""
    rows = await session.execute(
        select(Decision, Proposal)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .order_by(Decision.opens_at, Decision.id)
    )
    tallies = await external_tallies(session)
    entries = []
    for decision, proposal in rows:
        external = tallies.get(decision.id, {})
        tokens = method_tokens(decision.method)
        row: dict[str, Cell] = {
            "id": decision.id,
            "url": decision.uri,
            "question": decision.question,
            "proposal_url": proposal.uri,
            "proposal_title": proposal.title,
            "method": decision.method,
            "state": decision.state,
            "opens_at": decision.opens_at,
            "closes_at": decision.closes_at,
            "quorum": decision.quorum,
            **_result_columns(decision),
            **{f"external_{token}": external.get(token, 0) for token in tokens},
            "external_total": sum(external.get(token, 0) for token in tokens),
        }
        item = decision_to_as(config, decision, proposal, stored_result(decision), external)
        entries.append(Entry(row, item))
    return entries
