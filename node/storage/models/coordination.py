"""Tables of the coordinator role: the index of followed territories' objects (searched with
SQLite FTS5 or PostgreSQL full text, created by the migration), and territories discovered
through the ones followed, waiting for an admin's decision."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.domain.ids import new_id
from node.storage.base import Base, UTCDateTime, utcnow


class CoordinationEntry(Base):
    """One indexed object of a followed, indexable territory, in plain text and facts."""

    __tablename__ = "coordination_entries"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    #: experiment, evaluation, proposal or offer
    kind: Mapped[str] = mapped_column(String(16), index=True)
    territory_uri: Mapped[str] = mapped_column(String(2048), index=True)
    territory_name: Mapped[str] = mapped_column(String(2048), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    #: the searchable text: status line, content and hypothesis, as plain text
    body: Mapped[str] = mapped_column(Text, default="")
    #: title and body in lower case without accents: what PostgreSQL's full text reads
    folded: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(64), default="", index=True)
    state: Mapped[str] = mapped_column(String(32), default="")
    #: an evaluation's outcome (success, partial, failure, inconclusive)
    outcome: Mapped[str] = mapped_column(String(16), default="")
    #: an evaluation's experiment
    evaluates: Mapped[str | None] = mapped_column(String(2048), nullable=True, index=True)
    #: JSON list of the experiments an experiment replicates
    derived_from: Mapped[str] = mapped_column(Text, default="[]")
    #: JSON list of an experiment's indicators: name, unit, baseline, latest, target, direction
    indicators: Mapped[str] = mapped_column(Text, default="[]")
    url: Mapped[str] = mapped_column(String(2048), default="")
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DiscoveredTerritory(Base):
    """A territory found through a followed one (its following list, a replication): proposed
    to the coordinator's admin, who follows it or sets it aside."""

    __tablename__ = "discovered_territories"

    uri: Mapped[str] = mapped_column(String(2048), primary_key=True)
    #: the followed territory, or the experiment, it was found through
    found_via: Mapped[str] = mapped_column(String(2048))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: proposed, followed or dismissed
    state: Mapped[str] = mapped_column(String(16), default="proposed")


class CoordinationDigest(Base):
    """A digest the coordinator published: when, its post, and the period it covered."""

    __tablename__ = "coordination_digests"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    note_uri: Mapped[str] = mapped_column(String(2048))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
