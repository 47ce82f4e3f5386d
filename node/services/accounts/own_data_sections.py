"""The documented sections and fields of a resident's own-data file (node/services/accounts/
own_data.py): the JSON file and the CSV files of the zip use these names; the account page
lists them with their French descriptions (translated there)."""

from __future__ import annotations

from dataclasses import dataclass

from node.services.open_data.formats import Column

#: Sections made of one record (the others are lists of records).
SINGLE = ("account", "profile")


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the file: its name, what it holds (French) and its documented fields."""

    name: str
    title: str
    columns: tuple[Column, ...]


def _columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, description) for name, description in pairs)


_WHEN = ("created_at", "Date de création")

SECTIONS: tuple[Section, ...] = (
    Section(
        "account",
        "Votre compte",
        _columns(
            ("username", "Votre identifiant de connexion"),
            ("display_name", "Votre nom affiché"),
            ("role", "Votre rôle sur le nœud (resident, facilitator, admin)"),
            ("created_at", "Date de création du compte"),
            ("last_seen_at", "Date de votre dernière connexion"),
        ),
    ),
    Section(
        "profile",
        "Votre profil public",
        _columns(
            ("actor", "L'adresse de votre profil dans le fédivers"),
            ("handle", "Votre nom dans le fédivers (nom@domaine)"),
            ("display_name", "Votre nom affiché"),
            ("summary", "Votre présentation"),
            ("created_at", "Date de création du profil"),
        ),
    ),
    Section(
        "circles",
        "Vos cercles",
        _columns(
            ("circle", "Le nom du cercle"),
            ("slug", "L'identifiant du cercle"),
            ("role", "Votre rôle dans le cercle"),
            ("since", "Depuis quand"),
        ),
    ),
    Section(
        "needs",
        "Les besoins que vous avez exprimés",
        _columns(
            ("url", "L'adresse du besoin"),
            ("title", "Titre"),
            ("text", "Texte"),
            ("theme", "Thème"),
            ("place", "Lieu"),
            ("state", "État"),
            ("answer", "Réponse du territoire"),
            _WHEN,
            ("updated_at", "Dernière modification"),
        ),
    ),
    Section(
        "supports",
        "Les besoins que vous soutenez",
        _columns(
            ("need", "L'adresse du besoin"),
            ("need_title", "Son titre"),
            ("created_at", "Date du soutien"),
        ),
    ),
    Section(
        "comments",
        "Vos commentaires",
        _columns(
            ("url", "L'adresse du commentaire"),
            ("in_reply_to", "L'objet commenté"),
            ("text", "Texte"),
            ("published", "Date de publication"),
        ),
    ),
    Section(
        "offer_replies",
        "Vos réponses aux offres et demandes",
        _columns(
            ("url", "L'adresse de la réponse"),
            ("in_reply_to", "L'offre ou la demande"),
            ("text", "Texte"),
            ("published", "Date de publication"),
        ),
    ),
    Section(
        "proposals",
        "Les propositions que vous avez rédigées",
        _columns(
            ("url", "L'adresse de la proposition"),
            ("circle", "Le cercle"),
            ("title", "Titre"),
            ("summary", "Résumé"),
            ("text", "Texte"),
            ("theme", "Thème"),
            ("state", "État"),
            _WHEN,
            ("updated_at", "Dernière modification"),
        ),
    ),
    Section(
        "amendments",
        "Vos amendements",
        _columns(
            ("url", "L'adresse de l'amendement"),
            ("proposal", "La proposition amendée"),
            ("proposal_title", "Son titre"),
            ("text", "Texte proposé"),
            ("rationale", "Motif"),
            ("state", "État"),
            _WHEN,
            ("decided_at", "Date de la décision du cercle"),
        ),
    ),
    Section(
        "votes",
        "Vos votes",
        _columns(
            ("decision", "L'adresse de la décision"),
            ("question", "La question posée"),
            ("choice", "Votre choix"),
            ("comment", "Vos raisons (objection)"),
            ("cast_at", "Date du vote"),
        ),
    ),
    Section(
        "remote_answers",
        "Vos réponses aux décisions d'autres territoires",
        _columns(
            ("question", "L'adresse de la décision"),
            ("question_title", "La question posée"),
            ("choice", "Votre réponse"),
            ("answered_at", "Date de la réponse"),
        ),
    ),
    Section(
        "offers",
        "Vos offres et demandes",
        _columns(
            ("url", "L'adresse de l'offre"),
            ("purpose", "Offre ou demande"),
            ("kind", "Sorte (prêt, don, achat groupé, banque de temps)"),
            ("title", "Titre"),
            ("text", "Texte"),
            ("quantity", "Heures (banque de temps)"),
            ("minimum_quantity", "Quantité minimale (achat groupé)"),
            ("unit", "Unité"),
            ("available_from", "Disponible à partir du"),
            ("available_until", "Disponible jusqu'au"),
            ("place", "Lieu"),
            ("state", "État"),
            _WHEN,
            ("updated_at", "Dernière modification"),
        ),
    ),
)
