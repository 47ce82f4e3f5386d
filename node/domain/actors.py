"""The kinds of local actor a node has, and what each is on the wire."""

from enum import StrEnum


class ActorKind(StrEnum):
    """Who speaks for what on a node."""

    INSTANCE = "instance"  #: the node itself (FEP-2677): signs fetches, follows relays
    TERRITORY = "territory"  #: the territory: publishes proposals, experiments, offers
    CIRCLE = "circle"  #: a working or activity circle
    PERSON = "person"  #: a resident's profile


#: The ActivityStreams type each kind is published as (DESIGN.md, "Federation model").
AS_TYPE: dict[ActorKind, str] = {
    ActorKind.INSTANCE: "Application",
    ActorKind.TERRITORY: "Group",
    ActorKind.CIRCLE: "Group",
    ActorKind.PERSON: "Person",
}

#: The project's domain class carried in `additionalType`, where there is one.
ADDITIONAL_TYPE: dict[ActorKind, str] = {
    ActorKind.TERRITORY: "tc:Territory",
    ActorKind.CIRCLE: "tc:Circle",
}


class Role(StrEnum):
    """What an account may do on its node."""

    RESIDENT = "resident"
    FACILITATOR = "facilitator"
    ADMIN = "admin"
    #: an account its owner deleted: anonymised, it cannot log in; its votes stay counted
    DELETED = "deleted"


#: How a resident who deleted their account is named wherever their needs, proposals,
#: amendments and history steps stay shown (French; pages translate it, see
#: node/web/locales/en/account.json).
FORMER_RESIDENT = "un·e ancien·ne résident·e"
